import { BehaviorSubject } from 'rxjs';

import { scanWal } from '../../lib/scanner/scanWal.js';
import { createMemoryWal } from '../../lib/wal/memoryWal.js';
import type { ReadableWal } from '../../lib/wal/wal.js';

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('scanner lifecycle', () => {
  test('unsubscribing releases readers, timers and pause$ subscriptions; closing the WAL its timer', async () => {
    await wait(1);
    const before = timers();
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
    await wait(40);
    expect(seen).toContain('Insert');
    expect((await pulled)?.type).toBe('Insert');
    expect(timers()).toBeGreaterThan(before);
    for (const s of subscriptions) s.unsubscribe();
    expect(pause$.observed).toBe(false);
    expect(paused$.observed).toBe(false);
    await wal.close();
    await wait(1);
    expect(timers()).toBe(before);
  });
});
