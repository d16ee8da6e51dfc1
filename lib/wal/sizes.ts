import bytes from 'bytes';

import { ConfigError } from '../errors.js';

/**
 * Parses a byte size given at a configuration boundary: a number of bytes or a string such as
 * `'64mb'` or `'512kb'` (the `bytes` package). Throws {@link ConfigError} naming `option`.
 */
export function parseByteSize(value: unknown, option: string): number {
  let parsed: number | null;
  if (typeof value === 'number') parsed = value;
  else if (typeof value === 'string' && value.trim() !== '') parsed = bytes.parse(value.trim());
  else
    throw new ConfigError(
      option,
      value,
      "must be a number of bytes or a size string such as '64mb'",
    );
  if (parsed === null || !Number.isFinite(parsed)) {
    throw new ConfigError(option, value, "is not a size (use bytes or a string such as '64mb')");
  }
  if (parsed < 0) throw new ConfigError(option, value, 'must not be negative');
  return Math.floor(parsed);
}
