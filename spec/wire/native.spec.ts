import fc from 'fast-check';

import { crc32, portableCrc32, useNativeCrc32 } from '../../lib/wire/crc32.js';
import { isWellFormed, useNativeIsWellFormed } from '../../lib/wire/utf8.js';
import { useNativeWire } from '../../lib/wire/native.js';
import { RUNTIME_HAS } from './paths.js';

afterEach(() => useNativeWire(true));

/** Strings of any UTF-16 code units, lone surrogates included. */
const codeUnits = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd7f0, max: 0xe010 })), {
    maxLength: 40,
  })
  .map((units) => String.fromCharCode(...units));

describe('the native and portable wire helpers', () => {
  it('use the runtime helpers where it has them (Node 20.20: zlib.crc32 and isWellFormed)', () => {
    expect(useNativeWire(true)).toEqual(RUNTIME_HAS);
    expect(useNativeCrc32(false)).toBe(false);
    expect(useNativeIsWellFormed(false)).toBe(false);
    expect(useNativeWire(false)).toEqual({ crc32: false, isWellFormed: false });
  });

  it('compute the same CRC-32 for any bytes and any slice of them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (data, a, b) => {
        const bytes = Buffer.from(data);
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        const expected = portableCrc32(bytes, start, end);
        useNativeCrc32(true);
        expect(crc32(bytes, start, end)).toBe(expected);
        useNativeCrc32(false);
        expect(crc32(bytes, start, end)).toBe(expected);
      }),
    );
    expect(portableCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('agree on which strings are well-formed, lone surrogates included', () => {
    fc.assert(
      fc.property(codeUnits, (text) => {
        useNativeIsWellFormed(false);
        const portable = isWellFormed(text);
        useNativeIsWellFormed(true);
        expect(isWellFormed(text)).toBe(portable);
        expect(portable).toBe(Buffer.from(text, 'utf8').toString('utf8') === text);
      }),
    );
    for (const native of [true, false]) {
      useNativeIsWellFormed(native);
      expect([
        isWellFormed('a\ud800'),
        isWellFormed('\udc00a'),
        isWellFormed('\ud83d\ude00'),
      ]).toEqual([false, false, true]);
    }
  });
});
