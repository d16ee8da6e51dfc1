import type { SchedulerLike } from 'rxjs';
import { VirtualTimeScheduler } from 'rxjs';

import { tso } from '../../lib/message/tso.js';
import { HybridClock } from '../../lib/wal/clock.js';

/** A scheduler whose clock the test sets directly (it may step backwards). */
function manualClock(start: number): SchedulerLike & { set(ms: number): void } {
  const scheduler = new VirtualTimeScheduler();
  scheduler.frame = start;
  return Object.assign(scheduler, {
    set(ms: number): void {
      scheduler.frame = ms;
    },
  });
}

describe('HybridClock', () => {
  it('is strictly increasing, with the logical part counting within a millisecond', () => {
    const time = manualClock(1_000);
    const clock = new HybridClock(time);
    const a = clock.next();
    const b = clock.next();
    const c = clock.next();
    expect(a).toBe(tso.compose(1_000, 0));
    expect(b).toBe(tso.compose(1_000, 1));
    expect(c).toBe(tso.compose(1_000, 2));
    time.set(1_005);
    expect(clock.next()).toBe(tso.compose(1_005, 0));
    expect(clock.physicalMs).toBe(1_005);
  });

  it('takes the physical part from the scheduler, dropping fractions of a millisecond', () => {
    const clock = new HybridClock({
      now: () => 1_234.9,
      schedule: new VirtualTimeScheduler().schedule,
    });
    expect(clock.next()).toBe(tso.compose(1_234, 0));
  });

  it('stays monotonic when the scheduler’s now() steps backwards', () => {
    const time = manualClock(5_000);
    const clock = new HybridClock(time);
    const before = clock.next();
    time.set(4_000);
    const after = [clock.next(), clock.next()];
    expect(after[0]).toBe(tso.compose(5_000, 1));
    expect(after[1]).toBe(tso.compose(5_000, 2));
    expect(after[0]).toBeGreaterThan(before);
    time.set(5_001);
    expect(clock.next()).toBe(tso.compose(5_001, 0));
  });

  it('rolls the physical part when more than 2^18 ticks are taken within one millisecond', () => {
    const time = manualClock(7_000);
    const clock = new HybridClock(time);
    let previous = -1n;
    let last = 0n;
    for (let i = 0; i < 2 ** 18; i++) {
      last = clock.next();
      if (last <= previous)
        throw new Error(`tick ${i} did not increase: ${last} after ${previous}`);
      previous = last;
    }
    expect(last).toBe(tso.compose(7_000, 2 ** 18 - 1));
    const rolled = clock.next();
    expect(rolled).toBe(tso.compose(7_001, 0));
    expect(clock.physicalMs).toBe(7_001);
    // the clock has run ahead of the scheduler; when the scheduler catches up it keeps counting
    time.set(7_001);
    expect(clock.next()).toBe(tso.compose(7_001, 1));
    time.set(7_002);
    expect(clock.next()).toBe(tso.compose(7_002, 0));
  });

  it('observe() moves the clock past a given tick', () => {
    const time = manualClock(1_000);
    const clock = new HybridClock(time);
    clock.observe(tso.compose(9_000, 41));
    expect(clock.next()).toBe(tso.compose(9_000, 42));
    expect(clock.physicalMs).toBe(9_000);
    clock.observe(tso.compose(9_000, 500)); // same millisecond, higher logical
    expect(clock.next()).toBe(tso.compose(9_000, 501));
  });

  it('observe() of an older tick changes nothing', () => {
    const time = manualClock(1_000);
    const clock = new HybridClock(time);
    clock.next();
    clock.next();
    clock.observe(tso.compose(999, 7));
    clock.observe(tso.compose(1_000, 0));
    expect(clock.next()).toBe(tso.compose(1_000, 2));
  });

  it('observe() of a tick with the maximum logical part rolls the next tick to the next millisecond', () => {
    const clock = new HybridClock(manualClock(1_000));
    clock.observe(tso.compose(2_000, 2 ** 18 - 1));
    expect(clock.next()).toBe(tso.compose(2_001, 0));
  });
});
