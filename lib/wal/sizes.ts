import { ConfigError } from '../errors.js';

/** Multipliers of the size units, case-insensitive; `kb` and `kib` are both 1024 (as `bytes`). */
const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
  pb: 1024 ** 5,
  pib: 1024 ** 5,
};

// The whole string must be a number and at most one known unit: a lenient parser (the `bytes`
// package falls back to parseInt) read '64MiB' as 64 and '1e9' as 1.
const SIZE = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([a-z]*)$/i;

const EXPECTED = "use bytes or a number with a unit: '64mb', '64MiB', '512kb', '1e9'";

/**
 * Parses a byte size given at a configuration boundary: a number of bytes, or a string made of a
 * number (decimal or exponent notation, `'1e9'`) and an optional unit — `b`, `kb`/`kib`,
 * `mb`/`mib`, `gb`/`gib`, `tb`/`tib`, `pb`/`pib`, case-insensitive, all powers of 1024, as the
 * `bytes` package reads them. Anything else (`'64 parsecs'`, `'lots'`) throws
 * {@link ConfigError} naming `option` and the value; a fraction of a byte is rounded down.
 *
 * @example
 * ```ts
 * parseByteSize('64MiB', 'writeAheadBuffer.capacity'); // 67108864
 * parseByteSize('1e9', 'writeAheadBuffer.capacity'); // 1000000000
 * parseByteSize('64 parsecs', 'writeAheadBuffer.capacity'); // throws ConfigError
 * ```
 */
export function parseByteSize(value: unknown, option: string): number {
  let parsed: number;
  if (typeof value === 'number') parsed = value;
  else if (typeof value === 'string' && value.trim() !== '')
    parsed = parseSizeString(value, option);
  else
    throw new ConfigError(
      option,
      value,
      "must be a number of bytes or a size string such as '64mb'",
    );
  if (!Number.isFinite(parsed)) throw new ConfigError(option, value, `is not a size (${EXPECTED})`);
  if (parsed < 0) throw new ConfigError(option, value, 'must not be negative');
  return Math.floor(parsed);
}

function parseSizeString(value: string, option: string): number {
  const match = SIZE.exec(value.trim());
  const number = match?.[1];
  const unit = (match?.[2] ?? '').toLowerCase();
  const multiplier = unit === '' ? 1 : UNITS[unit];
  if (number === undefined || multiplier === undefined) {
    throw new ConfigError(option, value, `is not a size (${EXPECTED})`);
  }
  return Number(number) * multiplier;
}
