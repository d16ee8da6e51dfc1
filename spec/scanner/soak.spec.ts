/**
 * Leaks and lifecycle (issue 5): subscribe and unsubscribe 10,000 scanners — some paused, some
 * in the middle of a transaction, some tailing — and check that heap, timers and pause$
 * observers return to their baseline.
 */
import { createHook } from 'node:async_hooks';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { BehaviorSubject, type Subscription } from 'rxjs';

import { createInMemoryMetrics } from '../../lib/observability/metrics.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { createMemoryWal } from '../../lib/wal/memoryWal.js';
import { settle, VirtualClock } from '../../lib/testing/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

test('10,000 scanners subscribed and unsubscribed leave heap, timers and pause$ observers at baseline', async () => {
  const clock = new VirtualClock();
  const wal = createMemoryWal({
    channel: 'soak',
    scheduler: clock.scheduler,
    timeTickInterval: '5ms',
  });
  const metrics = createInMemoryMetrics();
  for (let i = 0; i < 50; i++)
    await wal.append({ type: 'Insert', vchannel: `v${i % 4}`, payload: i });
  const txn = await wal.beginTxn({ vchannel: 'v1', keepalive: '1h' });
  await txn.append({ type: 'Insert', payload: 'open body' }); // every scanner meets an open transaction
  await clock.advance(10);
  const paused$ = new BehaviorSubject(true);
  const running$ = new BehaviorSubject(false);
  // Timers made by rxwal (their creation stack passes through lib/), not by jest's reporters.
  const libDir = join(__dirname, '..', '..', 'lib');
  let libTimers = 0;
  const timers = createHook({
    init: (_id, type) => {
      if (type === 'Timeout' && (new Error().stack ?? '').includes(libDir)) libTimers++;
    },
  });

  const cycle = async (batch: number): Promise<void> => {
    const subscriptions: Subscription[] = [];
    for (let i = 0; i < 100; i++) {
      const kind = (batch * 100 + i) % 3;
      const scan =
        kind === 0
          ? scanWal(wal, { pause$: paused$, metrics }) // held at the gate
          : kind === 1
            ? scanWal(wal, { vchannel: 'v1', pause$: running$, metrics }) // mid-transaction, tailing
            : scanWal(wal.readOnly(), { metrics, pause$: running$, pauseMode: 'live' }); // catch-up
      subscriptions.push(scan.subscribe());
    }
    await clock.advance(2); // let them read, join the buffer and wait
    for (const s of subscriptions) s.unsubscribe();
  };

  await cycle(0); // warm up: code, inline caches, the log's first ticks
  await settle();
  const baseline = heapAfterGc();
  timers.enable();
  for (let batch = 1; batch < 100; batch++) await cycle(batch);
  await settle();
  timers.disable();
  const growth = heapAfterGc() - baseline;

  expect(paused$.observed).toBe(false);
  expect(running$.observed).toBe(false);
  expect(libTimers).toBe(0); // virtual time: a scanner must not start real timers
  expect(clock.pendingTimers).toBe(1); // only the writer's own time-tick timer
  const snapshot = metrics.snapshot();
  expect(snapshot.scanners).toEqual({ catchup: 0, tailing: 0 });
  expect(snapshot.paused).toBe(0);
  expect(snapshot.bytes).toEqual({ pendingQueue: 0, reorderBuffer: 0, txnBuffer: 0 });
  // 9,900 scanners came and went; the log grew by at most one requested time tick per batch
  expect(growth).toBeLessThan(1.5 * 1024 * 1024);

  const closing = wal.close();
  await clock.advance(1);
  await closing;
}, 60_000);
