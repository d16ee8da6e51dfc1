import { ConfigError } from '../errors.js';
import { parseDuration, type Duration } from '../internal/duration.js';

/**
 * A hybrid time tick: `physicalMs << 18n | logical`, where `physicalMs` is Unix time in
 * milliseconds and `logical` a counter within that millisecond (18 bits). Always a `bigint`:
 * real time ticks (≈ 4.5·10^17) are far beyond `Number.MAX_SAFE_INTEGER`.
 */
export type TimeTick = bigint;

/** Number of logical bits in a time tick. */
export const LOGICAL_BITS = 18n;
/** Largest logical part: 2^18 − 1. */
export const MAX_LOGICAL = (1 << 18) - 1;
/** Largest time tick: 2^64 − 1. */
export const MAX_TIME_TICK: TimeTick = (1n << 64n) - 1n;
const LOGICAL_MASK = BigInt(MAX_LOGICAL);
/** Largest physical part that still fits 64 bits: 2^46 − 1 ms. */
const MAX_PHYSICAL = Number(MAX_TIME_TICK >> LOGICAL_BITS);

/** Is `value` a valid time tick: a bigint in [0, 2^64)? */
export function isTimeTick(value: unknown): value is TimeTick {
  return typeof value === 'bigint' && value >= 0n && value <= MAX_TIME_TICK;
}

/**
 * Normalises a time tick given at a configuration boundary (a bigint, or a safe non-negative
 * integer number) or throws a {@link ConfigError} naming `option`.
 */
export function toTimeTick(value: unknown, option: string): TimeTick {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) {
      throw new ConfigError(option, value, 'must be a non-negative integer time tick');
    }
    if (!Number.isSafeInteger(value)) {
      throw new ConfigError(option, value, 'is above 2^53 - 1: pass a bigint');
    }
    return BigInt(value);
  }
  if (typeof value === 'bigint') {
    if (value < 0n) throw new ConfigError(option, value, 'must not be negative');
    if (value > MAX_TIME_TICK) throw new ConfigError(option, value, 'must be below 2^64');
    return value;
  }
  throw new ConfigError(option, value, 'must be a bigint time tick');
}

/**
 * Hybrid timestamp helpers, exact on `bigint` up to 2^64 − 1.
 *
 * @example
 * ```ts
 * const tt = tso.compose(1_735_000_000_000, 7);   // 454819840000000007n
 * tso.physical(tt);                               // 1735000000000
 * tso.logical(tt);                                // 7
 * tso.addDuration(tt, '1s');                      // 454819840262144007n (logical part kept)
 * ```
 */
export const tso = {
  /** Composes a time tick from Unix milliseconds and a logical counter (default 0). */
  compose(physicalMs: number, logical = 0): TimeTick {
    if (!Number.isSafeInteger(physicalMs) || physicalMs < 0 || physicalMs > MAX_PHYSICAL) {
      throw new ConfigError('physicalMs', physicalMs, `must be an integer in [0, ${MAX_PHYSICAL}]`);
    }
    if (!Number.isInteger(logical) || logical < 0 || logical > MAX_LOGICAL) {
      throw new ConfigError('logical', logical, `must be an integer in [0, ${MAX_LOGICAL}]`);
    }
    return (BigInt(physicalMs) << LOGICAL_BITS) | BigInt(logical);
  },

  /** The physical part of a time tick, in Unix milliseconds. */
  physical(tt: TimeTick): number {
    return Number(toTimeTick(tt, 'tt') >> LOGICAL_BITS);
  },

  /** The logical part of a time tick. */
  logical(tt: TimeTick): number {
    return Number(toTimeTick(tt, 'tt') & LOGICAL_MASK);
  },

  /**
   * Moves the physical part of `tt` by `d` (milliseconds or an `ms` string; sub-millisecond parts
   * are dropped, negative durations allowed), keeping the logical part. Infinite durations and
   * results outside [0, 2^64) throw {@link ConfigError}.
   */
  addDuration(tt: TimeTick, d: Duration): TimeTick {
    const base = toTimeTick(tt, 'tt');
    const millis = Math.trunc(parseDuration(d, 'duration', { allowNegative: true }));
    const result = addPhysicalMs(base, millis);
    if (result < 0n || result > MAX_TIME_TICK) {
      throw new ConfigError('duration', d, `moves time tick ${base} outside [0, 2^64)`);
    }
    return result;
  },
} as const;

/** `tt` moved by `millis` on its physical part, unchecked (deadlines may pass 2^64). */
export function addPhysicalMs(tt: TimeTick, millis: number): TimeTick {
  return tt + (BigInt(millis) << LOGICAL_BITS);
}
