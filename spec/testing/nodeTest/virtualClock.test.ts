// Run by `node --test` (from spec/testing/virtualClock.spec.ts): rxwal/testing needs no jest.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { firstValueFrom, timer } from 'rxjs';

import { createMemoryWal, scanWal, type WalMessage } from '../../../lib/index.js';
import { settle, VirtualClock } from '../../../lib/testing/index.js';

test('a timer and a promise chain run in virtual time under node:test', async () => {
  const clock = new VirtualClock();
  const fired: number[] = [];
  const done = firstValueFrom(timer(250, clock.scheduler)).then(() => fired.push(clock.now()));
  await clock.advance(249);
  assert.deepEqual(fired, []);
  await clock.advance(1);
  await done;
  assert.deepEqual(fired, [250]);
});

test("a scanner over a memory WAL sees the writer's periodic tick under node:test", async () => {
  const clock = new VirtualClock();
  const wal = createMemoryWal({ scheduler: clock.scheduler, timeTickInterval: '200ms' });
  const seen: WalMessage[] = [];
  const subscription = scanWal(wal, { scheduler: clock.scheduler }).subscribe((m) => seen.push(m));
  await wal.append({ type: 'Insert', vchannel: 'v1' });
  await settle();
  assert.equal(
    seen.some((m) => m.type === 'Insert'),
    false,
  );
  await clock.advance(200);
  assert.equal(seen.filter((m) => m.type === 'Insert').length, 1);
  subscription.unsubscribe();
  await wal.close();
});
