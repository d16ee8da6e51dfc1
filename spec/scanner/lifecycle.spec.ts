import { createHook } from 'node:async_hooks';
import { join } from 'node:path';

import { BehaviorSubject } from 'rxjs';

import { scanWal } from '../../lib/scanner/scanWal.js';
import { createMemoryWal } from '../../lib/wal/memoryWal.js';
import type { ReadableWal } from '../../lib/wal/wal.js';
import { until } from '../support/promises.js';

const libDir = join(__dirname, '..', '..', 'lib');

/** Tracks the rxwal timers created while it is enabled, until each one is gone; keeps where each was made. */
function timerTracker(): { live(): string[]; stop(): void } {
  const live = new Map<number, string>();
  const hook = createHook({
    init(asyncId, type) {
      // only timers rxwal makes (their creation stack passes through lib/), not jest's own
      const stack = new Error('timer created').stack ?? '';
      if (type === 'Timeout' && stack.includes(libDir)) live.set(asyncId, stack);
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  }).enable();
  return { live: () => [...live.values()], stop: () => hook.disable() };
}

describe('scanner lifecycle', () => {
  test('unsubscribing releases readers, timers and pause$ subscriptions; closing the WAL its timer', async () => {
    const tracker = timerTracker();
    const wal = createMemoryWal({ channel: 'life', timeTickInterval: '5ms' });
    await wal.append({ type: 'Insert', vchannel: 'v1' });
    const pause$ = new BehaviorSubject(false);
    const paused$ = new BehaviorSubject(true);
    const failing: ReadableWal = {
      channel: 'broken',
      accessMode: 'ro',
      read: () => {
        throw new Error('read error');
      },
    };
    const seen: string[] = [];
    const subscriptions = [
      scanWal(wal, { pause$ }).subscribe((m) => seen.push(m.type)), // tailing
      scanWal(wal, { pause$: paused$ }).subscribe(), // paused at the gate
      scanWal(wal.readOnly(), { pause$, pauseMode: 'live' }).subscribe(), // catch-up, waiting for records
      scanWal(failing, { backoff: { initial: '20ms' } }).subscribe(), // backing off on a timer
    ];
    const pulled = (async () => {
      for await (const m of scanWal(wal, { vchannel: 'v1' })) if (m.type === 'Insert') return m;
      return undefined;
    })();
    expect((await pulled)?.type).toBe('Insert');
    // the push scanner gets the insert with the writer's next tick: wait for it, not for a time
    await until(() => seen.includes('Insert'));
    expect(seen).toContain('Insert');
    expect(tracker.live().length).toBeGreaterThan(0);
    for (const s of subscriptions) s.unsubscribe();
    expect(pause$.observed).toBe(false);
    expect(paused$.observed).toBe(false);
    await wal.close();
    // destroy hooks run on later turns of the loop (later still on a loaded machine): wait for
    // them with immediates, which the tracker does not count, for at most two seconds
    const deadline = Date.now() + 2000;
    do await new Promise((resolve) => setImmediate(resolve));
    while (tracker.live().length > 0 && Date.now() < deadline);
    tracker.stop();
    expect(tracker.live()).toEqual([]); // every timer the scanners and the WAL made is gone
  });
});
