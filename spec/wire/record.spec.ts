import fc from 'fast-check';

import { CorruptRecordError, InvalidMessageError } from '../../lib/errors.js';
import { createMessage } from '../../lib/message/createMessage.js';
import { MessageType, type WalMessage } from '../../lib/message/message.js';
import { messageId } from '../../lib/message/messageId.js';
import { MAX_TIME_TICK } from '../../lib/message/tso.js';
import { crc32 } from '../../lib/wire/crc32.js';
import {
  jsonPayloadCodec,
  rawPayloadCodec,
  type PayloadCodec,
} from '../../lib/wire/payloadCodec.js';
import {
  decodeRecord,
  encodeRecord,
  MIN_RECORD_BYTES,
  WIRE_FORMAT_VERSION,
} from '../../lib/wire/record.js';
import { onWirePath, WIRE_PATHS } from './paths.js';

/** Rewrites the checksum after a deliberate edit, so the decoder's other checks are reached. */
function reseal(bytes: Buffer): Buffer {
  bytes.writeUInt32LE(crc32(bytes, 0, bytes.length - 4), bytes.length - 4);
  return bytes;
}

const corrupt = (fn: () => unknown, record: string, reason: RegExp): void => {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(CorruptRecordError);
  expect((thrown as CorruptRecordError).record).toBe(record);
  expect((thrown as CorruptRecordError).message).toMatch(reason);
};

const arbitraryMessage = (payload: fc.Arbitrary<unknown>): fc.Arbitrary<WalMessage> =>
  fc
    .record({
      id: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      lc: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      type: fc.constantFrom('Insert', 'Delete', 'TimeTick', 'BeginTxn', 'CommitTxn', 'Ünïcødé 🚀'),
      timeTick: fc.oneof(
        fc.bigInt({ min: 0n, max: MAX_TIME_TICK }),
        fc.bigInt({ min: MAX_TIME_TICK - 1000n, max: MAX_TIME_TICK }),
      ),
      vchannel: fc.string({ unit: 'grapheme' }),
      txn: fc.option(
        fc.record({
          txnId: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
          keepalive: fc.oneof(fc.constant(Infinity), fc.nat(), fc.double({ min: 0, noNaN: true })),
        }),
        { nil: undefined },
      ),
      persisted: fc.boolean(),
      properties: fc.dictionary(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' })),
      payload,
      size: fc.option(fc.maxSafeNat(), { nil: undefined }),
    })
    .map((r) => {
      const isTick = r.type === MessageType.TimeTick;
      return createMessage({
        id: r.id,
        lastConfirmedId: r.lc,
        type: r.type,
        timeTick: r.timeTick,
        vchannel: r.vchannel,
        ...(isTick || r.txn === undefined ? {} : { txn: r.txn }),
        persisted: isTick ? r.persisted : true,
        properties: r.properties,
        payload: r.payload,
        ...(r.size === undefined ? {} : { size: r.size }),
      });
    });

describe.each(WIRE_PATHS)('wire records (%s path)', (path) => {
  onWirePath(path);

  it('crc32 is the IEEE CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('round-trips every field with the raw codec (ticks near 2^64, Infinity keepalive, unicode)', () => {
    fc.assert(
      fc.property(
        arbitraryMessage(fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined })),
        (m) => {
          const bytes = encodeRecord(m as WalMessage<Uint8Array | undefined>);
          expect(bytes[0]).toBe(WIRE_FORMAT_VERSION);
          const back = decodeRecord(bytes, m.id);
          expect(back).toEqual({
            ...m,
            payload: m.payload === undefined ? undefined : Buffer.from(m.payload as Uint8Array),
          });
          expect(back.lastConfirmedId.key).toBe(m.lastConfirmedId.key);
          expect(Object.isFrozen(back)).toBe(true);
          expect(Object.isFrozen(back.properties)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips JSON payloads with the json codec', () => {
    fc.assert(
      fc.property(arbitraryMessage(fc.option(fc.jsonValue(), { nil: undefined })), (m) => {
        const back = decodeRecord(encodeRecord(m, jsonPayloadCodec), m.id, jsonPayloadCodec);
        // JSON has no -0: the text form is what is kept
        expect(JSON.stringify(back.payload)).toBe(JSON.stringify(m.payload));
        expect({ ...back, payload: undefined }).toEqual({ ...m, payload: undefined });
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the extreme values exactly', () => {
    const m = createMessage({
      id: (1n << 64n) - 1n,
      lastConfirmedId: 0,
      type: MessageType.Insert,
      timeTick: MAX_TIME_TICK,
      vchannel: 'v🚀',
      txn: { txnId: -(1n << 63n), keepalive: Infinity },
      properties: { '\uFEFFbom': 'ключ', __proto__: 'x', '': '' },
      payload: Buffer.from([0, 255]),
      size: Number.MAX_SAFE_INTEGER,
    });
    const back = decodeRecord(encodeRecord(m as WalMessage<Uint8Array>), m.id);
    expect(back.timeTick).toBe(MAX_TIME_TICK);
    expect(back.txn).toEqual({ txnId: -(1n << 63n), keepaliveMs: Infinity });
    expect(back.size).toBe(Number.MAX_SAFE_INTEGER);
    expect(Object.keys(back.properties)).toEqual(Object.keys(m.properties));
    expect(back.properties['\uFEFFbom']).toBe('ключ');
    expect(Object.getPrototypeOf(back.properties)).toBe(Object.prototype);
    expect(back.payload).toEqual(Buffer.from([0, 255]));
  });

  it('takes the id as a MessageId, a number or a bigint; the id is not in the record', () => {
    const m = createMessage({ id: 5, type: 'Insert', timeTick: 9, lastConfirmedId: 3 });
    const bytes = encodeRecord(m);
    expect(decodeRecord(bytes, 5).id.key).toBe('5');
    expect(decodeRecord(bytes, 77n).id.key).toBe('77');
    expect(decodeRecord(bytes, messageId(8)).lastConfirmedId.key).toBe('3');
    expect(() => decodeRecord(bytes, -1)).toThrow(InvalidMessageError);
  });

  it('decodes a raw payload as a Buffer copy, never a view of the record', () => {
    const m = createMessage({ id: 1, type: 'Insert', timeTick: 1, payload: Buffer.from('abc') });
    const bytes = encodeRecord(m as WalMessage<Uint8Array>);
    const back = decodeRecord(bytes, 1);
    bytes.fill(0);
    expect(Buffer.isBuffer(back.payload)).toBe(true);
    expect(back.payload.toString()).toBe('abc');
    // a plain Uint8Array record decodes too
    const plain = new Uint8Array(encodeRecord(m as WalMessage<Uint8Array>));
    expect(decodeRecord(plain, 1).payload.toString()).toBe('abc');
  });

  describe('encoding refuses what it cannot store', () => {
    it('a non-byte payload with the raw codec', () => {
      const m = createMessage({ id: 1, type: 'Insert', timeTick: 1, payload: { pk: 1 } });
      expect(() => encodeRecord(m as unknown as WalMessage<Uint8Array>)).toThrow(
        InvalidMessageError,
      );
    });

    it('a codec name the one-byte length cannot hold (empty, or over 255 bytes)', () => {
      const m = createMessage({ id: 1, type: 'Insert', timeTick: 1, payload: new Uint8Array([1]) });
      for (const name of ['', 'x'.repeat(256)]) {
        const codec: PayloadCodec<Uint8Array> = { ...rawPayloadCodec, name };
        expect(() => encodeRecord(m as WalMessage<Uint8Array>, codec)).toThrow(
          /payloadCodec\.name/,
        );
      }
      const longest: PayloadCodec<Uint8Array> = { ...rawPayloadCodec, name: 'x'.repeat(255) };
      const bytes = encodeRecord(m as WalMessage<Uint8Array>, longest);
      expect(decodeRecord(bytes, 1, longest).payload).toEqual(new Uint8Array([1]));
    });

    it('a payload JSON cannot write, or a codec that fails or returns no bytes', () => {
      const big = createMessage({ id: 1, type: 'Insert', timeTick: 1, payload: { n: 1n } });
      expect(() => encodeRecord(big, jsonPayloadCodec)).toThrow(InvalidMessageError);
      const fn = createMessage({ id: 1, type: 'Insert', timeTick: 1, payload: () => 1 });
      expect(() => encodeRecord(fn, jsonPayloadCodec)).toThrow(/has no JSON form/);
      const failing: PayloadCodec = {
        name: 'failing',
        encode: () => {
          throw new Error('nope');
        },
        decode: () => 1,
      };
      const m = createMessage({ id: 1, type: 'Insert', timeTick: 1, payload: 1 });
      expect(() => encodeRecord(m, failing)).toThrow(/cannot be encoded by codec 'failing'/);
      const notBytes = { ...failing, encode: () => 'text' as unknown as Uint8Array };
      expect(() => encodeRecord(m, notBytes)).toThrow(/did not return bytes/);
    });

    it('a lone surrogate, a foreign last-confirmed id', () => {
      const lone = createMessage({ id: 1, type: 'Insert', timeTick: 1, vchannel: 'v\uD800' });
      expect(() => encodeRecord(lone)).toThrow(/lone surrogate/);
      const props = createMessage({
        id: 1,
        type: 'Insert',
        timeTick: 1,
        properties: { k: '\uDC00' },
      });
      expect(() => encodeRecord(props)).toThrow(InvalidMessageError);
      const foreign = { key: 'x', compare: () => 0, toString: () => 'x' };
      const m = createMessage({ id: 1, type: 'Insert', timeTick: 1, lastConfirmedId: foreign });
      expect(() => encodeRecord(m)).toThrow(/numeric id/);
    });
  });

  describe('decoding reports damage as CorruptRecordError naming the record', () => {
    const message = createMessage({
      id: 42,
      type: 'Insert',
      timeTick: 1234,
      vchannel: 'v1',
      txn: { txnId: 7, keepalive: '5s' },
      properties: { a: 'b' },
      payload: Buffer.from('payload'),
    });
    const good = (): Buffer => encodeRecord(message as WalMessage<Uint8Array>);

    it('too short, checksum mismatch, not bytes', () => {
      corrupt(() => decodeRecord(Buffer.alloc(3), 42), '42', /shorter than any record/);
      const flipped = good();
      flipped[20] = (flipped[20] as number) ^ 0x10;
      corrupt(() => decodeRecord(flipped, 42), '42', /checksum mismatch/);
      corrupt(() => decodeRecord('text' as unknown as Uint8Array, 42), '42', /not bytes/);
      expect(MIN_RECORD_BYTES).toBe(43);
    });

    it('a newer or unknown version, unknown flags', () => {
      corrupt(
        () => decodeRecord(reseal(Object.assign(good(), { 0: 2 })), 42),
        '42',
        /version 2 is newer/,
      );
      corrupt(
        () => decodeRecord(reseal(Object.assign(good(), { 0: 0 })), 42),
        '42',
        /unknown wire format version 0/,
      );
      corrupt(
        () => decodeRecord(reseal(Object.assign(good(), { 1: 0x0f })), 42),
        '42',
        /unknown flags/,
      );
    });

    it('lengths past the end, trailing bytes', () => {
      const long = good();
      long.writeUInt32LE(1_000_000, 26 + 16); // the type's length
      corrupt(
        () => decodeRecord(reseal(long), 42),
        '42',
        /type \(1000000 bytes\) runs past the end/,
      );
      const extra = good();
      const padded = Buffer.concat([
        extra.subarray(0, extra.length - 4),
        Buffer.from([1, 2, 3]),
        Buffer.alloc(4),
      ]);
      corrupt(() => decodeRecord(reseal(padded), 42), '42', /3 unexpected bytes/);
      const manyProps = good();
      // the property count sits after type and vchannel
      const countAt = 26 + 16 + 4 + 'Insert'.length + 4 + 'v1'.length;
      manyProps.writeUInt32LE(0xffffffff, countAt);
      corrupt(() => decodeRecord(reseal(manyProps), 42), '42', /properties cannot fit/);
    });

    it('bad UTF-8, invariants a message must keep, duplicate properties, bad keepalive', () => {
      const utf = good();
      utf[26 + 16 + 4] = 0xff; // first byte of the type
      corrupt(() => decodeRecord(reseal(utf), 42), '42', /type is not valid UTF-8/);
      const keepalive = good();
      keepalive.writeDoubleLE(Number.NaN, 26 + 8);
      corrupt(() => decodeRecord(reseal(keepalive), 42), '42', /keepalive/);
      const notPersisted = good();
      notPersisted[1] = (notPersisted[1] as number) & ~1;
      corrupt(() => decodeRecord(reseal(notPersisted), 42), '42', /a not-persisted Insert/);
      const tick = encodeRecord(createMessage({ id: 1, type: 'TimeTick', timeTick: 5 }));
      const tickWithTxn = Buffer.concat([
        tick.subarray(0, 26),
        Buffer.alloc(16),
        tick.subarray(26),
      ]);
      tickWithTxn[1] = (tickWithTxn[1] as number) | 2;
      corrupt(() => decodeRecord(reseal(tickWithTxn), 1), '1', /TimeTick carries a transaction/);
      const twice = encodeRecord(
        createMessage({ id: 1, type: 'Insert', timeTick: 5, properties: { a: '1', b: '2' } }),
      );
      const at = twice.indexOf('b', 26);
      twice[at] = 'a'.charCodeAt(0);
      corrupt(() => decodeRecord(reseal(twice), 1), '1', /appears twice/);
      const emptyType = encodeRecord(
        createMessage({ id: 1, type: 'I', vchannel: 'v1', timeTick: 5 }),
      );
      const cut = Buffer.concat([
        emptyType.subarray(0, 26),
        Buffer.alloc(4),
        emptyType.subarray(31),
      ]);
      corrupt(() => decodeRecord(reseal(cut), 1), '1', /type is empty/);
    });

    it("another codec's record, a codec whose decode throws", () => {
      corrupt(
        () => decodeRecord(good(), 42, jsonPayloadCodec),
        '42',
        /written with codec 'raw', not 'json'/,
      );
      const throwing: PayloadCodec = {
        name: 'raw',
        encode: (p) => p as Uint8Array,
        decode: () => {
          throw new RangeError('bad');
        },
      };
      let thrown: unknown;
      try {
        decodeRecord(good(), 42, throwing);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(CorruptRecordError);
      expect((thrown as CorruptRecordError).cause).toBeInstanceOf(RangeError);
      const json = encodeRecord(
        createMessage({ id: 3, type: 'Insert', timeTick: 1, payload: 'x' }),
        jsonPayloadCodec,
      );
      const broken = Buffer.from(json);
      broken[broken.length - 5] = '{'.charCodeAt(0); // the last payload byte: '"x{' is not JSON
      corrupt(
        () => decodeRecord(reseal(broken), 3, jsonPayloadCodec),
        '3',
        /cannot be decoded by codec 'json'/,
      );
      expect(rawPayloadCodec.name).toBe('raw');
    });
  });
});
