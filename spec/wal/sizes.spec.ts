import { ConfigError } from '../../lib/errors.js';
import { parseByteSize } from '../../lib/wal/sizes.js';

describe('parseByteSize', () => {
  it.each([
    ['64mb', 64 * 1024 * 1024],
    ['512kb', 512 * 1024],
    ['1.5kb', 1536],
    [' 2KB ', 2048],
    ['100', 100],
    ['1gb', 1024 ** 3],
    [0, 0],
    [1024, 1024],
    [10.9, 10],
  ])('parses %p as %p bytes', (value, expected) => {
    expect(parseByteSize(value, 'capacity')).toBe(expected);
  });

  it.each([
    ['lots', 'is not a size'],
    ['-1', 'must not be negative'],
    [-1, 'must not be negative'],
    ['', 'must be a number of bytes'],
    ['   ', 'must be a number of bytes'],
    [Number.NaN, 'is not a size'],
    [Infinity, 'is not a size'],
    [null, 'must be a number of bytes'],
    [undefined, 'must be a number of bytes'],
    [{}, 'must be a number of bytes'],
    [64n, 'must be a number of bytes'],
  ])('throws ConfigError for %p', (value, reason) => {
    let error: unknown;
    try {
      parseByteSize(value, 'writeAheadBuffer.capacity');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe('writeAheadBuffer.capacity');
    expect((error as ConfigError).value).toBe(value);
    expect((error as ConfigError).message).toContain(reason);
  });
});
