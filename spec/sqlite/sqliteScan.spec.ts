/**
 * scanWal over a SQLite WAL: catch-up from the file, then tailing through the writer's
 * write-ahead buffer; and the workload of reference § 8.9 (spec/scanner/walIntegration.spec.ts)
 * on a real file, with readers stalling into evictions and readers resuming from a message.
 */
import { isTxnMessage, type WalMessage } from '../../lib/message/message.js';
import {
  createInMemoryMetrics,
  noopMetrics,
  type ScannerLag,
} from '../../lib/observability/metrics.js';
import { tso } from '../../lib/message/tso.js';
import { DeliverFilter } from '../../lib/options/deliverFilter.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { openSqliteWal, type SqliteWal } from '../../lib/sqlite/index.js';
import { formatWalMessage } from '../../lib/testing/notation.js';
import type { ReadableWal } from '../../lib/wal/wal.js';
import { between, seededRandom } from '../support/random.js';
import { VirtualClock } from '../../lib/testing/index.js';
import { checkDelivery, readAll, writeWorkload } from '../support/walWorkload.js';
import { tempFiles } from './support/files.js';

const files = tempFiles();
afterAll(() => files.cleanup());

async function closeWal(wal: SqliteWal, clock: VirtualClock): Promise<void> {
  const closing = wal.close();
  await clock.advance(1);
  await closing;
}

describe('scanWal over a SQLite WAL', () => {
  test('catches up from the file, tails, and delivers transactions as one Txn at their commit', async () => {
    const clock = new VirtualClock();
    const path = files.path();
    const metrics = createInMemoryMetrics();
    // a log from an earlier run of the writer
    const before = await openSqliteWal(path, { scheduler: clock.scheduler, synchronous: 'normal' });
    await before.append({ type: 'Insert', vchannel: 'v1', payload: Buffer.from('old') });
    await closeWal(before, clock);

    const wal = await openSqliteWal(path, { scheduler: clock.scheduler, synchronous: 'normal' });
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: Buffer.from('a') });
    const seen: string[] = [];
    const payloads: string[] = [];
    const sub = scanWal(wal, { vchannel: 'v1', scheduler: clock.scheduler, metrics }).subscribe(
      (m) => {
        seen.push(formatWalMessage(m));
        if (!isTxnMessage(m) && m.type === 'Insert') payloads.push(String(m.payload));
        if (isTxnMessage(m)) payloads.push(...m.body.map((b) => String(b.payload)));
      },
    );
    await clock.advance(10);
    const txn = await wal.beginTxn({ vchannel: 'v1' });
    const body = await txn.append({ type: 'Insert', payload: Buffer.from('b') });
    const rolledBack = await wal.beginTxn({ vchannel: 'v1' });
    await rolledBack.append({ type: 'Insert', payload: Buffer.from('x') });
    await rolledBack.rollback();
    const commit = await txn.commit();
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: Buffer.from('c') });
    await clock.advance(400);
    expect(payloads).toEqual(['old', 'a', 'b', 'c']);
    expect(seen).toContain(
      `Txn:${txn.txnId} v1 @${commit.timeTick} #${commit.id.key} lc=${txn.begin.id.key} [Insert:${txn.txnId} v1 @${commit.timeTick} #${body.id.key} lc=${txn.begin.id.key}]`,
    );
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 1 });
    expect(metrics.snapshot().txn).toMatchObject({ committed: 1, rolledBack: 1 });
    sub.unsubscribe();
    await closeWal(wal, clock);
  });

  test('closing the WAL ends its scanners with ClosedError', async () => {
    const clock = new VirtualClock();
    const wal = await openSqliteWal(files.path(), { scheduler: clock.scheduler });
    await wal.append({ type: 'Insert', vchannel: 'v1' });
    const errors: unknown[] = [];
    scanWal(wal, { scheduler: clock.scheduler }).subscribe({
      error: (e: unknown) => errors.push(e),
    });
    scanWal(wal.readOnly(), { scheduler: clock.scheduler }).subscribe({
      error: (e: unknown) => errors.push(e),
    });
    await clock.advance(300);
    await closeWal(wal, clock);
    await clock.advance(10);
    expect(errors.map((e) => (e as Error).name)).toEqual(['ClosedError', 'ClosedError']);
  });

  test.each([1, 2, 3])(
    'reference § 8.9 on a file: readers with stalls and resuming readers get every v1 insert and committed txn once, in tick order (seed %i)',
    async (seed) => {
      const clock = new VirtualClock();
      const random = seededRandom(seed);
      const wal = await openSqliteWal(files.path(), {
        channel: `p${seed}`,
        scheduler: clock.scheduler,
        synchronous: 'normal',
        timeTickInterval: '50ms',
        writeAheadBuffer: { keepalive: '500ms', capacity: '4kb' },
        reorderConcurrentWrites: true,
        random: seededRandom(seed * 7),
        readBatchSize: 16,
      });
      const metrics = createInMemoryMetrics();
      const switches: string[] = [];
      const switchModel = metrics.switchModel.bind(metrics);
      metrics.switchModel = (from, to) => {
        switches.push(`${from ?? 'start'}->${to}`);
        switchModel(from, to);
      };
      let finalTick: bigint | undefined = undefined;
      const options = {
        vchannel: 'v1',
        filters: [DeliverFilter.messageType('Insert')],
        scheduler: clock.scheduler,
        metrics,
      };
      const sources: ReadableWal[] = [wal, wal, wal.readOnly()];
      const readers = sources.map((source, i) =>
        readAll(
          scanWal(source, { ...options, name: `reader-${i}` }),
          clock,
          seededRandom(seed * 100 + i),
          () => finalTick,
          true,
        ),
      );
      const workload = await writeWorkload(wal, clock, random, 250, (round) =>
        Buffer.from(`round ${round}`),
      );
      finalTick = workload.finalTick;
      let results: WalMessage[][] | undefined;
      void Promise.all(readers).then((r) => (results = r));
      for (let spins = 0; results === undefined && spins < 2000; spins++)
        await clock.advance(50, 5);
      expect(results).toBeDefined();
      for (const got of results ?? []) checkDelivery(got, workload.expected);
      expect(workload.expected.length).toBeGreaterThan(30);
      expect(switches.filter((s) => s === 'tailing->catchup').length).toBeGreaterThan(0);
      expect(switches.filter((s) => s === 'catchup->tailing').length).toBeGreaterThanOrEqual(2);

      const resumeRandom = seededRandom(seed * 31);
      for (let r = 0; r < 3; r++) {
        const m = workload.written[
          between(resumeRandom, 0, workload.written.length - 1)
        ] as WalMessage;
        const resumed = readAll(
          scanWal(wal, {
            ...options,
            deliverPolicy: DeliverPolicy.startFrom(m.lastConfirmedId),
            filters: [DeliverFilter.timeTickGTE(m.timeTick), DeliverFilter.messageType('Insert')],
          }),
          clock,
          resumeRandom,
          () => finalTick,
          false,
        );
        let got: WalMessage[] | undefined;
        void resumed.then((g) => (got = g));
        for (let spins = 0; got === undefined && spins < 200; spins++) await clock.advance(50, 5);
        checkDelivery(
          got ?? [],
          workload.expected.filter((e) => e.timeTick >= m.timeTick),
        );
      }
      await closeWal(wal, clock);
      const snapshot = metrics.snapshot();
      expect(snapshot.bytes).toEqual({ pendingQueue: 0, reorderBuffer: 0, txnBuffer: 0 });
      expect(snapshot.scanners).toEqual({ catchup: 0, tailing: 0 });
    },
    20_000,
  );
});

describe('the lag of a scanner over a SQLite WAL', () => {
  test('logEnd is the newest record and the highest tick; a scanner reports how far behind it is', async () => {
    const clock = new VirtualClock();
    const wal = await openSqliteWal(files.path(), { scheduler: clock.scheduler });
    expect(wal.logEnd?.()).toBeUndefined();
    wal.appendRaw({ type: 'TimeTick', timeTick: tso.compose(1_000) });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: tso.compose(1_500) });
    wal.appendRaw({ type: 'TimeTick', timeTick: tso.compose(4_000) });
    const end = wal.logEnd?.();
    expect([end?.id.key, end?.timeTick]).toEqual(['3', tso.compose(4_000)]);

    const lags: ScannerLag[] = [];
    const metrics = {
      ...noopMetrics,
      observeLag: (_s: unknown, lag: ScannerLag) => lags.push(lag),
    };
    const seen: string[] = [];
    const sub = scanWal(wal, { metrics, scheduler: clock.scheduler }).subscribe((m) =>
      seen.push(m.type),
    );
    for (let i = 0; i < 100 && seen.length < 3; i++) await clock.advance(10);
    expect(seen).toEqual(['TimeTick', 'Insert', 'TimeTick']);
    // the first tick delivered is 3 s and 2 records behind the end; the last one is at the end
    expect(lags[0]).toEqual({ seconds: 3, messages: 2 });
    expect(lags[lags.length - 1]).toEqual({ seconds: 0, messages: 0 });
    sub.unsubscribe();
    await closeWal(wal, clock);
    expect(wal.logEnd?.()).toBeUndefined();
  });
});
