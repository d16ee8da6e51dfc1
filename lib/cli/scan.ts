import type { Observable } from 'rxjs';

import { ConfigError } from '../errors.js';
import { isTxnMessage, MessageType, type WalMessage } from '../message/message.js';
import type { ScannerMetrics } from '../observability/metrics.js';
import { DeliverFilter } from '../options/deliverFilter.js';
import { DeliverPolicy } from '../options/deliverPolicy.js';
import { scanWal } from '../scanner/scanWal.js';
import type { ReadableWal } from '../wal/wal.js';
import {
  choiceOption,
  parseCommandArgs,
  parseId,
  parsePort,
  parseTimeTick,
  stringOption,
  walPath,
  type ParsedArgs,
} from './args.js';
import type { CliDeps, CliWal, NatsCredentials, PauseSwitch } from './deps.js';
import { ExitCode, UsageError } from './errors.js';
import {
  isNatsLocation,
  kvPauseSwitch,
  NATS_CLI_OPTIONS,
  natsCredentialsOf,
} from './natsLocation.js';
import { fileCheckpointStore } from './checkpointFile.js';
import { formatMessageLine, type OutputFormat } from './format.js';
import { SCAN_HELP } from './help.js';
import { lastRecordId, ReadProgress, tickOf, trackReads } from './logEnd.js';
import { startMetricsServer, type MetricsServer } from './metricsServer.js';
import { LineWriter } from './output.js';
import { filePauseSwitch } from './pauseSwitch.js';
import { ProgressBar } from './progressBar.js';

const SCAN_OPTIONS = {
  vchannel: { type: 'string' },
  from: { type: 'string' },
  after: { type: 'string' },
  type: { type: 'string', multiple: true },
  'since-tick': { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  'time-ticks': { type: 'boolean' },
  format: { type: 'string' },
  'pause-file': { type: 'string' },
  'pause-mode': { type: 'string' },
  'metrics-port': { type: 'string' },
  checkpoint: { type: 'string' },
  'pause-kv': { type: 'string' },
  ...NATS_CLI_OPTIONS,
} as const;

/** What `rxwal scan` was asked to do, checked before the WAL is opened. */
export interface ScanPlan {
  path: string;
  vchannel: string;
  deliverPolicy: DeliverPolicy;
  filters: DeliverFilter[];
  follow: boolean;
  timeTicks: boolean;
  format: OutputFormat;
  pauseFile: string | undefined;
  /** `--pause-kv <bucket>/<key>`: the pause switch on a JetStream KV key (nats:// locations). */
  pauseKv: string | undefined;
  /** Credentials for a nats:// location. */
  nats: NatsCredentials | undefined;
  pauseMode: 'start' | 'live';
  metricsPort: number | undefined;
  /** Resume from and keep updating this checkpoint file. */
  checkpointFile: string | undefined;
}

/** Parses and checks `scan`'s command line; throws {@link UsageError}. */
export function parseScanArgs(argv: string[]): ScanPlan | 'help' {
  const args = parseCommandArgs('scan', argv, SCAN_OPTIONS);
  if (args.values.help === true) return 'help';
  const { values } = args;
  const metricsPort = stringOption(values, 'metrics-port');
  const path = walPath('scan', args.positionals);
  const pauseFile = stringOption(values, 'pause-file');
  const pauseKv = stringOption(values, 'pause-kv');
  if (pauseFile !== undefined && pauseKv !== undefined) {
    throw new UsageError('scan: --pause-file and --pause-kv are one switch each: give one', 'scan');
  }
  if (pauseKv !== undefined && !/^[^/]+\/[^/]+$/.test(pauseKv)) {
    throw new UsageError(
      `scan: --pause-kv needs <bucket>/<key> (got ${JSON.stringify(pauseKv)})`,
      'scan',
    );
  }
  if (pauseKv !== undefined && !isNatsLocation(path)) {
    throw new UsageError(
      `scan: --pause-kv goes with a nats:// location (got ${JSON.stringify(path)})`,
      'scan',
    );
  }
  return {
    path,
    pauseKv,
    nats: natsCredentialsOf('scan', values, path),
    vchannel: stringOption(values, 'vchannel') ?? '',
    deliverPolicy: deliverPolicyOf(values),
    filters: filtersOf(values),
    follow: values.follow === true,
    timeTicks: values['time-ticks'] === true,
    format: choiceOption('scan', values, 'format', ['pretty', 'json'], 'pretty'),
    pauseFile,
    pauseMode: choiceOption('scan', values, 'pause-mode', ['start', 'live'], 'start'),
    metricsPort:
      metricsPort === undefined ? undefined : parsePort('scan', '--metrics-port', metricsPort),
    checkpointFile: stringOption(values, 'checkpoint'),
  };
}

function deliverPolicyOf(values: ParsedArgs['values']): DeliverPolicy {
  const from = stringOption(values, 'from');
  const after = stringOption(values, 'after');
  if (from !== undefined && after !== undefined) {
    throw new UsageError('scan: --from and --after both say where to start: give one', 'scan');
  }
  if (after !== undefined) return DeliverPolicy.startAfter(parseId('scan', '--after', after));
  if (from === undefined || from === 'all') return DeliverPolicy.all();
  if (from === 'latest') return DeliverPolicy.latest();
  if (!/^\d+$/.test(from)) {
    throw new UsageError(
      `scan: --from must be all, latest or a message id (got ${JSON.stringify(from)})`,
      'scan',
    );
  }
  return DeliverPolicy.startFrom(parseId('scan', '--from', from));
}

function filtersOf(values: ParsedArgs['values']): DeliverFilter[] {
  const filters: DeliverFilter[] = [];
  const types = values.type;
  if (Array.isArray(types) && types.length > 0) {
    try {
      filters.push(DeliverFilter.messageType(...types));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new UsageError(`scan: --type ${JSON.stringify(err.value)}: ${reasonOf(err)}`, 'scan');
    }
  }
  const since = stringOption(values, 'since-tick');
  if (since !== undefined) {
    const { timeTick, date } = parseTimeTick('scan', '--since-tick', since);
    filters.push(date ? DeliverFilter.timeTickGTE(timeTick) : DeliverFilter.timeTickGT(timeTick));
  }
  return filters;
}

function reasonOf(err: ConfigError): string {
  return err.message.replace(/^invalid [^:]+: /, '').replace(/ \(got .*\)$/, '');
}

/**
 * `rxwal scan <wal>`: prints what a scanner delivers until the log's end (see {@link SCAN_HELP}),
 * or with `--follow` until `deps.signal` aborts.
 */
export async function scanCommand(argv: string[], deps: CliDeps): Promise<ExitCode> {
  const plan = parseScanArgs(argv);
  if (plan === 'help') {
    deps.stdout.write(SCAN_HELP);
    return ExitCode.Ok;
  }
  if (plan.metricsPort !== undefined && deps.prometheus === undefined) {
    throw new UsageError('scan: --metrics-port is not available in this build', 'scan');
  }
  const wal = await deps.openWal(plan.path, {
    readOnly: true,
    ...(plan.nats === undefined ? {} : { nats: plan.nats }),
  });
  const resources = new Resources();
  try {
    await scanOpenWal(wal, plan, deps, resources);
  } finally {
    await resources.release();
    await wal.close();
  }
  return ExitCode.Ok;
}

/** Things a scan holds besides the WAL, released in reverse order. */
class Resources {
  private readonly releases: (() => void | Promise<void>)[] = [];

  add(release: () => void | Promise<void>): void {
    this.releases.push(release);
  }

  async release(): Promise<void> {
    for (const release of this.releases.reverse()) await release();
    this.releases.length = 0;
  }
}

async function scanOpenWal(
  wal: CliWal,
  plan: ScanPlan,
  deps: CliDeps,
  resources: Resources,
): Promise<void> {
  const readable: ReadableWal = wal.accessMode === 'ro' ? wal : (wal.readOnly?.() ?? wal);
  const progress = new ReadProgress(lastRecordId(readable));
  progress.newestTick = await tickOf(readable, progress.end);
  const tracked = trackReads(readable, progress, !plan.follow);

  let bar: ProgressBar | undefined;
  if (deps.isTTY) {
    const progressBar = new ProgressBar(deps.stderr, progress, deps.now ?? Date.now);
    bar = progressBar;
    resources.add(() => progressBar.stop());
    void progress.caughtUp.then(() => progressBar.stop());
  }
  const notice = (text: string): void => {
    bar?.clear();
    deps.stderr.write(`rxwal: ${text}\n`);
  };

  let metrics: ScannerMetrics | undefined;
  if (plan.metricsPort !== undefined && deps.prometheus !== undefined) {
    const exporter = await deps.prometheus(readable.channel);
    metrics = exporter.metrics;
    let server: MetricsServer;
    try {
      server = await startMetricsServer(exporter, plan.metricsPort);
    } catch (err) {
      throw new Error(
        `--metrics-port ${plan.metricsPort}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    resources.add(() => server.close());
    notice(`metrics on ${server.url}`);
  }

  let pause$: Observable<boolean> | undefined;
  const pauseSource =
    plan.pauseFile ?? (plan.pauseKv === undefined ? undefined : `KV ${plan.pauseKv}`);
  if (pauseSource !== undefined) {
    const pauseSwitch: PauseSwitch =
      plan.pauseKv !== undefined
        ? await kvPauseSwitch(plan.path, plan.pauseKv, plan.nats, deps.stderr)
        : (deps.pauseFromFile?.(plan.pauseFile as string) ??
          filePauseSwitch(plan.pauseFile as string, deps.stderr));
    resources.add(() => pauseSwitch.close());
    pause$ = pauseSwitch.pause$;
    const file = pauseSource;
    let last: boolean | undefined;
    const watching = pause$.subscribe((paused) => {
      if (paused === last) return;
      if (paused) notice(`paused by ${file} (waiting for "pauseConsumption": false)`);
      else if (last === true) notice(`resumed by ${file}`);
      last = paused;
    });
    resources.add(() => watching.unsubscribe());
  }

  const scanner = scanWal(tracked, {
    name: 'rxwal-scan',
    vchannel: plan.vchannel,
    deliverPolicy: plan.deliverPolicy,
    filters: plan.filters,
    ...(pause$ === undefined ? {} : { pause$, pauseMode: plan.pauseMode }),
    ...(metrics === undefined ? {} : { metrics }),
    ...(plan.checkpointFile === undefined
      ? {}
      : { checkpoint: { store: fileCheckpointStore(plan.checkpointFile) } }),
  });
  const out = new LineWriter(deps.stdout, () => bar?.clear());
  await printUntil(
    scanner,
    out,
    plan,
    { now: aborted(deps.signal), ...(plan.follow ? {} : { atEnd: progress.caughtUp }) },
    (m) => progress.delivered(m),
  );
}

const STOP: unique symbol = Symbol('stop');

/**
 * Prints delivered messages until a stop. `atEnd` (the log's end reached, without `--follow`)
 * first takes every message the scanner has already delivered: every message released by then is
 * waiting in the scanner's queue and its `next()` resolves at once, before the stop is looked at.
 * `now` (Ctrl-C, SIGTERM) stops after the line being printed: a catch-up keeps the queue full, so
 * draining it would print the whole backlog first. Either way the last printed message has been
 * handed back (its `next()` was asked), so a `--checkpoint` file saves it.
 */
async function printUntil(
  scanner: AsyncIterable<WalMessage>,
  out: LineWriter,
  { format, timeTicks, filters }: Pick<ScanPlan, 'format' | 'timeTicks' | 'filters'>,
  stop: { readonly now: Promise<void>; readonly atEnd?: Promise<void> },
  onDelivered: (m: WalMessage) => void = () => undefined,
): Promise<void> {
  let stopNow = false;
  const now = stop.now.then((): typeof STOP => {
    stopNow = true;
    return STOP;
  });
  const stopped =
    stop.atEnd === undefined ? now : Promise.race([now, stop.atEnd.then((): typeof STOP => STOP)]);
  const typesOnly = filters.some((filter) => filter.kind === 'messageType');
  const messages = scanner[Symbol.asyncIterator]();
  try {
    while (!out.closed) {
      const pending = messages.next();
      const result = stopNow ? STOP : await Promise.race([pending, stopped]);
      if (result === STOP) {
        pending.catch(() => undefined); // the scanner closes below; its answer no longer matters
        return;
      }
      if (result.done === true) return;
      onDelivered(result.value);
      if (!timeTicks && result.value.type === MessageType.TimeTick) continue;
      // --type keeps a transaction for its bodies: one whose bodies it all dropped says nothing
      if (typesOnly && isTxnMessage(result.value) && result.value.body.length === 0) continue;
      await out.line(formatMessageLine(result.value, format));
    }
  } finally {
    await messages.return?.();
  }
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return new Promise(() => undefined);
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
