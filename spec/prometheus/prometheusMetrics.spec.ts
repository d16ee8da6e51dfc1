import { Counter, Registry, register as globalRegistry } from 'prom-client';
import { BehaviorSubject, of, type Subscription } from 'rxjs';

import { ConfigError } from '../../lib/errors.js';
import type { WalMessage } from '../../lib/message/message.js';
import {
  createInMemoryMetrics,
  type MetricsSnapshot,
  type ScannerMetrics,
} from '../../lib/observability/metrics.js';
import {
  MESSAGE_BYTES_BUCKETS,
  PAUSE_SECONDS_BUCKETS,
  prometheusMetrics,
} from '../../lib/prometheus/index.js';
import { pauseGate } from '../../lib/operators/pauseGate.js';
import { tso } from '../../lib/message/tso.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { createMemoryWal, type MemoryWal } from '../../lib/wal/memoryWal.js';
import { settle, VirtualClock } from '../../lib/testing/index.js';
import { matchesHint } from '../support/readHint.js';

type Labels = Record<string, string | number>;

/** What `getMetricsAsJSON()` gives for one family (histogram samples carry `metricName`). */
interface Family {
  name: string;
  type: string;
  values: { labels: Labels; value: number; metricName?: string }[];
}

async function families(registry: Registry): Promise<Family[]> {
  return (await registry.getMetricsAsJSON()) as unknown as Family[];
}

/** One sample of `registry.getMetricsAsJSON()`, by family and sample name. */
async function sample(
  registry: Registry,
  family: string,
  labels: Labels,
  sampleName = family,
): Promise<number | undefined> {
  const metrics = await families(registry);
  const values = metrics.find((m) => m.name === family)?.values ?? [];
  const found = values.find(
    (v) =>
      (v.metricName ?? family) === sampleName &&
      Object.keys(labels).length === Object.keys(v.labels).length &&
      Object.entries(labels).every(([k, x]) => v.labels[k] === x),
  );
  return found?.value;
}

/** The label sets of every sample of `family` (histograms: their `_count` samples). */
async function seriesOf(registry: Registry, family: string): Promise<Labels[]> {
  const metrics = await families(registry);
  const m = metrics.find((x) => x.name === family);
  if (m === undefined) throw new Error(`no family ${family}`);
  return m.values
    .filter((v) => m.type !== 'histogram' || v.metricName === `${family}_count`)
    .map((v) => v.labels);
}

/** Forwards every event to both sinks: the in-memory one is the oracle. */
function tee(a: ScannerMetrics, b: ScannerMetrics): ScannerMetrics {
  const out = {} as Record<keyof ScannerMetrics, (...args: never[]) => void>;
  for (const key of Object.keys(a) as (keyof ScannerMetrics)[]) {
    if (key === ('snapshot' as keyof ScannerMetrics)) continue;
    out[key] = (...args: never[]) => {
      (a[key] as (...x: never[]) => void)(...args);
      (b[key] as (...x: never[]) => void)(...args);
    };
  }
  return out as unknown as ScannerMetrics;
}

const FAMILIES = [
  'rxwal_scanner_total',
  'rxwal_scanner_pause_consumption',
  'rxwal_scanner_pause_duration_seconds',
  'rxwal_scan_message_bytes',
  'rxwal_scan_message_total',
  'rxwal_scan_pass_message_bytes',
  'rxwal_scan_pass_message_total',
  'rxwal_scan_time_tick_violation_message_total',
  'rxwal_scan_txn_total',
  'rxwal_scanner_pending_queue_bytes',
  'rxwal_scanner_time_tick_buf_bytes',
  'rxwal_scanner_txn_buf_bytes',
  'rxwal_scanner_retries_total',
  'rxwal_scanner_lag_seconds',
  'rxwal_scanner_lag_messages',
];

describe('prometheusMetrics', () => {
  let clock: VirtualClock;
  let wal: MemoryWal;
  let registry: Registry;
  const subscriptions: Subscription[] = [];

  beforeEach(() => {
    clock = new VirtualClock();
    wal = createMemoryWal({ channel: 'p0', scheduler: clock.scheduler, timeTickInterval: '200ms' });
    registry = new Registry();
  });

  afterEach(async () => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    const closing = wal.close();
    await clock.advance(1);
    await closing;
    expect(globalRegistry.getMetricsAsArray()).toEqual([]);
  });

  /** A raw log: a reordered pair, a violation, a committed txn, an open txn, held messages. */
  function rawLog(): Record<string, WalMessage> {
    const raw = (init: Parameters<MemoryWal['appendRaw']>[0]): WalMessage => wal.appendRaw(init);
    return {
      tt100: raw({ type: 'TimeTick', timeTick: 100n }),
      a: raw({ type: 'Insert', vchannel: 'v1', timeTick: 103n, payload: 'a' }),
      b: raw({ type: 'Insert', vchannel: 'v1', timeTick: 102n, payload: 'bb' }),
      tt104: raw({ type: 'TimeTick', timeTick: 104n }),
      late: raw({ type: 'Delete', vchannel: 'v1', timeTick: 101n, payload: 'late' }),
      begin7: raw({ type: 'BeginTxn', vchannel: 'v1', timeTick: 105n, txn: { txnId: 7 } }),
      body7: raw({ type: 'Insert', vchannel: 'v1', timeTick: 106n, txn: { txnId: 7 } }),
      commit7: raw({ type: 'CommitTxn', vchannel: 'v1', timeTick: 107n, txn: { txnId: 7 } }),
      other: raw({ type: 'Insert', vchannel: 'v2', timeTick: 108n, payload: 'other' }),
      tt109: raw({ type: 'TimeTick', timeTick: 109n }),
      begin8: raw({ type: 'BeginTxn', vchannel: 'v1', timeTick: 110n, txn: { txnId: 8 } }),
      body8: raw({
        type: 'Insert',
        vchannel: 'v1',
        timeTick: 111n,
        txn: { txnId: 8 },
        payload: 'body8',
      }),
      tt112: raw({ type: 'TimeTick', timeTick: 112n }),
      held: raw({ type: 'Insert', vchannel: 'v1', timeTick: 113n, payload: 'held' }),
    };
  }

  test('every family after a real scan of a raw log, equal to the in-memory sink', async () => {
    const log = rawLog();
    const oracle = createInMemoryMetrics();
    const metrics = tee(oracle, prometheusMetrics(registry, { channel: 'p0' }));
    const pause$ = new BehaviorSubject(true);
    const seen: string[] = [];
    subscriptions.push(
      scanWal(wal, { vchannel: 'v1', pause$, scheduler: clock.scheduler, metrics }).subscribe((m) =>
        seen.push(m.type),
      ),
    );
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', { channel_name: 'p0' })).toBe(
      1,
    );
    await clock.advance(1500);
    clock.scheduler.schedule(() => pause$.next(false));
    await clock.advance(10);
    expect(seen).toEqual([
      'TimeTick',
      'Insert',
      'Insert',
      'TimeTick',
      'Txn',
      'TimeTick',
      'TimeTick',
    ]);

    const text = await registry.metrics();
    for (const family of FAMILIES) expect(text).toContain(`# TYPE ${family} `);
    const snap: MetricsSnapshot = oracle.snapshot();
    const p0 = { channel_name: 'p0' };
    const catchup = { channel_name: 'p0', scanner_model: 'catchup' };

    expect(await sample(registry, 'rxwal_scanner_total', catchup)).toBe(1);
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', p0)).toBe(0);
    expect(
      await sample(
        registry,
        'rxwal_scanner_pause_duration_seconds',
        p0,
        'rxwal_scanner_pause_duration_seconds_sum',
      ),
    ).toBe(1.5);
    expect(text).toContain(
      'rxwal_scanner_pause_duration_seconds_bucket{le="5",channel_name="p0"} 1',
    );
    expect(text).toContain(
      'rxwal_scanner_pause_duration_seconds_bucket{le="1",channel_name="p0"} 0',
    );

    // observed: everything the scanner read (its readers are hinted at v1: read pushdown skips
    // v2's messages) that passed the deliver filters, time ticks included
    const all = Object.values(log).filter((m) => matchesHint(m, 'v1'));
    for (const [type, count] of Object.entries(snap.messages)) {
      expect(
        await sample(registry, 'rxwal_scan_message_total', { ...catchup, message_type: type }),
      ).toBe(count);
    }
    expect(snap.messages.TimeTick).toBe(4);
    expect(
      await sample(registry, 'rxwal_scan_message_bytes', catchup, 'rxwal_scan_message_bytes_sum'),
    ).toBe(all.reduce((sum, m) => sum + m.size, 0));
    expect(
      await sample(registry, 'rxwal_scan_message_bytes', catchup, 'rxwal_scan_message_bytes_count'),
    ).toBe(all.length);

    // passed: the v1 data messages
    const passed = all.filter((m) => m.vchannel === 'v1' && m.type !== 'TimeTick');
    for (const [type, count] of Object.entries(snap.passedMessages)) {
      expect(
        await sample(registry, 'rxwal_scan_pass_message_total', { ...catchup, message_type: type }),
      ).toBe(count);
    }
    expect(snap.passedMessages.Insert).toBe(5); // a, b, body7, body8, held
    expect(
      await sample(
        registry,
        'rxwal_scan_pass_message_bytes',
        catchup,
        'rxwal_scan_pass_message_bytes_sum',
      ),
    ).toBe(passed.reduce((sum, m) => sum + m.size, 0));

    expect(
      await sample(registry, 'rxwal_scan_time_tick_violation_message_total', {
        ...catchup,
        message_type: 'Delete',
      }),
    ).toBe(1);
    expect(snap.timeTickViolations).toBe(1);

    expect(snap.txn.committed).toBe(1);
    for (const state of ['autocommit', 'committed'] as const) {
      expect(await sample(registry, 'rxwal_scan_txn_total', { ...p0, state })).toBe(
        snap.txn[state],
      );
    }
    expect(await seriesOf(registry, 'rxwal_scan_txn_total')).toHaveLength(2);

    // held: `held` waits in the reorder buffer, txn 8 in the txn buffer
    expect(log.held?.size).toBeGreaterThan(0);
    expect(log.body8?.size).toBeGreaterThan(0);
    expect(await sample(registry, 'rxwal_scanner_time_tick_buf_bytes', p0)).toBe(log.held?.size);
    expect(await sample(registry, 'rxwal_scanner_txn_buf_bytes', p0)).toBe(
      (log.begin8?.size ?? 0) + (log.body8?.size ?? 0),
    );
    expect(snap.bytes).toEqual({
      pendingQueue: 0,
      reorderBuffer: log.held?.size,
      txnBuffer: (log.begin8?.size ?? 0) + (log.body8?.size ?? 0),
    });
    expect(await sample(registry, 'rxwal_scanner_pending_queue_bytes', p0)).toBeUndefined();
  });

  test('lag: seconds and messages behind the log end per scanner; the series go when it closes', async () => {
    const ms = (n: number): bigint => tso.compose(1_700_000_000_000 + n);
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: ms(0) });
    wal.appendRaw({ type: 'TimeTick', timeTick: ms(1000) });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: ms(2000) });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: ms(3000) });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: ms(4500) });
    const metrics = prometheusMetrics(registry, { channel: 'p0' });
    const sub = scanWal(wal, { name: 'lagging', scheduler: clock.scheduler, metrics }).subscribe();
    await clock.advance(5);
    // reported on the first delivery (#1 @0 ms) and on the time tick #2 @1000 ms: 3.5 s and
    // 3 records behind the end (#5 @4500 ms)
    const labels = { channel_name: 'p0', scanner_name: 'lagging' };
    expect(await sample(registry, 'rxwal_scanner_lag_seconds', labels)).toBe(3.5);
    expect(await sample(registry, 'rxwal_scanner_lag_messages', labels)).toBe(3);
    wal.appendRaw({ type: 'TimeTick', timeTick: ms(5000) });
    await clock.advance(5);
    // the time tick #6 releases the rest and is reported: the end is #6 @5000 ms
    expect(await sample(registry, 'rxwal_scanner_lag_seconds', labels)).toBe(0);
    expect(await sample(registry, 'rxwal_scanner_lag_messages', labels)).toBe(0);
    sub.unsubscribe();
    expect(await sample(registry, 'rxwal_scanner_lag_seconds', labels)).toBeUndefined();
    expect(await sample(registry, 'rxwal_scanner_lag_messages', labels)).toBeUndefined();
  });

  test('retries are counted by code', async () => {
    const metrics = prometheusMetrics(registry, { channel: 'p0' });
    const sub = scanWal(wal, { scheduler: clock.scheduler, metrics }).subscribe();
    metrics.observeRetry?.('READER_ENDED');
    metrics.observeRetry?.('READER_ENDED');
    metrics.observeRetry?.('ECONNRESET');
    const counted = (code: string): Promise<number | undefined> =>
      sample(registry, 'rxwal_scanner_retries_total', { channel_name: 'p0', code });
    expect([await counted('READER_ENDED'), await counted('ECONNRESET')]).toEqual([2, 1]);
    sub.unsubscribe();
  });

  test('the message-size histogram has the reference buckets: 10 exponential, 64 B to 8 MiB', async () => {
    expect(MESSAGE_BYTES_BUCKETS).toHaveLength(10);
    expect(MESSAGE_BYTES_BUCKETS[0]).toBe(64);
    expect(MESSAGE_BYTES_BUCKETS[9]).toBe(8 * 1024 * 1024);
    for (let i = 1; i < 10; i++) {
      expect((MESSAGE_BYTES_BUCKETS[i] ?? 0) / (MESSAGE_BYTES_BUCKETS[i - 1] ?? 1)).toBeCloseTo(
        2 ** (17 / 9),
        1,
      );
    }
    const metrics = prometheusMetrics(registry, { channel: 'p0' });
    metrics.observeMessage('catchup', 'Insert', 100);
    const text = await registry.metrics();
    for (const le of [...MESSAGE_BYTES_BUCKETS, '+Inf']) {
      expect(text).toContain(
        `rxwal_scan_message_bytes_bucket{le="${le}",channel_name="p0",scanner_model="catchup"} ${le === 64 ? 0 : 1}`,
      );
    }
    for (const le of PAUSE_SECONDS_BUCKETS) expect(typeof le).toBe('number');
  });

  test('a writer log: the scanner catches up, then tails; the model labels follow it', async () => {
    const metrics = prometheusMetrics(registry, { channel: 'p0' });
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 'a' });
    subscriptions.push(scanWal(wal, { scheduler: clock.scheduler, metrics }).subscribe());
    await clock.advance(10);
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 'b' });
    const txn = await wal.beginTxn({ vchannel: 'v1' });
    await txn.append({ type: 'Insert', payload: 'c' });
    await txn.rollback();
    await clock.advance(400);
    const tailing = { channel_name: 'p0', scanner_model: 'tailing' };
    expect(await sample(registry, 'rxwal_scanner_total', tailing)).toBe(1);
    expect(
      await sample(registry, 'rxwal_scanner_total', { ...tailing, scanner_model: 'catchup' }),
    ).toBe(0);
    expect(
      await sample(registry, 'rxwal_scan_pass_message_total', {
        ...tailing,
        message_type: 'Insert',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await sample(registry, 'rxwal_scan_txn_total', { channel_name: 'p0', state: 'rolledBack' }),
    ).toBe(1);
    expect(await sample(registry, 'rxwal_scanner_txn_buf_bytes', { channel_name: 'p0' })).toBe(0);
  });

  test('pull consumers: the pending queue gauge sums waiting bytes; leaving the loop removes the series', async () => {
    const messages = [1, 2, 3].map((i) =>
      wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: BigInt(100 + i), payload: i }),
    );
    const tick = wal.appendRaw({ type: 'TimeTick', timeTick: 200n });
    const metrics = prometheusMetrics(registry, { channel: 'p0' });
    const iterator = scanWal(wal, { scheduler: clock.scheduler, metrics })[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ type: 'Insert' });
    await settle();
    expect(
      await sample(registry, 'rxwal_scanner_pending_queue_bytes', { channel_name: 'p0' }),
    ).toBe((messages[1]?.size ?? 0) + (messages[2]?.size ?? 0) + tick.size);
    await iterator.return?.();
    await settle();
    for (const family of FAMILIES) expect(await seriesOf(registry, family)).toEqual([]);
  });

  test('two scanners on one registry share the families; each scanner counts once', async () => {
    wal.appendRaw({ type: 'TimeTick', timeTick: 100n });
    const other = createMemoryWal({ channel: 'p1', scheduler: clock.scheduler });
    other.appendRaw({ type: 'TimeTick', timeTick: 100n });
    const first = prometheusMetrics(registry, { channel: 'p0' });
    const second = prometheusMetrics(registry, { channel: 'p0' });
    const third = prometheusMetrics(registry, { channel: 'p1' });
    expect(registry.getMetricsAsArray()).toHaveLength(FAMILIES.length);
    const a = scanWal(wal, { scheduler: clock.scheduler, metrics: first }).subscribe();
    const b = scanWal(wal, { scheduler: clock.scheduler, metrics: second }).subscribe();
    const c = scanWal(other, { scheduler: clock.scheduler, metrics: third }).subscribe();
    subscriptions.push(a, b, c);
    await clock.advance(5);
    const catchup = (channel: string): Labels => ({
      channel_name: channel,
      scanner_model: 'catchup',
    });
    expect(await sample(registry, 'rxwal_scanner_total', catchup('p0'))).toBe(2);
    expect(await sample(registry, 'rxwal_scanner_total', catchup('p1'))).toBe(1);
    expect(
      await sample(registry, 'rxwal_scan_message_total', {
        ...catchup('p0'),
        message_type: 'TimeTick',
      }),
    ).toBe(2);

    a.unsubscribe();
    await settle();
    expect(await sample(registry, 'rxwal_scanner_total', catchup('p0'))).toBe(1);
    expect(
      await sample(registry, 'rxwal_scan_message_total', {
        ...catchup('p0'),
        message_type: 'TimeTick',
      }),
    ).toBe(2);

    b.unsubscribe();
    await settle();
    for (const family of FAMILIES) {
      expect((await seriesOf(registry, family)).filter((l) => l.channel_name === 'p0')).toEqual([]);
    }
    expect(await sample(registry, 'rxwal_scanner_total', catchup('p1'))).toBe(1);

    // a new scanner of p0 starts its series afresh
    subscriptions.push(scanWal(wal, { scheduler: clock.scheduler, metrics: first }).subscribe());
    await clock.advance(5);
    expect(await sample(registry, 'rxwal_scanner_total', catchup('p0'))).toBe(1);
    expect(
      await sample(registry, 'rxwal_scan_message_total', {
        ...catchup('p0'),
        message_type: 'TimeTick',
      }),
    ).toBe(1);
    c.unsubscribe();
    const closing = other.close();
    await clock.advance(1);
    await closing;
  });

  test('one sink may serve many scanners of its channel (scanWal is cold)', async () => {
    wal.appendRaw({ type: 'TimeTick', timeTick: 100n });
    const scan = scanWal(wal, {
      scheduler: clock.scheduler,
      metrics: prometheusMetrics(registry, { channel: 'p0' }),
    });
    const a = scan.subscribe();
    const b = scan.subscribe();
    await clock.advance(5);
    const catchup = { channel_name: 'p0', scanner_model: 'catchup' };
    expect(await sample(registry, 'rxwal_scanner_total', catchup)).toBe(2);
    a.unsubscribe();
    await settle();
    expect(await sample(registry, 'rxwal_scanner_total', catchup)).toBe(1);
    b.unsubscribe();
    await settle();
    expect(await seriesOf(registry, 'rxwal_scanner_total')).toEqual([]);
  });

  test('closing a scanner takes its bytes out of the gauges; the series go once all are 0', async () => {
    const log = rawLog();
    const metrics = prometheusMetrics(registry, { channel: 'p0' });
    const scan = scanWal(wal, { vchannel: 'v1', scheduler: clock.scheduler, metrics });
    const a = scan.subscribe();
    const b = scan.subscribe();
    subscriptions.push(a, b);
    await clock.advance(5);
    const p0 = { channel_name: 'p0' };
    const txnBytes = (log.begin8?.size ?? 0) + (log.body8?.size ?? 0);
    expect(await sample(registry, 'rxwal_scanner_time_tick_buf_bytes', p0)).toBe(
      2 * (log.held?.size ?? 0),
    );
    expect(await sample(registry, 'rxwal_scanner_txn_buf_bytes', p0)).toBe(2 * txnBytes);
    a.unsubscribe();
    await settle();
    expect(await sample(registry, 'rxwal_scanner_time_tick_buf_bytes', p0)).toBe(log.held?.size);
    expect(await sample(registry, 'rxwal_scanner_txn_buf_bytes', p0)).toBe(txnBytes);
    b.unsubscribe();
    await settle();
    for (const family of FAMILIES) expect(await seriesOf(registry, family)).toEqual([]);
  });

  test('the pause gauge counts scanners actually paused, not the last writer', async () => {
    wal.appendRaw({ type: 'TimeTick', timeTick: 100n });
    const metrics = prometheusMetrics(registry, { channel: 'p0' });
    const pauseA$ = new BehaviorSubject(true);
    const pauseB$ = new BehaviorSubject(true);
    const pauseC$ = new BehaviorSubject(false);
    const options = { scheduler: clock.scheduler, metrics };
    subscriptions.push(scanWal(wal, { ...options, pause$: pauseA$ }).subscribe());
    await clock.advance(100);
    subscriptions.push(scanWal(wal, { ...options, pause$: pauseB$ }).subscribe());
    subscriptions.push(
      scanWal(wal, { ...options, pause$: pauseC$, pauseMode: 'live' }).subscribe(),
    );
    await clock.advance(100);
    const p0 = { channel_name: 'p0' };
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', p0)).toBe(2);
    clock.scheduler.schedule(() => pauseC$.next(true));
    await clock.advance(300);
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', p0)).toBe(3);
    clock.scheduler.schedule(() => pauseA$.next(false));
    await clock.advance(1);
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', p0)).toBe(2);
    clock.scheduler.schedule(() => {
      pauseB$.next(false);
      pauseC$.next(false);
    });
    await clock.advance(1);
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', p0)).toBe(0);
    const count = 'rxwal_scanner_pause_duration_seconds_count';
    const sum = 'rxwal_scanner_pause_duration_seconds_sum';
    expect(await sample(registry, 'rxwal_scanner_pause_duration_seconds', p0, count)).toBe(3);
    // A: 0 → 501, B: 100 → 501, C: 201 → 501 (ms)
    expect(await sample(registry, 'rxwal_scanner_pause_duration_seconds', p0, sum)).toBeCloseTo(
      (501 + 401 + 300) / 1000,
      9,
    );
  });

  test('a scanner closed while it waits at its start gate leaves the pause gauge at 0', async () => {
    const metrics = prometheusMetrics(registry, { channel: 'p0' });
    const p0 = { channel_name: 'p0' };
    const running = scanWal(wal, { scheduler: clock.scheduler, metrics }).subscribe();
    const sub = scanWal(wal, {
      scheduler: clock.scheduler,
      metrics,
      pause$: new BehaviorSubject(true),
    }).subscribe();
    await clock.advance(250);
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', p0)).toBe(1);
    sub.unsubscribe();
    await settle();
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', p0)).toBe(0);
    expect(
      await sample(
        registry,
        'rxwal_scanner_pause_duration_seconds',
        p0,
        'rxwal_scanner_pause_duration_seconds_sum',
      ),
    ).toBe(0.25);
    const live = async (model: string): Promise<number | undefined> =>
      sample(registry, 'rxwal_scanner_total', { ...p0, scanner_model: model });
    // the closed paused scanner is gone; the running one is left
    expect(((await live('catchup')) ?? 0) + ((await live('tailing')) ?? 0)).toBe(1);
    running.unsubscribe();
    await settle();
    expect(await seriesOf(registry, 'rxwal_scanner_total')).toEqual([]);
    expect(await seriesOf(registry, 'rxwal_scanner_pause_consumption')).toEqual([]);
  });

  test('a scanner paused at its start gate is counted as catch-up, so paused ≤ scanners (issue 9 item 18)', async () => {
    const metrics = prometheusMetrics(registry, { channel: 'p0' });
    const p0 = { channel_name: 'p0' };
    const pause$ = new BehaviorSubject(true);
    subscriptions.push(scanWal(wal, { scheduler: clock.scheduler, metrics, pause$ }).subscribe());
    subscriptions.push(scanWal(wal, { scheduler: clock.scheduler, metrics, pause$ }).subscribe());
    await clock.advance(10);
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', p0)).toBe(2);
    expect(await sample(registry, 'rxwal_scanner_total', { ...p0, scanner_model: 'catchup' })).toBe(
      2,
    );
  });

  test('without `channel` the sink learns it from the first scanner, before the scanner pauses', async () => {
    wal.appendRaw({ type: 'TimeTick', timeTick: 100n });
    const metrics = prometheusMetrics(registry);
    const pause$ = new BehaviorSubject(true);
    subscriptions.push(scanWal(wal, { scheduler: clock.scheduler, metrics, pause$ }).subscribe());
    await clock.advance(10);
    const p0 = { channel_name: 'p0' };
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', p0)).toBe(1);
    expect(await seriesOf(registry, 'rxwal_scanner_pause_consumption')).toEqual([p0]);
    clock.scheduler.schedule(() => pause$.next(false));
    await clock.advance(5);
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', p0)).toBe(0);
    expect(await sample(registry, 'rxwal_scanner_total', { ...p0, scanner_model: 'catchup' })).toBe(
      1,
    );

    // a scanner of another channel through the same sink fails at once
    const other = createMemoryWal({ channel: 'p1', scheduler: clock.scheduler });
    const errors: unknown[] = [];
    scanWal(other, { scheduler: clock.scheduler, metrics }).subscribe({
      error: (e: unknown) => errors.push(e),
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ConfigError);
    expect(String(errors[0])).toMatch(/one sink per channel/);
    expect(
      (await seriesOf(registry, 'rxwal_scanner_total')).filter((l) => l.channel_name === 'p1'),
    ).toEqual([]);
    const closing = other.close();
    await clock.advance(1);
    await closing;
  });

  test('a pause gate used alone, before any scanner opened, counts under channel_name=""', async () => {
    const metrics = prometheusMetrics(registry);
    const pause$ = new BehaviorSubject(true);
    const sub = of(1)
      .pipe(pauseGate(pause$, { metrics, scheduler: clock.scheduler }))
      .subscribe();
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', { channel_name: '' })).toBe(1);
    pause$.next(false);
    expect(await sample(registry, 'rxwal_scanner_pause_consumption', { channel_name: '' })).toBe(0);
    sub.unsubscribe();
  });

  test('a sink with `channel` refuses a scanner of another channel', () => {
    const metrics = prometheusMetrics(registry, { channel: 'p9' });
    const errors: unknown[] = [];
    scanWal(wal, { scheduler: clock.scheduler, metrics }).subscribe({
      error: (e: unknown) => errors.push(e),
    });
    expect(errors[0]).toBeInstanceOf(ConfigError);
  });

  test('prefix, constant labels and buckets', async () => {
    const metrics = prometheusMetrics(registry, {
      channel: 'p0',
      prefix: 'app_wal_',
      labels: { node_id: '3' },
      buckets: [10, 100],
      pauseBuckets: [1],
    });
    metrics.observePassedMessage('tailing', 'Insert', 50);
    metrics.pauseStarted();
    metrics.pauseEnded(2000);
    const text = await registry.metrics();
    expect(text).toContain(
      'app_wal_scan_pass_message_bytes_bucket{le="100",node_id="3",channel_name="p0",scanner_model="tailing"} 1',
    );
    expect(text).toContain(
      'app_wal_scan_pass_message_total{node_id="3",channel_name="p0",message_type="Insert",scanner_model="tailing"} 1',
    );
    expect(text).toContain(
      'app_wal_scanner_pause_duration_seconds_bucket{le="1",node_id="3",channel_name="p0"} 0',
    );
    expect(text).not.toContain('rxwal_');
    // another node's sink on the same registry shares the families
    prometheusMetrics(registry, {
      channel: 'p0',
      prefix: 'app_wal_',
      labels: { node_id: '4' },
      buckets: [10, 100],
      pauseBuckets: [1],
    }).observePassedMessage('tailing', 'Insert', 50);
    expect(await registry.metrics()).toContain(
      'app_wal_scan_pass_message_total{node_id="4",channel_name="p0",message_type="Insert",scanner_model="tailing"} 1',
    );
  });

  test('bad arguments and conflicting families throw ConfigError and register nothing', () => {
    expect(() => prometheusMetrics({} as Registry)).toThrow(ConfigError);
    expect(() => prometheusMetrics(registry, null as unknown as object)).toThrow(ConfigError);
    expect(() => prometheusMetrics(registry, { prefix: 'bad-prefix' })).toThrow(ConfigError);
    expect(() => prometheusMetrics(registry, { labels: { channel_name: 'x' } })).toThrow(
      /rxwal sets itself/,
    );
    expect(() => prometheusMetrics(registry, { labels: { 'bad-name': 'x' } })).toThrow(ConfigError);
    expect(() => prometheusMetrics(registry, { labels: { node: 3 as unknown as string } })).toThrow(
      ConfigError,
    );
    expect(() => prometheusMetrics(registry, { buckets: [] })).toThrow(ConfigError);
    expect(() => prometheusMetrics(registry, { buckets: [2, 1] })).toThrow(ConfigError);
    expect(() => prometheusMetrics(registry, { channel: 1 as unknown as string })).toThrow(
      ConfigError,
    );
    expect(registry.getMetricsAsArray()).toEqual([]);

    prometheusMetrics(registry, { labels: { node_id: '1' } });
    expect(() => prometheusMetrics(registry)).toThrow(/other label names/);
    expect(() => prometheusMetrics(registry, { labels: { node_id: '2' }, buckets: [1] })).toThrow(
      /other buckets/,
    );

    const taken = new Registry();
    new Counter({ name: 'rxwal_scanner_txn_buf_bytes', help: 'not ours', registers: [taken] });
    expect(() => prometheusMetrics(taken)).toThrow(/another kind of metric/);
    expect(taken.getMetricsAsArray()).toHaveLength(1);
  });
});
