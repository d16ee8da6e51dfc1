import { Writable } from 'node:stream';

import pino from 'pino';
import { BehaviorSubject, firstValueFrom, toArray, take } from 'rxjs';

import { checkpointOf } from '../../lib/checkpoint/checkpoint.js';
import { ConfigError } from '../../lib/errors.js';
import { isTxnMessage, type WalMessage } from '../../lib/message/message.js';
import {
  createInMemoryMetrics,
  noopMetrics,
  type ScannerMetrics,
} from '../../lib/observability/metrics.js';
import { DeliverFilter } from '../../lib/options/deliverFilter.js';
import { messageId } from '../../lib/message/messageId.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { formatWalMessage } from '../../lib/testing/notation.js';
import { createMemoryWal, type MemoryWal } from '../../lib/wal/memoryWal.js';
import { scriptedWal, settle, VirtualClock } from '../../lib/testing/index.js';

describe('scanWal', () => {
  let clock: VirtualClock;
  let wal: MemoryWal;

  beforeEach(() => {
    clock = new VirtualClock();
    wal = createMemoryWal({ channel: 'p0', scheduler: clock.scheduler, timeTickInterval: '200ms' });
  });

  afterEach(async () => {
    const closing = wal.close();
    await clock.advance(1);
    await closing;
  });

  const collect = (
    scan: ReturnType<typeof scanWal>,
  ): { seen: string[]; errors: unknown[]; unsubscribe(): void } => {
    const seen: string[] = [];
    const errors: unknown[] = [];
    const sub = scan.subscribe({
      next: (m) => seen.push(formatWalMessage(m)),
      error: (e: unknown) => errors.push(e),
    });
    return { seen, errors, unsubscribe: () => sub.unsubscribe() };
  };

  test('raw logs: out-of-order ticks are reordered, violations and duplicates dropped and counted', async () => {
    const metrics = createInMemoryMetrics();
    wal.appendRaw({ type: 'TimeTick', timeTick: 100n });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 103n });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 102n });
    wal.appendRaw({ id: 3, type: 'Insert', vchannel: 'v1', timeTick: 102n }); // a duplicate record of #3
    wal.appendRaw({ type: 'TimeTick', timeTick: 104n });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 101n }); // below the released 104
    wal.appendRaw({ type: 'Insert', vchannel: 'v2', timeTick: 105n });
    wal.appendRaw({ type: 'TimeTick', timeTick: 106n });
    const out = collect(scanWal(wal, { vchannel: 'v1', scheduler: clock.scheduler, metrics }));
    await clock.advance(5);
    expect(out.seen).toEqual([
      'TimeTick @100 #1',
      'Insert v1 @102 #3',
      'Insert v1 @103 #2',
      'TimeTick @104 #4',
      'TimeTick @106 #7',
    ]);
    expect(metrics.snapshot().timeTickViolations).toBe(1);
    expect(metrics.snapshot().passedMessages.Insert).toBe(4); // v2 did not pass; the dropped ones did
    out.unsubscribe();
  });

  test('catches up, tails, and delivers transactions as one Txn at their commit', async () => {
    const metrics = createInMemoryMetrics();
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 'a' });
    const out = collect(scanWal(wal, { vchannel: 'v1', scheduler: clock.scheduler, metrics }));
    await clock.advance(10);
    const txn = await wal.beginTxn({ vchannel: 'v1' });
    const body = await txn.append({ type: 'Insert', payload: 'b' });
    const rolledBack = await wal.beginTxn({ vchannel: 'v1' });
    await rolledBack.append({ type: 'Insert', payload: 'x' });
    await rolledBack.rollback();
    const commit = await txn.commit();
    await clock.advance(400);
    const data = out.seen.filter((s) => !s.startsWith('TimeTick'));
    expect(data).toEqual([
      expect.stringMatching(/^Insert v1 @\d+ #2$/),
      `Txn:${txn.txnId} v1 @${commit.timeTick} #${commit.id.key} lc=${txn.begin.id.key} [Insert:${txn.txnId} v1 @${commit.timeTick} #${body.id.key} lc=${txn.begin.id.key}]`,
    ]);
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 1 });
    expect(metrics.snapshot().txn).toMatchObject({ committed: 1, rolledBack: 1 });
    out.unsubscribe();
  });

  test('pause at start holds everything; resuming delivers in order; the paused gauge follows', async () => {
    const metrics = createInMemoryMetrics();
    const pause$ = new BehaviorSubject(true);
    await wal.append({ type: 'Insert', vchannel: 'v1' });
    const out = collect(scanWal(wal, { pause$, scheduler: clock.scheduler, metrics }));
    await wal.append({ type: 'Insert', vchannel: 'v1' });
    await clock.advance(1000);
    expect(out.seen).toEqual([]);
    expect(metrics.snapshot().paused).toBe(1);
    clock.scheduler.schedule(() => pause$.next(false));
    await clock.advance(300);
    expect(out.seen.filter((s) => s.startsWith('Insert'))).toHaveLength(2);
    expect(metrics.snapshot().paused).toBe(0);
    expect(metrics.snapshot().pauseDurationsMs).toEqual([1000]);
    out.unsubscribe();
  });

  test('a resumed scanner discards a keepalive-Infinity transaction whose commit its checkpoint filter drops (issue 9 item 6)', async () => {
    const metrics = createInMemoryMetrics();
    wal.appendRaw({ type: 'TimeTick', timeTick: 100n });
    const txn = { txnId: 7n, keepalive: Infinity };
    const begin = wal.appendRaw({ type: 'BeginTxn', vchannel: 'v1', timeTick: 101n, txn });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 101n, txn, size: 100 });
    wal.appendRaw({ type: 'CommitTxn', vchannel: 'v1', timeTick: 102n, txn });
    const checkpoint = wal.appendRaw({ type: 'TimeTick', timeTick: 103n });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 104n });
    wal.appendRaw({ type: 'TimeTick', timeTick: 105n });
    const out = collect(
      scanWal(wal, {
        vchannel: 'v1',
        deliverPolicy: DeliverPolicy.startFrom(begin.id), // the checkpoint's last-confirmed id
        filters: [DeliverFilter.timeTickGT(checkpoint.timeTick)],
        scheduler: clock.scheduler,
        metrics,
      }),
    );
    await clock.advance(5);
    expect(out.seen).toEqual(['Insert v1 @104 #6', 'TimeTick @105 #7']);
    expect(metrics.snapshot().bytes.txnBuffer).toBe(0); // still subscribed: nothing held
    out.unsubscribe();
  });

  test('resumeFrom: keepalive-Infinity transactions committed at or before the checkpoint are dropped whole and leave nothing buffered', async () => {
    // two interleaved transactions that never expire; the checkpoints are the first Txn and the
    // time tick after it, whose last-confirmed ids go back to the begins still open then
    const txn7 = { txnId: 7n, keepalive: Infinity };
    const txn8 = { txnId: 8n, keepalive: Infinity };
    wal.appendRaw({ type: 'TimeTick', timeTick: 100n });
    wal.appendRaw({ type: 'BeginTxn', vchannel: 'v1', timeTick: 101n, txn: txn7 }); // #2
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 101n, txn: txn7, size: 100 });
    wal.appendRaw({ type: 'BeginTxn', vchannel: 'v1', timeTick: 102n, txn: txn8 }); // #4
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 102n, txn: txn8, size: 50 });
    wal.appendRaw({
      type: 'CommitTxn',
      vchannel: 'v1',
      timeTick: 103n,
      txn: txn7,
      lastConfirmedId: 2,
    });
    wal.appendRaw({ type: 'TimeTick', timeTick: 104n, lastConfirmedId: 4 }); // #7
    wal.appendRaw({
      type: 'CommitTxn',
      vchannel: 'v1',
      timeTick: 105n,
      txn: txn8,
      lastConfirmedId: 4,
    });
    wal.appendRaw({ type: 'TimeTick', timeTick: 106n });
    const full = await firstValueFrom(
      scanWal(wal, { vchannel: 'v1', scheduler: clock.scheduler }).pipe(take(5), toArray()),
    );
    expect(full.map((m) => `${m.type} #${m.id.key}`)).toEqual([
      'TimeTick #1',
      'Txn #6',
      'TimeTick #7',
      'Txn #8',
      'TimeTick #9',
    ]);
    for (const k of [1, 2]) {
      const metrics = createInMemoryMetrics();
      const cp = checkpointOf(full[k] as WalMessage);
      const out = collect(
        scanWal(wal, { vchannel: 'v1', resumeFrom: cp, scheduler: clock.scheduler, metrics }),
      );
      await clock.advance(5);
      expect(out.seen).toEqual(full.slice(k + 1).map(formatWalMessage));
      // still subscribed: transaction 7, re-read from its begin, was assembled and dropped
      expect(metrics.snapshot().bytes).toEqual({ pendingQueue: 0, reorderBuffer: 0, txnBuffer: 0 });
      out.unsubscribe();
    }
  });

  test('a paused scanner is counted as catch-up from its subscription, so paused ≤ scanners (issue 9 item 18)', async () => {
    const metrics = createInMemoryMetrics();
    const pause$ = new BehaviorSubject(true);
    await wal.append({ type: 'Insert', vchannel: 'v1' });
    const out = collect(scanWal(wal, { pause$, scheduler: clock.scheduler, metrics }));
    await clock.advance(500);
    expect(metrics.snapshot()).toMatchObject({ paused: 1, scanners: { catchup: 1, tailing: 0 } });
    clock.scheduler.schedule(() => pause$.next(false));
    await clock.advance(300);
    expect(metrics.snapshot()).toMatchObject({ paused: 0, scanners: { catchup: 0, tailing: 1 } });
    out.unsubscribe();
    expect(metrics.snapshot()).toMatchObject({ paused: 0, scanners: { catchup: 0, tailing: 0 } });
  });

  test('a scanner closed while paused leaves the scanner gauge at 0 (issue 9 item 18)', async () => {
    const metrics = createInMemoryMetrics();
    const pause$ = new BehaviorSubject(true);
    const out = collect(scanWal(wal, { pause$, scheduler: clock.scheduler, metrics }));
    await clock.advance(100);
    expect(metrics.snapshot()).toMatchObject({ paused: 1, scanners: { catchup: 1, tailing: 0 } });
    out.unsubscribe();
    expect(metrics.snapshot()).toMatchObject({ paused: 0, scanners: { catchup: 0, tailing: 0 } });
  });

  test('a paused scanner asks for its persisted time tick when the gate opens, not at subscription (issue 9 item 19)', async () => {
    const pause$ = new BehaviorSubject(true);
    await wal.append({ type: 'Insert', vchannel: 'v1' });
    await clock.advance(300); // the interval's tick is written: nothing new to persist after it
    const lengthBefore = wal.length;
    const out = collect(scanWal(wal, { pause$, scheduler: clock.scheduler }));
    await clock.advance(1000);
    expect(wal.length).toBe(lengthBefore); // paused: no persisted tick asked for yet
    clock.scheduler.schedule(() => pause$.next(false));
    await clock.advance(5);
    expect(wal.length).toBe(lengthBefore + 1); // the forced tick, written when the gate opened
    expect(out.seen.at(-1)).toMatch(new RegExp(`^TimeTick @\\d+ #${lengthBefore + 1}$`));
    out.unsubscribe();
  });

  test('latest() is resolved at subscription, not when a paused scanner resumes', async () => {
    const pause$ = new BehaviorSubject(true);
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 'before' });
    const out = collect(
      scanWal(wal, { pause$, deliverPolicy: DeliverPolicy.latest(), scheduler: clock.scheduler }),
    );
    const during = await wal.append({ type: 'Insert', vchannel: 'v1', payload: 'during' });
    await clock.advance(500);
    clock.scheduler.schedule(() => pause$.next(false));
    await clock.advance(300);
    expect(out.seen.filter((s) => s.startsWith('Insert'))).toEqual([formatWalMessage(during)]);
    out.unsubscribe();
  });

  test('unsubscribing while paused delivers nothing and leaves no pause$ observer, timer or gauge', async () => {
    const metrics = createInMemoryMetrics();
    const pause$ = new BehaviorSubject(true);
    await wal.append({ type: 'Insert' });
    const out = collect(scanWal(wal, { pause$, scheduler: clock.scheduler, metrics }));
    await clock.advance(100);
    expect(pause$.observed).toBe(true);
    out.unsubscribe();
    expect(pause$.observed).toBe(false);
    expect(out.seen).toEqual([]);
    expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [100] });
  });

  test('ignorePause reads even while pause$ says paused, and never subscribes to it', async () => {
    const pause$ = new BehaviorSubject(true);
    await wal.append({ type: 'Insert' });
    const out = collect(scanWal(wal, { pause$, ignorePause: true, scheduler: clock.scheduler }));
    await clock.advance(10);
    expect(out.seen.some((s) => s.startsWith('Insert'))).toBe(true);
    expect(pause$.observed).toBe(false);
    out.unsubscribe();
  });

  test("pauseMode 'live' stops reading while paused and loses nothing", async () => {
    const pause$ = new BehaviorSubject(false);
    const metrics = createInMemoryMetrics();
    const out = collect(
      scanWal(wal, { pause$, pauseMode: 'live', scheduler: clock.scheduler, metrics }),
    );
    await wal.append({ type: 'Insert', payload: 1 });
    await clock.advance(300);
    expect(out.seen.filter((s) => s.startsWith('Insert'))).toHaveLength(1);
    clock.scheduler.schedule(() => pause$.next(true));
    await clock.advance(10);
    const observedBefore = metrics.snapshot().messages.TimeTick ?? 0;
    for (let i = 2; i <= 5; i++) await wal.append({ type: 'Insert', payload: i });
    await clock.advance(1000);
    expect(out.seen.filter((s) => s.startsWith('Insert'))).toHaveLength(1);
    // reading stopped: at most the one message in flight when the pause began was read
    expect((metrics.snapshot().messages.TimeTick ?? 0) - observedBefore).toBeLessThanOrEqual(1);
    clock.scheduler.schedule(() => pause$.next(false));
    await clock.advance(300);
    expect(out.seen.filter((s) => s.startsWith('Insert'))).toHaveLength(5);
    out.unsubscribe();
  });

  test('an open transaction survives a write-ahead-buffer eviction: one Txn, every body once', async () => {
    const small = createMemoryWal({
      channel: 'p1',
      scheduler: clock.scheduler,
      timeTickInterval: '20ms',
      writeAheadBuffer: { capacity: 64, keepalive: '50ms' },
    });
    const metrics = createInMemoryMetrics();
    const switches: string[] = [];
    const counting: ScannerMetrics = {
      ...metrics,
      switchModel: (from, to) => {
        switches.push(`${from}->${to}`);
        metrics.switchModel(from, to);
      },
    };
    const got: WalMessage[] = [];
    const txn = await small.beginTxn({ vchannel: 'v1', keepalive: '1h' });
    const bodies = [await txn.append({ type: 'Insert', payload: 'first-body' })];
    const reader = (async () => {
      for await (const m of scanWal(small, {
        vchannel: 'v1',
        scheduler: clock.scheduler,
        metrics: counting,
        pendingLimit: 1,
      })) {
        if (m.type === 'TimeTick') continue;
        got.push(m);
        if (got.length === 1)
          await new Promise<void>((r) => clock.scheduler.schedule(() => r(), 500)); // stall
        if (isTxnMessage(m)) break;
      }
    })();
    await clock.advance(30);
    await small.append({ type: 'Insert', vchannel: 'v1', payload: 'plain' });
    await clock.advance(30);
    for (let i = 0; i < 20; i++) {
      bodies.push(await txn.append({ type: 'Insert', payload: `body-${i}-${'x'.repeat(20)}` }));
      await small.append({ type: 'Insert', vchannel: 'v2', payload: 'y'.repeat(30) });
      await clock.advance(20);
    }
    const commit = await txn.commit();
    await clock.advance(2000, 10);
    await reader;
    expect(switches).toContain('tailing->catchup');
    const txnMessage = got.find(isTxnMessage);
    expect(txnMessage?.id.key).toBe(commit.id.key);
    expect(txnMessage?.body.map((b) => b.id.key)).toEqual(bodies.map((b) => b.id.key));
    expect(got.filter((m) => m.payload === 'plain')).toHaveLength(1);
    const closing = small.close();
    await clock.advance(1);
    await closing;
  });

  test('T-SA-1 through scanWal: read errors retried, unsubscribe is clean', async () => {
    // every read fails ("#" each), far more often than two virtual seconds of backoff can use
    const failing = scriptedWal(`(${'#'.repeat(50)})`, {}, { scheduler: clock.scheduler });
    const out = collect(scanWal(failing, { vchannel: 'test', scheduler: clock.scheduler }));
    await clock.advance(2000);
    // 0, then waits of 100, 200, 400 ms ±50 %: the fourth retry is due by 1,050 ms at the latest
    expect(failing.reads.length).toBeGreaterThanOrEqual(4);
    expect(failing.reads.every((read) => read.policy.kind === 'all')).toBe(true); // nothing read
    expect(clock.pendingTimers).toBe(1); // backing off
    out.unsubscribe();
    expect(out.errors).toEqual([]);
    expect(clock.pendingTimers).toBe(0); // the backoff timer was released
    failing.close();
  });

  test('a read error, a stream end and an eviction in one script: every message once, in tick order', async () => {
    const scripted = scriptedWal(
      '(abt) 10ms (#|cs!) 10ms (du)', // at 15 ms: two faults, two messages, an eviction
      {
        a: 'ins v1 @2',
        b: 'ins v1 @1',
        t: 'tt @3',
        c: 'ins v1 @4',
        s: 'tt @5',
        d: 'ins v1 @6',
        u: 'tt @7',
      },
      { writeAheadBuffer: true, scheduler: clock.scheduler },
    );
    const out = collect(scanWal(scripted, { scheduler: clock.scheduler }));
    await clock.advance(1000);
    expect(out.seen).toEqual([
      'Insert v1 @1 #2',
      'Insert v1 @2 #1',
      'TimeTick @3 #3',
      'Insert v1 @4 #4',
      'TimeTick @5 #5',
      'Insert v1 @6 #6',
      'TimeTick @7 #7',
    ]);
    expect(out.errors).toEqual([]);
    // the eviction sent the tailing scanner back to the log at 15 ms; that read failed ("#"),
    // the next one's stream ended ("|"), the third caught up and the scanner tailed again
    const reads = scripted.reads;
    expect(reads.map((read) => read.policy)).toEqual([
      DeliverPolicy.all(),
      DeliverPolicy.startFrom(messageId(3)),
      DeliverPolicy.startFrom(messageId(3)),
      DeliverPolicy.startFrom(messageId(3)),
    ]);
    const [, evicted = 0, afterFail = 0, afterEnd = 0] = reads.map((read) => read.at);
    expect(evicted).toBe(15);
    expect(afterFail - evicted).toBeGreaterThanOrEqual(50); // 100 ms ±50 %
    expect(afterFail - evicted).toBeLessThanOrEqual(150);
    expect(afterEnd - afterFail).toBeGreaterThanOrEqual(100); // 200 ms ±50 %
    expect(afterEnd - afterFail).toBeLessThanOrEqual(300);
    out.unsubscribe();
    scripted.close();
  });

  test('pipes like any Observable and re-subscribes fresh', async () => {
    wal.appendRaw({ type: 'Insert', timeTick: 1n });
    wal.appendRaw({ type: 'TimeTick', timeTick: 2n });
    const scan = scanWal(wal, { scheduler: clock.scheduler });
    const first = firstValueFrom(scan.pipe(take(2), toArray()));
    await clock.advance(5);
    const second = firstValueFrom(scan.pipe(take(2), toArray()));
    await clock.advance(5);
    expect((await first).map(formatWalMessage)).toEqual((await second).map(formatWalMessage));
  });

  test('logs through pino child loggers bound to the scanner name and channel', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'info' }, stream);
    await wal.append({ type: 'Insert' });
    const out = collect(scanWal(wal, { name: 'flusher', logger, scheduler: clock.scheduler }));
    await clock.advance(10);
    out.unsubscribe();
    await settle();
    const switched = lines.find((l) => l.msg === 'scanner switched to tailing');
    expect(switched).toMatchObject({
      name: 'flusher',
      channel: 'p0',
      component: 'switchableSource',
    });
    expect(lines.find((l) => l.msg === 'scanner is closed')).toMatchObject({ name: 'flusher' });
  });

  test('unsubscribing from inside the consumer callback stops delivery at once and releases the scanner', async () => {
    const metrics = createInMemoryMetrics();
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 1 });
    const seen: unknown[] = [];
    const subscription = scanWal(wal, { scheduler: clock.scheduler, metrics }).subscribe((m) => {
      if (m.type !== 'Insert') return;
      seen.push(m.payload);
      if (m.payload === 2) subscription.unsubscribe(); // closing from inside a callback
    });
    await clock.advance(10);
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 1 });
    await Promise.all(
      [2, 3].map((payload) => wal.append({ type: 'Insert', vchannel: 'v1', payload })),
    );
    await clock.advance(400);
    expect(seen).toEqual([1, 2]); // 3 was released by the same time tick, after the unsubscribe
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 0 });
    expect(metrics.snapshot().bytes).toEqual({ pendingQueue: 0, reorderBuffer: 0, txnBuffer: 0 });
  });

  test('rejects bad options with ConfigError naming the option', () => {
    expect(() => scanWal(wal, { pendingLimit: 0 })).toThrow(/pendingLimit/);
    expect(() => scanWal(wal, { filters: [{ kind: 'nope' } as unknown as DeliverFilter] })).toThrow(
      ConfigError,
    );
    expect(() => scanWal(wal, { deliverPolicy: {} as DeliverPolicy })).toThrow(/deliverPolicy/);
    expect(() => scanWal(wal, { metrics: 5 as unknown as ScannerMetrics })).toThrow(/metrics/);
    expect(() =>
      scanWal(wal, { pauseMode: 'sometimes' as 'live', pause$: new BehaviorSubject(false) }),
    ).toThrow(/mode/);
    expect(() => scanWal(wal, { vchannel: 7 as unknown as string })).toThrow(/vchannel/);
    expect(() => scanWal(wal, { metrics: noopMetrics, readBatchSize: -1 })).toThrow(
      /readBatchSize/,
    );
  });
});
