import type { SchedulerLike, Subscription } from 'rxjs';

import { ConfigError } from '../errors.js';
import { parseDuration, type Duration } from './duration.js';

/** Backoff options at the configuration boundary. */
export interface BackoffOptions {
  /** The first wait; default `100ms`. */
  initial?: Duration;
  /** Each next wait is the last times this; default 2. */
  multiplier?: number;
  /** The longest wait; default `5s`. */
  max?: Duration;
}

/** Defaults of DESIGN decision 1 (the reference's later back-off): 100 ms, ×2, at most 5 s. */
export const DEFAULT_BACKOFF = { initialMs: 100, multiplier: 2, maxMs: 5_000 } as const;

/**
 * Exponential backoff with ±50 % jitter: base intervals initial, ×multiplier, capped at max, each
 * multiplied by a random factor in [0.5, 1.5). Waits run on the injected scheduler.
 */
export class Backoff {
  private readonly initialMs: number;
  private readonly multiplier: number;
  private readonly maxMs: number;
  private currentMs: number;

  constructor(
    options: BackoffOptions | undefined,
    private readonly random: () => number = Math.random,
  ) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new ConfigError('backoff', options, 'must be an object');
    }
    this.initialMs =
      options?.initial === undefined
        ? DEFAULT_BACKOFF.initialMs
        : parseDuration(options.initial, 'backoff.initial');
    this.maxMs =
      options?.max === undefined
        ? DEFAULT_BACKOFF.maxMs
        : parseDuration(options.max, 'backoff.max');
    this.multiplier = options?.multiplier ?? DEFAULT_BACKOFF.multiplier;
    if (
      typeof this.multiplier !== 'number' ||
      !Number.isFinite(this.multiplier) ||
      this.multiplier < 1
    ) {
      throw new ConfigError(
        'backoff.multiplier',
        options?.multiplier,
        'must be a finite number ≥ 1',
      );
    }
    if (this.maxMs < this.initialMs) {
      throw new ConfigError(
        'backoff.max',
        options?.max,
        `must not be below backoff.initial (${this.initialMs} ms)`,
      );
    }
    this.currentMs = this.initialMs;
  }

  /** The next delay in ms (jittered), advancing the sequence. */
  nextDelay(): number {
    const base = this.currentMs;
    this.currentMs = Math.min(this.currentMs * this.multiplier, this.maxMs);
    return base * (0.5 + this.random());
  }

  /** Starts the sequence over (after a success). */
  reset(): void {
    this.currentMs = this.initialMs;
  }
}

/**
 * Resolves after `ms` on `scheduler`. `track` receives the timer's subscription so the caller can
 * cancel it (the promise then never resolves, and nothing is left scheduled).
 */
export function sleep(
  scheduler: SchedulerLike,
  ms: number,
  track: (timer: Subscription) => void,
): Promise<void> {
  return new Promise((resolve) => {
    track(scheduler.schedule(() => resolve(), ms));
  });
}
