import fc from 'fast-check';

import { utf8Length, utf8LengthOf } from '../../lib/internal/utf8Length.js';

describe('utf8LengthOf (the UTF-8 length without Buffer, for browsers)', () => {
  it.each([
    ['empty', '', 0],
    ['ASCII', 'abc', 3],
    ['two-byte', 'é', 2],
    ['three-byte', '€', 3],
    ['a surrogate pair', '😀', 4],
    ['a lone high surrogate', '\ud83d', 3],
    ['a lone low surrogate', '\ude00', 3],
    ['a high surrogate at the end', 'a\ud83d', 4],
    ['two high surrogates', '\ud83d\ud83d', 6],
  ])('%s', (_name, text, bytes) => {
    expect(utf8LengthOf(text)).toBe(bytes);
    expect(Buffer.byteLength(text)).toBe(bytes);
  });

  it('equals Buffer.byteLength for any string, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(utf8LengthOf(text)).toBe(Buffer.byteLength(text));
      }),
    );
  });

  it('uses Buffer.byteLength where Node has it', () => {
    expect(utf8Length('😀é')).toBe(6);
  });
});
