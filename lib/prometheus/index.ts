/**
 * `rxwal/prometheus` — a {@link ScannerMetrics} sink that exports the scanner's metric families
 * (reference § 7.1) through prom-client 15, an optional peer dependency.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { prometheusMetrics } from 'rxwal/prometheus';
 *
 * const registry = new Registry();
 * scanWal(wal, { metrics: prometheusMetrics(registry, { channel: wal.channel }) }).subscribe();
 * const text = await registry.metrics(); // rxwal_scanner_total{channel_name="p0",...} 1
 * ```
 * @packageDocumentation
 */
import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';

import { ConfigError } from '../errors.js';
import { loadPeer } from '../internal/loadPeer.js';
import type { MessageType } from '../message/message.js';
import type {
  ScannerInfo,
  ScannerLag,
  ScannerMetrics,
  ScannerModel,
} from '../observability/metrics.js';

/** prom-client, loaded when `rxwal/prometheus` is: a missing peer fails with what to install. */
const { Counter, Gauge, Histogram } = loadPeer<typeof PromClient>({
  name: 'prom-client',
  range: '^15.0.0',
  neededBy: 'rxwal/prometheus',
});
type Counter = PromClient.Counter;
type Gauge = PromClient.Gauge;
type Histogram = PromClient.Histogram;

/** Options of {@link prometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /**
   * The channel (pchannel) every event of this sink is counted under: label `channel_name`.
   * Recommended. Absent: the sink learns it from the first scanner that opens; a pause at start
   * happens before that and is then counted under `channel_name=""`.
   */
  channel?: string;
  /** Prefix of every metric name; default `'rxwal_'`. */
  prefix?: string;
  /** Constant labels added to every series, e.g. `{ node_id: '3' }`. */
  labels?: Readonly<Record<string, string>>;
  /** Buckets (bytes) of the two message-size histograms; default {@link MESSAGE_BYTES_BUCKETS}. */
  buckets?: readonly number[];
  /** Buckets (seconds) of the pause-duration histogram; default {@link PAUSE_SECONDS_BUCKETS}. */
  pauseBuckets?: readonly number[];
}

/**
 * The reference's message-size buckets: 10 exponential from 64 B to 8 MiB (factor 2^(17/9)),
 * rounded to whole bytes.
 *
 * @example
 * ```ts
 * prometheusMetrics(registry, { buckets: MESSAGE_BYTES_BUCKETS.slice(0, 5) });
 * ```
 */
export const MESSAGE_BYTES_BUCKETS: readonly number[] = Object.freeze([
  64, 237, 878, 3251, 12040, 44590, 165140, 611597, 2265049, 8388608,
]);

/**
 * Default buckets (seconds) of the pause-duration histogram: a pause is an operator's
 * intervention and lasts from seconds to hours.
 *
 * @example
 * ```ts
 * prometheusMetrics(registry, { pauseBuckets: [...PAUSE_SECONDS_BUCKETS, 7 * 86400] });
 * ```
 */
export const PAUSE_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.1, 1, 5, 15, 60, 300, 900, 3600, 14400, 86400,
]);

/**
 * A {@link ScannerMetrics} that exports rxwal's metric families on a prom-client `Registry`.
 *
 * Families (with the default prefix; every series also carries `channel_name` and the
 * constant `labels`):
 *
 * | metric | type | labels | meaning |
 * |---|---|---|---|
 * | `rxwal_scanner_total` | gauge | `scanner_model` | live scanners per model (`catchup`, `tailing`) |
 * | `rxwal_scanner_pause_consumption` | gauge | | scanners waiting at their pause gate right now |
 * | `rxwal_scanner_pause_duration_seconds` | histogram | | how long each pause lasted |
 * | `rxwal_scan_message_bytes` | histogram | `scanner_model` | size of every observed message |
 * | `rxwal_scan_message_total` | counter | `message_type`, `scanner_model` | observed messages |
 * | `rxwal_scan_pass_message_bytes` | histogram | `scanner_model` | size of messages that passed the vchannel filter |
 * | `rxwal_scan_pass_message_total` | counter | `message_type`, `scanner_model` | those messages |
 * | `rxwal_scan_time_tick_violation_message_total` | counter | `message_type`, `scanner_model` | messages dropped below a released tick |
 * | `rxwal_scan_txn_total` | counter | `state` | `autocommit`, `committed`, `rolledBack`, `expired`, `error` |
 * | `rxwal_scanner_pending_queue_bytes` | gauge | | Σ bytes waiting for pull consumers |
 * | `rxwal_scanner_time_tick_buf_bytes` | gauge | | Σ bytes in reorder buffers |
 * | `rxwal_scanner_txn_buf_bytes` | gauge | | Σ bytes in txn buffers |
 * | `rxwal_scanner_retries_total` | counter | `code` | read errors the scanners retried, by error code |
 * | `rxwal_scanner_lag_seconds` | gauge | `scanner_name` | newest time tick written minus the last delivered one |
 * | `rxwal_scanner_lag_messages` | gauge | `scanner_name` | records written after the last delivered one (backends with numeric ids) |
 *
 * - Metrics are registered on `registry` only, never on prom-client's global registry.
 * - Many sinks may share one registry (one per channel, or one per scanner): a family already
 *   registered under the same name is reused; it must be of the same type with the same label
 *   names (and buckets), otherwise {@link ConfigError}.
 * - One sink is for one channel. The ScannerMetrics events carry no channel, so every event is
 *   counted under `options.channel`, or the channel of the first scanner that opened through this
 *   sink. A scanner of another channel opening through it fails with {@link ConfigError}.
 * - Gauges sum the deltas of every scanner of the channel, so a closing scanner's contributions
 *   leave them (its buffers report their bytes back to 0, its model is counted down).
 * - When the last opened scanner of a channel closes, and its byte gauges are back at 0 and no
 *   scanner of it is paused, every series of that channel (counters and histograms included) is
 *   removed from the registry; the next scanner starts them afresh. The removal runs in a
 *   microtask, after the synchronous teardown has reported everything.
 * - A scanner closed while it waits at a start gate never opened: its pause series stay (at 0)
 *   until the channel's next removal. Without `channel`, such `channel_name=""` series stay.
 *
 * @param registry the prom-client registry to register on
 * @param options channel, name prefix, constant labels, buckets
 * @returns a sink to pass as `metrics` to `scanWal` (or to operators)
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { prometheusMetrics } from 'rxwal/prometheus';
 *
 * const registry = new Registry();
 * const metrics = prometheusMetrics(registry, { channel: wal.channel, labels: { node_id: '1' } });
 * scanWal(wal, { metrics, pause$ }).subscribe(apply);
 * http.createServer(async (_req, res) => res.end(await registry.metrics())).listen(9464);
 * ```
 */
export function prometheusMetrics(
  registry: Registry,
  options: PrometheusMetricsOptions = {},
): ScannerMetrics {
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof registry.getSingleMetric !== 'function' ||
    typeof registry.registerMetric !== 'function'
  ) {
    throw new ConfigError('registry', registry, 'must be a prom-client Registry');
  }
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', options, 'must be an object');
  }
  const prefix = options.prefix ?? 'rxwal_';
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new ConfigError('prefix', prefix, 'must be a valid metric name prefix');
  }
  const constantLabels = checkLabels(options.labels ?? {});
  const buckets = checkBuckets(options.buckets ?? MESSAGE_BYTES_BUCKETS, 'buckets');
  const pauseBuckets = checkBuckets(options.pauseBuckets ?? PAUSE_SECONDS_BUCKETS, 'pauseBuckets');
  const channel = options.channel;
  if (channel !== undefined && typeof channel !== 'string') {
    throw new ConfigError('channel', channel, 'must be a string');
  }
  const families = registerFamilies(
    registry,
    prefix,
    Object.keys(constantLabels),
    buckets,
    pauseBuckets,
  );
  const book = channelBook(registry, prefix, families, constantLabels);
  return new PrometheusScannerMetrics(book, channel);
}

/** The label every series carries besides the constant ones. */
const CHANNEL_LABEL = 'channel_name';
const RESERVED_LABELS = new Set([
  CHANNEL_LABEL,
  'scanner_model',
  'message_type',
  'state',
  'le',
  'code',
  'scanner_name',
]);

function checkLabels(labels: unknown): Readonly<Record<string, string>> {
  if (typeof labels !== 'object' || labels === null) {
    throw new ConfigError('labels', labels, 'must be an object of label names to strings');
  }
  const out: Record<string, string> = {};
  for (const name of Object.keys(labels).sort()) {
    const value = (labels as Record<string, unknown>)[name];
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || name.startsWith('__')) {
      throw new ConfigError(`labels.${name}`, value, 'is not a valid label name');
    }
    if (RESERVED_LABELS.has(name)) {
      throw new ConfigError(`labels.${name}`, value, 'is a label rxwal sets itself');
    }
    if (typeof value !== 'string')
      throw new ConfigError(`labels.${name}`, value, 'must be a string');
    out[name] = value;
  }
  return out;
}

function checkBuckets(buckets: unknown, option: string): readonly number[] {
  if (
    !Array.isArray(buckets) ||
    buckets.length === 0 ||
    !buckets.every(
      (b: unknown, i) =>
        typeof b === 'number' && Number.isFinite(b) && (i === 0 || b > buckets[i - 1]),
    )
  ) {
    throw new ConfigError(
      option,
      buckets,
      'must be a non-empty array of increasing finite numbers',
    );
  }
  return buckets as readonly number[];
}

/** The metric families of one registry and prefix. */
interface Families {
  readonly scanners: Gauge;
  readonly paused: Gauge;
  readonly pauseSeconds: Histogram;
  readonly messageBytes: Histogram;
  readonly messages: Counter;
  readonly passBytes: Histogram;
  readonly passMessages: Counter;
  readonly violations: Counter;
  readonly txn: Counter;
  readonly pendingBytes: Gauge;
  readonly reorderBytes: Gauge;
  readonly txnBytes: Gauge;
  readonly retries: Counter;
  readonly lagSeconds: Gauge;
  readonly lagMessages: Gauge;
}

type Family = Families[keyof Families];

type FamilyKind = 'gauge' | 'counter' | 'histogram';

/** What each family is: kind, name without the prefix, help, variable labels, buckets. */
const FAMILY_SPECS: Readonly<
  Record<
    keyof Families,
    {
      kind: FamilyKind;
      name: string;
      help: string;
      labels: readonly string[];
      buckets?: 'bytes' | 'pause';
    }
  >
> = {
  scanners: {
    kind: 'gauge',
    name: 'scanner_total',
    help: 'Live scanners per model.',
    labels: ['scanner_model'],
  },
  paused: {
    kind: 'gauge',
    name: 'scanner_pause_consumption',
    help: 'Scanners waiting at their pause gate.',
    labels: [],
  },
  pauseSeconds: {
    kind: 'histogram',
    name: 'scanner_pause_duration_seconds',
    help: 'How long scanners were held by their pause gate.',
    labels: [],
    buckets: 'pause',
  },
  messageBytes: {
    kind: 'histogram',
    name: 'scan_message_bytes',
    help: 'Size of every message that passed the deliver filters.',
    labels: ['scanner_model'],
    buckets: 'bytes',
  },
  messages: {
    kind: 'counter',
    name: 'scan_message_total',
    help: 'Messages that passed the deliver filters.',
    labels: ['message_type', 'scanner_model'],
  },
  passBytes: {
    kind: 'histogram',
    name: 'scan_pass_message_bytes',
    help: 'Size of every data message that passed the vchannel filter.',
    labels: ['scanner_model'],
    buckets: 'bytes',
  },
  passMessages: {
    kind: 'counter',
    name: 'scan_pass_message_total',
    help: 'Data messages that passed the vchannel filter.',
    labels: ['message_type', 'scanner_model'],
  },
  violations: {
    kind: 'counter',
    name: 'scan_time_tick_violation_message_total',
    help: 'Messages dropped because their time tick is below one already released.',
    labels: ['message_type', 'scanner_model'],
  },
  txn: {
    kind: 'counter',
    name: 'scan_txn_total',
    help: 'Transaction outcomes in the txn buffer.',
    labels: ['state'],
  },
  pendingBytes: {
    kind: 'gauge',
    name: 'scanner_pending_queue_bytes',
    help: 'Bytes waiting for pull consumers.',
    labels: [],
  },
  reorderBytes: {
    kind: 'gauge',
    name: 'scanner_time_tick_buf_bytes',
    help: 'Bytes held by reorder buffers.',
    labels: [],
  },
  txnBytes: {
    kind: 'gauge',
    name: 'scanner_txn_buf_bytes',
    help: 'Bytes held by txn buffers.',
    labels: [],
  },
  retries: {
    kind: 'counter',
    name: 'scanner_retries_total',
    help: 'Read errors the scanners retried, by error code.',
    labels: ['code'],
  },
  lagSeconds: {
    kind: 'gauge',
    name: 'scanner_lag_seconds',
    help: 'Newest time tick written minus the last time tick delivered, per scanner.',
    labels: ['scanner_name'],
  },
  lagMessages: {
    kind: 'gauge',
    name: 'scanner_lag_messages',
    help: 'Records written after the last delivered one, per scanner (numeric ids only).',
    labels: ['scanner_name'],
  },
};

const KINDS = { gauge: Gauge, counter: Counter, histogram: Histogram } as const;

/**
 * The families on `registry`: every existing one is checked before any is created, so a
 * conflict leaves the registry as it was.
 */
function registerFamilies(
  registry: Registry,
  prefix: string,
  constantNames: readonly string[],
  buckets: readonly number[],
  pauseBuckets: readonly number[],
): Families {
  const plan = (Object.keys(FAMILY_SPECS) as (keyof Families)[]).map((key) => {
    const spec = FAMILY_SPECS[key];
    const name = `${prefix}${spec.name}`;
    const labelNames = [...constantNames, CHANNEL_LABEL, ...spec.labels];
    const bounds =
      spec.buckets === undefined ? undefined : spec.buckets === 'bytes' ? buckets : pauseBuckets;
    const existing = existingFamily(registry, spec.kind, name, labelNames, bounds);
    return { key, spec, name, labelNames, bounds, existing };
  });
  const families: Partial<Record<keyof Families, Family>> = {};
  for (const { key, spec, name, labelNames, bounds, existing } of plan) {
    const config = { name, help: spec.help, labelNames, registers: [registry] };
    families[key] =
      existing ??
      (spec.kind === 'gauge'
        ? new Gauge(config)
        : spec.kind === 'counter'
          ? new Counter(config)
          : new Histogram({ ...config, buckets: [...(bounds ?? [])] }));
  }
  return families as Families;
}

/** The family already registered under `name`, checked; undefined when there is none. */
function existingFamily(
  registry: Registry,
  kind: FamilyKind,
  name: string,
  labelNames: readonly string[],
  bounds: readonly number[] | undefined,
): Family | undefined {
  const existing: unknown = registry.getSingleMetric(name);
  if (existing === undefined) return undefined;
  if (!(existing instanceof KINDS[kind])) {
    throw new ConfigError('registry', name, `already holds ${name} as another kind of metric`);
  }
  // prom-client keeps these on the metric without declaring them
  const shape = existing as unknown as {
    labelNames?: readonly string[];
    upperBounds?: readonly number[];
  };
  if (shape.labelNames !== undefined && !sameList(shape.labelNames, labelNames)) {
    throw new ConfigError(
      'labels',
      shape.labelNames,
      `${name} is registered with other label names than [${labelNames.join(', ')}]`,
    );
  }
  if (
    bounds !== undefined &&
    shape.upperBounds !== undefined &&
    !sameList(shape.upperBounds, bounds)
  ) {
    throw new ConfigError('buckets', bounds, `${name} is registered with other buckets`);
  }
  return existing as Family;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The series of one channel (with one set of constant labels), shared by every sink. */
class ChannelSeries {
  /** Scanners opened and not closed yet. */
  live = 0;
  paused = 0;
  pendingBytes = 0;
  reorderBytes = 0;
  txnBytes = 0;
  /** A scanner opened since the series were last removed. */
  private opened = false;
  private removalQueued = false;
  /** Every series written since the last removal, to remove exactly those. */
  private readonly series = new Map<string, { family: Family; labels: Record<string, string> }>();

  constructor(
    readonly families: Families,
    private readonly base: Readonly<Record<string, string>>,
  ) {}

  /** The labels of the series of family `name` with these variable labels, recorded for removal. */
  labels(
    name: keyof Families,
    names: readonly string[],
    ...values: string[]
  ): Record<string, string> {
    const key = values.length === 0 ? name : `${name}\u0000${values.join('\u0000')}`;
    let entry = this.series.get(key);
    if (entry === undefined) {
      const labels: Record<string, string> = { ...this.base };
      names.forEach((label, i) => (labels[label] = values[i] ?? ''));
      entry = { family: this.families[name], labels };
      this.series.set(key, entry);
    }
    return entry.labels;
  }

  scannerOpened(): void {
    this.live += 1;
    this.opened = true;
  }

  /** Removes every series once the channel has no opened scanner, no pause, no bytes. */
  settle(): void {
    if (!this.opened || this.removalQueued || !this.idle()) return;
    this.removalQueued = true;
    queueMicrotask(() => {
      this.removalQueued = false;
      if (!this.opened || !this.idle()) return;
      this.opened = false;
      for (const { family, labels } of this.series.values()) family.remove(labels);
      this.series.clear();
    });
  }

  private idle(): boolean {
    return (
      this.live === 0 &&
      this.paused === 0 &&
      this.pendingBytes === 0 &&
      this.reorderBytes === 0 &&
      this.txnBytes === 0
    );
  }
}

/** The variable label names of the families, in the order `labels()` takes their values. */
const MODEL = ['scanner_model'] as const;
const TYPE_AND_MODEL = ['message_type', 'scanner_model'] as const;
const STATE = ['state'] as const;
const CODE = ['code'] as const;
const SCANNER = ['scanner_name'] as const;
const NONE = [] as const;

/** The channels of one registry, prefix and set of constant labels. */
interface ChannelBook {
  channel(name: string): ChannelSeries;
}

const books = new WeakMap<Registry, Map<string, Map<string, ChannelSeries>>>();

function channelBook(
  registry: Registry,
  prefix: string,
  families: Families,
  constantLabels: Readonly<Record<string, string>>,
): ChannelBook {
  let byPrefix = books.get(registry);
  if (byPrefix === undefined) books.set(registry, (byPrefix = new Map()));
  const key = `${prefix}\u0000${JSON.stringify(constantLabels)}`;
  let channels = byPrefix.get(key);
  if (channels === undefined) byPrefix.set(key, (channels = new Map()));
  const known = channels;
  return {
    channel(name) {
      let series = known.get(name);
      if (series === undefined) {
        series = new ChannelSeries(families, { ...constantLabels, [CHANNEL_LABEL]: name });
        known.set(name, series);
      }
      return series;
    },
  };
}

/** One sink: every event counted under its channel's series. */
class PrometheusScannerMetrics implements ScannerMetrics {
  private bound: ChannelSeries | undefined;
  /** The channel learned from the first scanner that opened, when `options.channel` is absent. */
  private learned: string | undefined;
  /** Pauses started through this sink and not ended yet, by the series they were counted in. */
  private readonly pausedIn = new Map<ChannelSeries, number>();

  constructor(
    private readonly book: ChannelBook,
    private readonly channel: string | undefined,
  ) {
    if (channel !== undefined) this.bound = book.channel(channel);
  }

  /** The series events go to: the sink's channel, or `channel_name=""` before it is known. */
  private get current(): ChannelSeries {
    return this.bound ?? this.book.channel('');
  }

  private seriesOf(scanner: ScannerInfo): ChannelSeries {
    const channel: unknown = scanner.channel;
    if (typeof channel !== 'string') {
      throw new ConfigError('scanner.channel', channel, 'must be a string');
    }
    const expected = this.channel ?? this.learned;
    if (expected !== undefined && channel !== expected) {
      throw new ConfigError(
        'scanner.channel',
        channel,
        `this prometheusMetrics() sink counts channel '${expected}'; create one sink per channel`,
      );
    }
    this.bound ??= this.book.channel(channel);
    this.learned ??= channel;
    return this.bound;
  }

  scannerOpened(scanner: ScannerInfo): void {
    this.seriesOf(scanner).scannerOpened();
  }

  scannerClosed(scanner: ScannerInfo): void {
    const series = this.seriesOf(scanner);
    if (scanner.model !== undefined) {
      series.families.scanners.dec(series.labels('scanners', MODEL, scanner.model));
    }
    // a closed scanner has no lag: its series go now, not when the whole channel settles
    const { lagSeconds, lagMessages } = series.families;
    lagSeconds.remove(series.labels('lagSeconds', SCANNER, scanner.name));
    lagMessages.remove(series.labels('lagMessages', SCANNER, scanner.name));
    series.live -= 1;
    series.settle();
  }

  switchModel(from: ScannerModel | undefined, to: ScannerModel): void {
    const series = this.current;
    const { scanners } = series.families;
    if (from !== undefined) scanners.dec(series.labels('scanners', MODEL, from));
    scanners.inc(series.labels('scanners', MODEL, to));
  }

  observeMessage(model: ScannerModel, type: MessageType, bytes: number): void {
    const series = this.current;
    const { messageBytes, messages } = series.families;
    messageBytes.observe(series.labels('messageBytes', MODEL, model), bytes);
    messages.inc(series.labels('messages', TYPE_AND_MODEL, type, model));
  }

  observePassedMessage(model: ScannerModel, type: MessageType, bytes: number): void {
    const series = this.current;
    const { passBytes, passMessages } = series.families;
    passBytes.observe(series.labels('passBytes', MODEL, model), bytes);
    passMessages.inc(series.labels('passMessages', TYPE_AND_MODEL, type, model));
  }

  observeTimeTickViolation(model: ScannerModel, type: MessageType): void {
    const series = this.current;
    const { violations } = series.families;
    violations.inc(series.labels('violations', TYPE_AND_MODEL, type, model));
  }

  observeTxn(outcome: 'autocommit' | 'committed' | 'rolledBack' | 'expired' | 'error'): void {
    const series = this.current;
    const { txn } = series.families;
    txn.inc(series.labels('txn', STATE, outcome));
  }

  addPendingQueueBytes(delta: number): void {
    const series = this.current;
    series.pendingBytes += delta;
    this.addBytes(series, 'pendingBytes', delta);
  }

  addReorderBufferBytes(delta: number): void {
    const series = this.current;
    series.reorderBytes += delta;
    this.addBytes(series, 'reorderBytes', delta);
  }

  addTxnBufferBytes(delta: number): void {
    const series = this.current;
    series.txnBytes += delta;
    this.addBytes(series, 'txnBytes', delta);
  }

  observeRetry(code: string): void {
    const series = this.current;
    series.families.retries.inc(series.labels('retries', CODE, code));
  }

  observeLag(scanner: ScannerInfo, lag: ScannerLag): void {
    const series = this.seriesOf(scanner);
    const { lagSeconds, lagMessages } = series.families;
    lagSeconds.set(series.labels('lagSeconds', SCANNER, scanner.name), lag.seconds);
    if (lag.messages !== undefined) {
      lagMessages.set(series.labels('lagMessages', SCANNER, scanner.name), lag.messages);
    }
  }

  pauseStarted(): void {
    const series = this.current;
    series.paused += 1;
    this.pausedIn.set(series, (this.pausedIn.get(series) ?? 0) + 1);
    series.families.paused.inc(series.labels('paused', NONE));
  }

  pauseEnded(durationMs: number): void {
    const series = this.endedPauseSeries();
    series.paused -= 1;
    const { paused, pauseSeconds } = series.families;
    paused.dec(series.labels('paused', NONE));
    pauseSeconds.observe(series.labels('pauseSeconds', NONE), Math.max(0, durationMs) / 1000);
    series.settle();
  }

  /** The series a pause was counted in: one started before the channel was known comes first. */
  private endedPauseSeries(): ChannelSeries {
    for (const [series, count] of this.pausedIn) {
      if (count <= 0) continue;
      if (count === 1) this.pausedIn.delete(series);
      else this.pausedIn.set(series, count - 1);
      return series;
    }
    return this.current;
  }

  private addBytes(
    series: ChannelSeries,
    gauge: 'pendingBytes' | 'reorderBytes' | 'txnBytes',
    delta: number,
  ): void {
    series.families[gauge].inc(series.labels(gauge, NONE), delta);
    if (delta < 0) series.settle();
  }
}
