// README example
import { scanWal } from '../../lib/index.js';
import { formatWalMessage, scriptedWal, VirtualClock } from '../../lib/testing/index.js';

it('retries a failing read after 100 ms, then 200 ms (each ±50 % jitter)', async () => {
  const clock = new VirtualClock();
  // "#": the next read fails; two of them, then the log can be read
  const wal = scriptedWal(
    '(##abt)',
    { a: 'ins v1 @2', b: 'ins v1 @1', t: 'tt @3' },
    {
      scheduler: clock.scheduler,
    },
  );
  const seen: string[] = [];
  scanWal(wal, { scheduler: clock.scheduler }).subscribe((m) => seen.push(formatWalMessage(m)));

  await clock.advance(49);
  expect(wal.reads).toHaveLength(1); // the first read failed; its retry waits 100 ms ± 50 %
  await clock.advance(101); // 150 ms: the retry has run and failed too; the next wait doubles
  expect(wal.reads).toHaveLength(2);
  expect(seen).toEqual([]);
  await clock.advance(300); // 450 ms: the second retry has run and read the log
  expect(wal.reads).toHaveLength(3);
  expect(seen).toEqual(['Insert v1 @1 #2', 'Insert v1 @2 #1', 'TimeTick @3 #3']);

  // a read that a timer wakes runs when the clock's step (1 ms) ends, so waits are whole ms
  const [first = 0, second = 0, third = 0] = wal.reads.map((read) => read.at);
  expect(second - first).toBeGreaterThanOrEqual(50);
  expect(second - first).toBeLessThanOrEqual(150);
  expect(third - second).toBeGreaterThanOrEqual(100);
  expect(third - second).toBeLessThanOrEqual(300);
});
