// Run by `vitest run` (from spec/testing/virtualClock.spec.ts): rxwal/testing works under vitest.
import { firstValueFrom, timer } from 'rxjs';
import { expect, test } from 'vitest';

import { createMemoryWal, scanWal, type WalMessage } from '../../../lib/index.js';
import { formatWalMessage, scriptedWal, settle, VirtualClock } from '../../../lib/testing/index.js';

test('a timer and a promise chain run in virtual time under vitest', async () => {
  const clock = new VirtualClock();
  const fired: number[] = [];
  const done = firstValueFrom(timer(250, clock.scheduler)).then(() => fired.push(clock.now()));
  await clock.advance(249);
  expect(fired).toEqual([]);
  await clock.advance(1);
  await done;
  expect(fired).toEqual([250]);
});

test("a scanner over a memory WAL sees the writer's periodic tick under vitest", async () => {
  const clock = new VirtualClock();
  const wal = createMemoryWal({ scheduler: clock.scheduler, timeTickInterval: '200ms' });
  const seen: WalMessage[] = [];
  const subscription = scanWal(wal, { scheduler: clock.scheduler }).subscribe((m) => seen.push(m));
  await wal.append({ type: 'Insert', vchannel: 'v1' });
  await settle();
  expect(seen.filter((m) => m.type === 'Insert')).toHaveLength(0);
  await clock.advance(200);
  expect(seen.filter((m) => m.type === 'Insert')).toHaveLength(1);
  subscription.unsubscribe();
  await wal.close();
});

test('a scanner over a scripted WAL retries a failed read and delivers once under vitest', async () => {
  const clock = new VirtualClock();
  const wal = scriptedWal(
    '(#abt)',
    { a: 'ins v1 @2', b: 'ins v1 @1', t: 'tt @3' },
    { scheduler: clock.scheduler },
  );
  const seen: string[] = [];
  const subscription = scanWal(wal, { scheduler: clock.scheduler }).subscribe((m) =>
    seen.push(formatWalMessage(m)),
  );
  await clock.advance(49);
  expect(wal.reads).toHaveLength(1); // failed; the retry waits 100 ms ± 50 %
  expect(seen).toEqual([]);
  await clock.advance(101);
  expect(wal.reads).toHaveLength(2);
  expect(seen).toEqual(['Insert v1 @1 #2', 'Insert v1 @2 #1', 'TimeTick @3 #3']);
  subscription.unsubscribe();
  wal.close();
  expect(clock.pendingTimers).toBe(0);
});
