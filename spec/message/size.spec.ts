import { estimateSize } from '../../lib/message/size.js';

describe('estimateSize (reference §1.2 EstimateSize, §1.10)', () => {
  it('is payload bytes + Σ (key length + value length) over properties', () => {
    expect(estimateSize('abc', { k: 'vv' })).toBe(3 + 1 + 2);
    expect(estimateSize('abc', { k: 'vv', key2: 'value2' })).toBe(3 + (1 + 2) + (4 + 6));
  });

  it('counts properties alone when there is no payload', () => {
    expect(estimateSize(undefined, { _t: 'Insert', _vc: 'v1' })).toBe(2 + 6 + 3 + 2);
  });

  it('counts nothing for undefined and null payloads without properties', () => {
    expect(estimateSize(undefined)).toBe(0);
    expect(estimateSize(null)).toBe(0);
    expect(estimateSize(undefined, {})).toBe(0);
  });

  describe('binary payloads count their byte length', () => {
    it('Buffer', () => {
      expect(estimateSize(Buffer.from([1, 2, 3, 4, 5]))).toBe(5);
      expect(estimateSize(Buffer.alloc(0))).toBe(0);
    });

    it('Uint8Array', () => {
      expect(estimateSize(new Uint8Array(7))).toBe(7);
    });

    it('a Uint8Array view counts its own bytes, not its backing buffer', () => {
      const backing = new Uint8Array(100);
      expect(estimateSize(backing.subarray(10, 13))).toBe(3);
    });

    it('binary payload plus properties', () => {
      expect(estimateSize(new Uint8Array(3), { k: 'vv' })).toBe(6);
    });
  });

  describe('strings count their UTF-8 bytes', () => {
    it.each([
      ['ASCII', 'hello', 5],
      ['empty', '', 0],
      ['2-byte é', 'é', 2],
      ['3-byte €', '€', 3],
      ['4-byte emoji (two UTF-16 units)', '😀', 4],
      ['mixed', 'aé€😀', 1 + 2 + 3 + 4],
    ])('%s', (_name, payload, bytes) => {
      expect(estimateSize(payload)).toBe(bytes);
    });

    it('property keys and values count UTF-8 bytes too', () => {
      expect(estimateSize(undefined, { é: '€' })).toBe(2 + 3);
    });
  });

  describe('other payloads count the UTF-8 bytes of their JSON form', () => {
    it.each([
      ['an object', { a: 1 }, '{"a":1}'],
      ['an array', [1, 'x'], '[1,"x"]'],
      ['a number', 42, '42'],
      ['a boolean', true, 'true'],
      ['an object with non-ASCII text', { s: 'é' }, '{"s":"é"}'],
    ])('%s', (_name, payload, json) => {
      expect(estimateSize(payload)).toBe(Buffer.byteLength(json));
    });

    it('bigints inside objects as their decimal string', () => {
      expect(estimateSize({ n: 18446744073709551615n })).toBe(
        Buffer.byteLength('{"n":"18446744073709551615"}'),
      );
    });

    it('a payload with no JSON form (a function) counts 0', () => {
      expect(estimateSize(() => 1)).toBe(0);
    });

    it('a cyclic payload counts 0 instead of throwing', () => {
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic['self'] = cyclic;
      expect(estimateSize(cyclic)).toBe(0);
      expect(estimateSize(cyclic, { k: 'v' })).toBe(2);
    });
  });

  it('a property whose value is missing counts only its key', () => {
    const properties = { k: undefined } as unknown as Record<string, string>;
    expect(estimateSize('ab', properties)).toBe(3);
  });
});
