/**
 * Reference § 8.9 (WAL integration): several writers' worth of plain inserts and transactions
 * (committed, rolled back, abandoned) across vchannels; readers on all() with a type filter,
 * stalling long enough to force write-ahead-buffer evictions, and readers resuming from a
 * message's last-confirmed id. Every reader must receive exactly the expected messages, each
 * once, with strictly increasing ticks.
 */
import { isTxnMessage, type WalMessage } from '../../lib/message/message.js';
import { createInMemoryMetrics } from '../../lib/observability/metrics.js';
import { DeliverFilter } from '../../lib/options/deliverFilter.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { scanWal, type ScanObservable } from '../../lib/scanner/scanWal.js';
import { createMemoryWal, type MemoryWal } from '../../lib/wal/memoryWal.js';
import type { ReadableWal } from '../../lib/wal/wal.js';
import { between, seededRandom } from '../support/random.js';
import { VirtualClock } from '../support/virtualTime.js';

/** What a v1 consumer must see: a plain insert, or a committed transaction. */
interface Expected {
  readonly timeTick: bigint;
  readonly text: string;
}

interface Workload {
  readonly expected: Expected[]; // v1 only, in write order
  readonly written: WalMessage[]; // every message the writer acknowledged
  readonly finalTick: bigint;
}

const describeInsert = (m: WalMessage): string => `Insert#${m.id.key}@${m.timeTick}`;
const describeTxn = (commit: WalMessage, bodies: readonly WalMessage[]): string =>
  `Txn#${commit.id.key}@${commit.timeTick}[${bodies.map((b) => b.id.key).join(',')}]`;

function describeDelivered(m: WalMessage): string {
  if (isTxnMessage(m)) return describeTxn(m, m.body);
  return describeInsert(m);
}

async function writeWorkload(
  wal: MemoryWal,
  clock: VirtualClock,
  random: () => number,
  rounds: number,
): Promise<Workload> {
  const expected: Expected[] = [];
  const written: WalMessage[] = [];
  const vchannels = ['v1', 'v2', 'v3'];
  const pick = (): string => vchannels[between(random, 0, 2)] as string;
  const note = (m: WalMessage, vchannel: string): void => {
    written.push(m);
    if (vchannel === 'v1') expected.push({ timeTick: m.timeTick, text: describeInsert(m) });
  };
  for (let round = 0; round < rounds; round++) {
    if (random() < 0.5) {
      // concurrent inserts: they may reach the log out of tick order
      const targets = Array.from({ length: between(random, 1, 4) }, pick);
      const messages = await Promise.all(
        targets.map((vchannel) => wal.append({ type: 'Insert', vchannel, payload: round })),
      );
      messages.forEach((m, i) => note(m, targets[i] as string));
    } else {
      const vchannel = pick();
      const txn = await wal.beginTxn({ vchannel, keepalive: '10s' });
      written.push(txn.begin);
      const bodies = await Promise.all(
        Array.from({ length: between(random, 0, 4) }, () =>
          txn.append({ type: 'Insert', payload: round }),
        ),
      );
      written.push(...bodies);
      const commit = await txn.commit();
      written.push(commit);
      if (vchannel === 'v1')
        expected.push({ timeTick: commit.timeTick, text: describeTxn(commit, bodies) });
    }
    if (random() < 1 / 3) {
      // a transaction that never commits: rolled back, or abandoned until its keepalive passes
      const doomed = await wal.beginTxn({ vchannel: pick(), keepalive: '300ms' });
      written.push(doomed.begin);
      written.push(await doomed.append({ type: 'Insert' }));
      if (random() < 0.5) written.push(await doomed.rollback());
    }
    await clock.advance(between(random, 0, 12));
  }
  const last = await wal.syncTimeTick({ persisted: true });
  expected.sort((a, b) => (a.timeTick < b.timeTick ? -1 : a.timeTick > b.timeTick ? 1 : 0));
  return { expected, written, finalTick: last.timeTick };
}

/** Reads until a time tick at or past `until()`; stalls now and then to force evictions. */
async function readAll(
  scan: ScanObservable,
  clock: VirtualClock,
  random: () => number,
  until: () => bigint | undefined,
  stalls: boolean,
): Promise<WalMessage[]> {
  const got: WalMessage[] = [];
  for await (const m of scan) {
    if (m.type === 'TimeTick') {
      const end = until();
      if (end !== undefined && m.timeTick >= end) break;
      continue;
    }
    got.push(m);
    if (stalls && random() < 0.03) {
      await new Promise<void>((resolve) =>
        clock.scheduler.schedule(() => resolve(), between(random, 100, 600)),
      );
    }
  }
  return got;
}

function checkDelivery(got: WalMessage[], expected: readonly Expected[]): void {
  expect(got.map(describeDelivered)).toEqual(expected.map((e) => e.text));
  for (let i = 1; i < got.length; i++) {
    expect((got[i] as WalMessage).timeTick).toBeGreaterThan((got[i - 1] as WalMessage).timeTick);
  }
}

describe('reference § 8.9 WAL integration', () => {
  test.each([1, 2, 3])(
    'readers on all() with a type filter and stalls receive every v1 insert and committed txn once, in tick order (seed %i)',
    async (seed) => {
      const clock = new VirtualClock();
      const random = seededRandom(seed);
      const wal = createMemoryWal({
        channel: `p${seed}`,
        scheduler: clock.scheduler,
        timeTickInterval: '50ms',
        writeAheadBuffer: { keepalive: '500ms', capacity: '10kb' },
        reorderConcurrentWrites: true,
        random: seededRandom(seed * 7),
      });
      const metrics = createInMemoryMetrics();
      const switches: string[] = [];
      const switchModel = metrics.switchModel.bind(metrics);
      metrics.switchModel = (from, to) => {
        switches.push(`${from ?? 'start'}->${to}`);
        switchModel(from, to);
      };
      let finalTick: bigint | undefined = undefined;
      const until = (): bigint | undefined => finalTick;
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
          until,
          true,
        ),
      );
      const workload = await writeWorkload(wal, clock, random, 250);
      finalTick = workload.finalTick;
      let results: WalMessage[][] | undefined;
      void Promise.all(readers).then((r) => (results = r));
      for (let spins = 0; results === undefined && spins < 2000; spins++)
        await clock.advance(50, 5);
      expect(results).toBeDefined();
      for (const got of results ?? []) checkDelivery(got, workload.expected);
      expect(workload.expected.length).toBeGreaterThan(50);
      // the stalls did force evictions: tailing readers fell back to catch-up and joined again
      expect(switches.filter((s) => s === 'tailing->catchup').length).toBeGreaterThan(0);
      expect(switches.filter((s) => s === 'catchup->tailing').length).toBeGreaterThanOrEqual(2);

      // Readers resuming at a written message: startFrom(lastConfirmedId) + timeTickGTE(tick).
      const resumeRandom = seededRandom(seed * 31);
      for (let r = 0; r < 4; r++) {
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
          until,
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

      const closing = wal.close();
      await clock.advance(1);
      await closing;
      const snapshot = metrics.snapshot();
      expect(snapshot.bytes).toEqual({ pendingQueue: 0, reorderBuffer: 0, txnBuffer: 0 });
      expect(snapshot.scanners).toEqual({ catchup: 0, tailing: 0 });
      expect(snapshot.txn.expired).toBeGreaterThan(0); // abandoned transactions were dropped
    },
    30_000,
  );
});
