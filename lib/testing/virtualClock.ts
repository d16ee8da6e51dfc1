import { VirtualTimeScheduler, type SchedulerLike } from 'rxjs';

import { ConfigError } from '../errors.js';

/** `setImmediate` where the runtime has it (Node, Bun, Deno), else a zero timeout. */
const nextTurn: (callback: () => void) => void =
  typeof setImmediate === 'function'
    ? (callback) => setImmediate(callback)
    : (callback) => setTimeout(callback, 0);

/**
 * Lets every promise callback that is ready run: resolves after the microtask queue has drained
 * and the event loop has turned once (`setImmediate`), so I/O callbacks due now run too.
 * Depends on no test framework.
 *
 * @returns a promise that resolves on the event loop's next turn
 *
 * @example
 * ```ts
 * const seen: WalMessage[] = [];
 * scanWal(wal, { scheduler: clock.scheduler }).subscribe((m) => seen.push(m));
 * await settle(); // the first catch-up batch has been read and handed over
 * ```
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => nextTurn(resolve));
}

/**
 * Virtual time for code that mixes scheduler timers and promises — `scanWal`, the memory and
 * SQLite WALs, `pauseFromFile`'s debounce. rxjs's `TestScheduler` runs timers only, so a scanner
 * that awaits a read between two timers stalls under it; `advance()` instead runs the timers due
 * in each step, then lets promise callbacks settle ({@link settle}) before the next step, so
 * asynchronous loops see time pass as they would in production, only without waiting.
 *
 * Pass {@link VirtualClock.scheduler} everywhere a `scheduler` option is taken. Nothing here
 * depends on a test framework: it works the same under jest, vitest and `node --test` (the
 * project's own suite runs it under all three). Real timers (`setTimeout`) are not
 * touched; only work scheduled on `scheduler` moves with virtual time.
 *
 * @example
 * ```ts
 * import { VirtualClock } from 'rxwal/testing';
 *
 * const clock = new VirtualClock();
 * const wal = createMemoryWal({ scheduler: clock.scheduler, timeTickInterval: '200ms' });
 * const seen: WalMessage[] = [];
 * scanWal(wal, { scheduler: clock.scheduler }).subscribe((m) => seen.push(m));
 * await wal.append({ type: 'Insert', vchannel: 'v1' });
 * await clock.advance(200); // the writer's periodic tick releases the insert
 * ```
 */
export class VirtualClock {
  /** The virtual-time scheduler: give it to `createMemoryWal`, `scanWal` and the operators. */
  readonly scheduler: VirtualTimeScheduler & SchedulerLike = new VirtualTimeScheduler();

  /**
   * The virtual time in ms, 0 at construction.
   *
   * @example
   * ```ts
   * await clock.advance(150);
   * clock.now(); // 150
   * ```
   */
  now(): number {
    return this.scheduler.now();
  }

  /**
   * Moves virtual time forward by `ms`, in steps of `stepMs`: each step runs every timer due up
   * to the step's end, then settles promises, so a timer scheduled by a promise callback during
   * a step still runs at its own virtual time. Smaller steps are finer (a timer due at 3 ms
   * runs at 3 ms with `stepMs = 1`); larger ones are faster for long spans. Promise callbacks
   * run once the step's timers have, with `now()` at the step's end: a read that a 149.5 ms
   * backoff timer wakes through a promise sees 150 with `stepMs = 1`.
   *
   * @param ms how far to move, ≥ 0
   * @param stepMs the step, > 0; default 1
   * @returns a promise that resolves once time has moved and promises have settled
   *
   * @example
   * ```ts
   * await clock.advance(5_000, 10); // five virtual seconds in 10 ms steps
   * ```
   */
  async advance(ms: number, stepMs = 1): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new ConfigError('ms', ms, 'must be a finite number ≥ 0');
    }
    if (typeof stepMs !== 'number' || !Number.isFinite(stepMs) || stepMs <= 0) {
      throw new ConfigError('stepMs', stepMs, 'must be a finite number > 0');
    }
    const scheduler = this.scheduler;
    const target = scheduler.frame + ms;
    await settle();
    while (scheduler.frame < target) {
      const next = Math.min(target, scheduler.frame + stepMs);
      scheduler.maxFrames = next;
      scheduler.flush();
      scheduler.frame = Math.max(scheduler.frame, next);
      await settle();
    }
  }

  /**
   * How many timers are scheduled and not yet run: 0 after everything was released is how a
   * test shows that closing something left no timer behind.
   *
   * @example
   * ```ts
   * subscription.unsubscribe();
   * clock.pendingTimers; // 0
   * ```
   */
  get pendingTimers(): number {
    return this.scheduler.actions.length;
  }
}
