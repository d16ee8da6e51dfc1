import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { firstValueFrom, timer } from 'rxjs';

import { ConfigError } from '../../lib/index.js';
import { settle, VirtualClock } from '../../lib/testing/index.js';

const root = join(__dirname, '..', '..');

describe('VirtualClock', () => {
  it('starts at 0 and moves by what advance() is given', async () => {
    const clock = new VirtualClock();
    expect(clock.now()).toBe(0);
    await clock.advance(150);
    expect(clock.now()).toBe(150);
    await clock.advance(0);
    expect(clock.now()).toBe(150);
  });

  it('runs a timer at its own virtual time, not before', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.scheduler.schedule(() => fired.push(clock.now()), 30);
    await clock.advance(29);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([30]);
  });

  it('runs a timer that a promise callback schedules during a step at that timer’s time', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    // a promise loop: wait 10 ms on the scheduler, then await, three times
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await firstValueFrom(timer(10, clock.scheduler));
        await Promise.resolve();
        fired.push(clock.now());
      }
    })();
    await clock.advance(100);
    await loop;
    expect(fired).toEqual([10, 20, 30]);
  });

  it('with a coarse step, timers due inside a step run within it', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.scheduler.schedule(() => fired.push(clock.now()), 3);
    clock.scheduler.schedule(() => fired.push(clock.now()), 17);
    await clock.advance(20, 10);
    expect(fired).toEqual([3, 17]);
    expect(clock.now()).toBe(20);
  });

  it('counts the timers still scheduled', async () => {
    const clock = new VirtualClock();
    const timerSubscription = clock.scheduler.schedule(() => undefined, 50);
    expect(clock.pendingTimers).toBe(1);
    timerSubscription.unsubscribe();
    expect(clock.pendingTimers).toBe(0);
  });

  it.each([
    ['ms', -1, undefined],
    ['ms', Number.NaN, undefined],
    ['ms', Infinity, undefined],
    ['stepMs', 10, 0],
    ['stepMs', 10, -5],
  ])('rejects a bad %s (%p, step %p) with ConfigError naming it', async (name, ms, stepMs) => {
    const clock = new VirtualClock();
    const advancing = clock.advance(ms as number, stepMs);
    await expect(advancing).rejects.toThrow(ConfigError);
    await expect(advancing).rejects.toThrow(name);
    expect(clock.now()).toBe(0);
  });
});

describe('settle', () => {
  it('lets a chain of promise callbacks run to its end', async () => {
    let steps = 0;
    void Promise.resolve()
      .then(() => steps++)
      .then(() => steps++)
      .then(() => steps++);
    await settle();
    expect(steps).toBe(3);
  });
});

describe('rxwal/testing without jest', () => {
  it('runs under node --test (spec/testing/nodeTest/virtualClock.test.ts)', () => {
    const run = spawnSync(
      process.execPath,
      // TAP, whatever the runtime's default reporter (Node 24's is "spec" even off a terminal)
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=tap',
        join('spec', 'testing', 'nodeTest', 'virtualClock.test.ts'),
      ],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.stdout).toMatch(/^# pass 2$/m);
    expect(run.stdout).toMatch(/^# fail 0$/m);
    expect(run.status).toBe(0);
  }, 60_000);

  it('runs under vitest (spec/testing/vitest/virtualClock.test.ts)', () => {
    const run = spawnSync(
      process.execPath,
      [
        join('node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--dir',
        join('spec', 'testing', 'vitest'),
        '--reporter=tap-flat',
      ],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.stdout).toMatch(/^1\.\.3$/m);
    expect(run.stdout.match(/^ok \d+ - .* under vitest/gm)).toHaveLength(3);
    expect(run.stdout).not.toMatch(/^not ok/m);
    expect(run.status).toBe(0);
  }, 60_000);
});
