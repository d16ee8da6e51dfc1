import { Subscription, VirtualTimeScheduler } from 'rxjs';

import { ConfigError } from '../../lib/errors.js';
import { Backoff, DEFAULT_BACKOFF, sleep } from '../../lib/internal/backoff.js';
import { settle } from '../../lib/testing/index.js';

function delays(backoff: Backoff, n: number): number[] {
  return Array.from({ length: n }, () => backoff.nextDelay());
}

function advanceTo(scheduler: VirtualTimeScheduler, frame: number): void {
  scheduler.maxFrames = frame;
  scheduler.flush();
  scheduler.frame = frame;
}

describe('Backoff', () => {
  it('runs 100, 200, 400, … capped at 5000 ms by default (jitter factor 1 at random 0.5)', () => {
    expect(DEFAULT_BACKOFF).toEqual({ initialMs: 100, multiplier: 2, maxMs: 5_000 });
    const backoff = new Backoff(undefined, () => 0.5);
    expect(delays(backoff, 9)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });

  it('multiplies each base interval by a jitter factor in [0.5, 1.5)', () => {
    expect(delays(new Backoff({}, () => 0), 3)).toEqual([50, 100, 200]);
    const high = delays(new Backoff({}, () => 0.999_999), 7);
    expect(high[0]).toBeCloseTo(149.9999, 3);
    expect(high[6]).toBeCloseTo(7499.995, 2);
    for (const [i, base] of [100, 200, 400, 800, 1600, 3200, 5000].entries()) {
      expect(high[i]).toBeLessThan(base * 1.5);
      expect(high[i]).toBeGreaterThanOrEqual(base * 0.5);
    }
  });

  it('uses the injected randomness for every delay', () => {
    const randoms = [0.1, 0.9, 0.25];
    const backoff = new Backoff({ initial: 1000, max: 10_000 }, () => randoms.shift() ?? 0.5);
    expect(delays(backoff, 4)).toEqual([600, 2800, 3000, 8000]);
  });

  it('reset() starts the sequence over', () => {
    const backoff = new Backoff(undefined, () => 0.5);
    delays(backoff, 5);
    backoff.reset();
    expect(delays(backoff, 3)).toEqual([100, 200, 400]);
  });

  it('takes durations as strings and other multipliers', () => {
    const backoff = new Backoff({ initial: '1s', max: '10s', multiplier: 3 }, () => 0.5);
    expect(delays(backoff, 4)).toEqual([1000, 3000, 9000, 10_000]);
    expect(delays(new Backoff({ initial: 250, max: 250, multiplier: 1 }, () => 0.5), 3)).toEqual([
      250, 250, 250,
    ]);
  });

  it.each([
    [{ multiplier: 0.5 }, 'backoff.multiplier'],
    [{ multiplier: Number.NaN }, 'backoff.multiplier'],
    [{ multiplier: Infinity }, 'backoff.multiplier'],
    [{ initial: 1000, max: 500 }, 'backoff.max'],
    [{ max: 50 }, 'backoff.max'],
    [{ initial: '5 parsecs' }, 'backoff.initial'],
    [{ max: '5 parsecs' }, 'backoff.max'],
    [{ initial: -1 }, 'backoff.initial'],
  ])('throws ConfigError for %p', (options, option) => {
    let error: unknown;
    try {
      new Backoff(options);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe(option);
  });

  it('throws ConfigError for options that are not an object', () => {
    expect(() => new Backoff(5 as unknown as undefined)).toThrow(ConfigError);
    expect(() => new Backoff(null as unknown as undefined)).toThrow(ConfigError);
  });
});

describe('sleep', () => {
  it('resolves after the delay on the injected scheduler, not before', async () => {
    const scheduler = new VirtualTimeScheduler();
    let resolved = false;
    const timers: Subscription[] = [];
    void sleep(scheduler, 100, (timer) => timers.push(timer)).then(() => {
      resolved = true;
    });
    expect(timers).toHaveLength(1);
    advanceTo(scheduler, 99);
    await settle();
    expect(resolved).toBe(false);
    advanceTo(scheduler, 100);
    await settle();
    expect(resolved).toBe(true);
    expect(scheduler.actions).toHaveLength(0);
  });

  it('is cancelled through the tracked timer, leaving nothing scheduled', async () => {
    const scheduler = new VirtualTimeScheduler();
    let resolved = false;
    const owner = new Subscription();
    void sleep(scheduler, 100, (timer) => owner.add(timer)).then(() => {
      resolved = true;
    });
    expect(scheduler.actions).toHaveLength(1);
    owner.unsubscribe();
    expect(scheduler.actions).toHaveLength(0);
    advanceTo(scheduler, 1_000);
    await settle();
    expect(resolved).toBe(false);
  });
});
