import { VirtualTimeScheduler } from 'rxjs';

/** Lets every pending promise callback run (microtasks and the I/O turn after them). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Virtual time for code that mixes scheduler timers and promises: each step runs the timers due
 * up to the next frame, then lets promise callbacks settle, so async loops see time pass.
 */
export class VirtualClock {
  readonly scheduler = new VirtualTimeScheduler();

  now(): number {
    return this.scheduler.now();
  }

  /** Moves time forward by `ms` in steps of `stepMs`, settling promises between steps. */
  async advance(ms: number, stepMs = 1): Promise<void> {
    const target = this.scheduler.frame + ms;
    await settle();
    while (this.scheduler.frame < target) {
      const next = Math.min(target, this.scheduler.frame + stepMs);
      this.scheduler.maxFrames = next;
      this.scheduler.flush();
      this.scheduler.frame = Math.max(this.scheduler.frame, next);
      await settle();
    }
  }

  /** Timers still scheduled. */
  get pendingTimers(): number {
    return this.scheduler.actions.length;
  }
}
