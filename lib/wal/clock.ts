import type { SchedulerLike } from 'rxjs';

import { LOGICAL_BITS, MAX_LOGICAL, type TimeTick } from '../message/tso.js';

/**
 * The writer's hybrid clock: physical milliseconds from the scheduler and a logical counter
 * within a millisecond. Strictly increasing, even when the system clock steps back or more than
 * 2^18 ticks are taken in one millisecond (the physical part then runs ahead of the clock).
 */
export class HybridClock {
  private physical = 0;
  private logical = 0;

  constructor(private readonly scheduler: SchedulerLike) {}

  /** The next time tick: greater than every tick taken or observed before. */
  next(): TimeTick {
    const now = Math.floor(this.scheduler.now());
    if (now > this.physical) {
      this.physical = now;
      this.logical = 0;
    } else if (this.logical < MAX_LOGICAL) {
      this.logical++;
    } else {
      this.physical++;
      this.logical = 0;
    }
    return (BigInt(this.physical) << LOGICAL_BITS) | BigInt(this.logical);
  }

  /** Moves the clock past `tt` (a tick found in a reopened log). */
  observe(tt: TimeTick): void {
    const physical = Number(tt >> LOGICAL_BITS);
    const logical = Number(tt & BigInt(MAX_LOGICAL));
    if (physical > this.physical || (physical === this.physical && logical > this.logical)) {
      this.physical = physical;
      this.logical = logical;
    }
  }

  /** The physical part of the newest tick, in ms. */
  get physicalMs(): number {
    return this.physical;
  }
}
