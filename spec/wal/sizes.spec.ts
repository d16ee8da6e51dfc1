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
    // issue 9 item 12: these were read as 64 and 1 by the lenient `bytes.parse`
    ['64MiB', 64 * 1024 * 1024],
    ['64 mib', 64 * 1024 * 1024],
    ['2GiB', 2 * 1024 ** 3],
    ['1KiB', 1024],
    ['1e9', 1e9],
    ['1.5e3', 1500],
    ['2e1kb', 20 * 1024],
    ['64b', 64],
    ['64 B', 64],
    ['1tb', 1024 ** 4],
    ['1PiB', 1024 ** 5],
    ['.5kb', 512],
    ['+8', 8],
    [0, 0],
    [1024, 1024],
    [10.9, 10],
  ])('parses %p as %p bytes', (value, expected) => {
    expect(parseByteSize(value, 'capacity')).toBe(expected);
  });

  it.each([
    ['lots', 'is not a size'],
    // issue 9 item 12: accepted as 64 and 1 bytes before
    ['64 parsecs', 'is not a size'],
    ['1e9x', 'is not a size'],
    ['12abc', 'is not a size'],
    ['64MiB of RAM', 'is not a size'],
    ['mb', 'is not a size'],
    ['1..2kb', 'is not a size'],
    ['0x10', 'is not a size'],
    ['64 mb mb', 'is not a size'],
    ['1e999', 'is not a size'],
    ['-1kb', 'must not be negative'],
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
    expect((error as ConfigError).message).toContain('writeAheadBuffer.capacity');
    if (typeof value === 'string' && value.trim() !== '') {
      expect((error as ConfigError).message).toContain(JSON.stringify(value));
    }
  });
});
