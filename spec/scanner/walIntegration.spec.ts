/**
 * Reference § 8.9 (WAL integration): several writers' worth of plain inserts and transactions
 * (committed, rolled back, abandoned) across vchannels; readers on all() with a type filter,
 * stalling long enough to force write-ahead-buffer evictions, and readers resuming from a
 * message's last-confirmed id. Every reader must receive exactly the expected messages, each
 * once, with strictly increasing ticks.
 */
import type { WalMessage } from '../../lib/message/message.js';
import { createInMemoryMetrics } from '../../lib/observability/metrics.js';
import { DeliverFilter } from '../../lib/options/deliverFilter.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { createMemoryWal } from '../../lib/wal/memoryWal.js';
import type { ReadableWal } from '../../lib/wal/wal.js';
import { between, seededRandom } from '../support/random.js';
import { VirtualClock } from '../../lib/testing/index.js';
import { checkDelivery, readAll, writeWorkload } from '../support/walWorkload.js';

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
