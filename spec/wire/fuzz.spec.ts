/**
 * The decoder under damage: truncated, bit-flipped, spliced and random records must give a
 * CorruptRecordError naming the record, never another error, a crash or a wrong message.
 */
import fc from 'fast-check';

import { CorruptRecordError } from '../../lib/errors.js';
import { createMessage } from '../../lib/message/createMessage.js';
import type { WalMessage } from '../../lib/message/message.js';
import { crc32 } from '../../lib/wire/crc32.js';
import {
  jsonPayloadCodec,
  rawPayloadCodec,
  type PayloadCodec,
} from '../../lib/wire/payloadCodec.js';
import { decodeRecord, encodeRecord } from '../../lib/wire/record.js';
import { onWirePath, WIRE_PATHS } from './paths.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);

const samples: { bytes: Buffer; codec: PayloadCodec }[] = [
  {
    bytes: encodeRecord(
      createMessage({
        id: 1,
        type: 'Insert',
        timeTick: 454819840000000007n,
        vchannel: 'v1',
        txn: { txnId: 454819840000000001n, keepalive: Infinity },
        properties: { key: 'välue', '🚀': '' },
        payload: Buffer.from('some payload bytes'),
      }) as WalMessage<Uint8Array>,
    ),
    codec: rawPayloadCodec as PayloadCodec,
  },
  {
    bytes: encodeRecord(createMessage({ id: 2, type: 'TimeTick', timeTick: (1n << 64n) - 1n })),
    codec: rawPayloadCodec as PayloadCodec,
  },
  {
    bytes: encodeRecord(
      createMessage({ id: 3, type: 'Delete', timeTick: 9, payload: { pk: [1, 2], s: 'ü' } }),
      jsonPayloadCodec,
    ),
    codec: jsonPayloadCodec,
  },
];

/** Decodes and returns the error: it must be a CorruptRecordError naming record 77. */
function decodeDamaged(bytes: Uint8Array, codec: PayloadCodec): void {
  let thrown: unknown;
  try {
    decodeRecord(bytes, 77n, codec);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(CorruptRecordError);
  expect((thrown as CorruptRecordError).record).toBe('77');
}

const sample = fc.constantFrom(...samples);

describe.each(WIRE_PATHS)('wire record fuzz (%s path)', (path) => {
  onWirePath(path);

  it('the undamaged samples decode', () => {
    for (const { bytes, codec } of samples)
      expect(() => decodeRecord(bytes, 77n, codec)).not.toThrow();
  });

  it('truncated records', () => {
    fc.assert(
      fc.property(sample, fc.nat(), ({ bytes, codec }, cut) => {
        decodeDamaged(bytes.subarray(0, cut % bytes.length), codec);
      }),
      { numRuns: RUNS },
    );
  });

  it('bit-flipped records (1 to 3 bits)', () => {
    fc.assert(
      fc.property(
        sample,
        fc.uniqueArray(fc.nat(), { minLength: 1, maxLength: 3 }),
        ({ bytes, codec }, bits) => {
          const damaged = Buffer.from(bytes);
          const flipped = new Set(bits.map((b) => b % (damaged.length * 8)));
          for (const bit of flipped)
            damaged[bit >> 3] = (damaged[bit >> 3] as number) ^ (1 << (bit & 7));
          decodeDamaged(damaged, codec);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('records with trailing garbage or a spliced tail', () => {
    fc.assert(
      fc.property(
        sample,
        fc.uint8Array({ minLength: 1, maxLength: 16 }),
        ({ bytes, codec }, tail) => {
          decodeDamaged(Buffer.concat([bytes, tail]), codec);
        },
      ),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });

  it('bit-flipped records with a recomputed checksum decode or fail with CorruptRecordError', () => {
    fc.assert(
      fc.property(sample, fc.nat(), ({ bytes, codec }, bit) => {
        const damaged = Buffer.from(bytes);
        const at = bit % ((damaged.length - 4) * 8);
        damaged[at >> 3] = (damaged[at >> 3] as number) ^ (1 << (at & 7));
        damaged.writeUInt32LE(crc32(damaged, 0, damaged.length - 4), damaged.length - 4);
        let thrown: unknown;
        try {
          decodeRecord(damaged, 77n, codec);
        } catch (err) {
          thrown = err;
        }
        if (thrown !== undefined) expect(thrown).toBeInstanceOf(CorruptRecordError);
      }),
      { numRuns: RUNS },
    );
  });

  it('random bytes, also with a valid checksum (the structural checks alone)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 120 }),
        fc.boolean(),
        fc.constantFrom(1, 0, 2),
        (random, seal, version) => {
          const bytes = Buffer.from(random);
          if (seal && bytes.length >= 5) {
            bytes[0] = version;
            bytes.writeUInt32LE(crc32(bytes, 0, bytes.length - 4), bytes.length - 4);
          }
          let thrown: unknown;
          try {
            decodeRecord(bytes, 77n, jsonPayloadCodec);
          } catch (err) {
            thrown = err;
          }
          // a sealed random record may even be a valid one; any failure is CorruptRecordError
          if (thrown !== undefined) {
            expect(thrown).toBeInstanceOf(CorruptRecordError);
            expect((thrown as CorruptRecordError).record).toBe('77');
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
