import ms from 'ms';

import { ConfigError } from '../errors.js';

/** A duration: milliseconds, or an `ms` string such as `'5s'` or `'200ms'`. */
export type Duration = number | string;

export interface ParseDurationOptions {
  /** Accept negative durations (time arithmetic); rejected by default (timeouts, keepalives). */
  readonly allowNegative?: boolean;
  /** Accept `Infinity` (and the string `'Infinity'`); rejected by default. */
  readonly allowInfinity?: boolean;
}

/**
 * Parses a duration given at a configuration boundary into milliseconds, once.
 * Throws a {@link ConfigError} naming `option` for anything that is not a duration.
 */
export function parseDuration(
  value: unknown,
  option: string,
  { allowNegative = false, allowInfinity = false }: ParseDurationOptions = {},
): number {
  let millis: number | undefined;
  if (typeof value === 'number') {
    millis = value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    millis = /^[+]?infinity$/i.test(text) ? Infinity : parseMsString(text);
    if (millis === undefined) {
      throw new ConfigError(
        option,
        value,
        "is not a duration (use milliseconds or a string like '5s')",
      );
    }
  } else {
    throw new ConfigError(option, value, 'must be a number of milliseconds or a duration string');
  }
  if (Number.isNaN(millis)) throw new ConfigError(option, value, 'is not a number');
  if (millis === Infinity && !allowInfinity) throw new ConfigError(option, value, 'must be finite');
  if (millis === -Infinity) throw new ConfigError(option, value, 'must be finite');
  if (millis < 0 && !allowNegative) throw new ConfigError(option, value, 'must not be negative');
  return millis;
}

function parseMsString(text: string): number | undefined {
  if (text === '') return undefined;
  // `ms` returns undefined (or NaN) for text it does not understand.
  const parsed = (ms as (value: string) => number | undefined)(text);
  return typeof parsed === 'number' && !Number.isNaN(parsed) ? parsed : undefined;
}
