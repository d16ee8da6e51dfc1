import { ConfigError, CorruptRecordError, InvalidMessageError } from '../errors.js';
import { freezeMessage } from '../message/createMessage.js';
import { MessageType, type TxnContext, type WalMessage } from '../message/message.js';
import { messageId, sequenceOf, toMessageId, type MessageId } from '../message/messageId.js';
import { MAX_TIME_TICK } from '../message/tso.js';
import { crc32 } from './crc32.js';
import { rawPayloadCodec, type PayloadCodec } from './payloadCodec.js';
import { decodeUtf8, isWellFormed } from './utf8.js';

/**
 * The version of the record layout written by {@link encodeRecord} (its first byte). See
 * `docs/wire-format.md` for the layout and the compatibility rule.
 */
export const WIRE_FORMAT_VERSION = 1;

const FLAG_PERSISTED = 0x01;
const FLAG_TXN = 0x02;
const FLAG_PAYLOAD = 0x04;
const KNOWN_FLAGS = FLAG_PERSISTED | FLAG_TXN | FLAG_PAYLOAD;

/** version, flags, time tick, last-confirmed sequence, size. */
const FIXED_HEADER = 1 + 1 + 8 + 8 + 8;
const TXN_BYTES = 8 + 8;
const CRC_BYTES = 4;
/** Header, an empty type is refused but an empty vchannel is not, no properties, the CRC. */
export const MIN_RECORD_BYTES = FIXED_HEADER + 4 + 1 + 4 + 4 + CRC_BYTES;

const MAX_U32 = 0xffffffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const NO_PROPERTIES: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Encodes one message as a wire record (format {@link WIRE_FORMAT_VERSION}). The message id is
 * not part of the record: the log's own position (row or stream sequence) is the id, and
 * {@link decodeRecord} takes it back.
 *
 * @param message any valid message; its `lastConfirmedId` must be a numeric id ({@link messageId})
 * @param codec turns the payload into bytes; default {@link rawPayloadCodec}
 * @param payloadBytes the payload already encoded with `codec` (skips a second encoding)
 * @throws InvalidMessageError when a field cannot be stored: a payload the codec refuses, a
 * string with a lone surrogate, a non-numeric last-confirmed id, a txn id outside int64
 *
 * @example
 * ```ts
 * const bytes = encodeRecord(message, jsonPayloadCodec);
 * const again = decodeRecord(bytes, message.id, jsonPayloadCodec); // equal to message
 * ```
 */
export function encodeRecord<P>(
  message: WalMessage<P>,
  codec: PayloadCodec<P> = rawPayloadCodec as unknown as PayloadCodec<P>,
  payloadBytes?: Uint8Array,
): Buffer {
  const lastConfirmed = sequenceOf(message.lastConfirmedId);
  if (lastConfirmed === undefined) {
    throw new InvalidMessageError(
      'lastConfirmedId',
      message.lastConfirmedId.key,
      'must be a numeric id to be stored',
    );
  }
  if (message.timeTick < 0n || message.timeTick > MAX_TIME_TICK) {
    throw new InvalidMessageError('timeTick', message.timeTick, 'must be in [0, 2^64)');
  }
  if (!Number.isSafeInteger(message.size) || message.size < 0) {
    throw new InvalidMessageError('size', message.size, 'must be a non-negative integer');
  }
  const txn = message.txn;
  if (txn !== undefined && (txn.txnId < INT64_MIN || txn.txnId > INT64_MAX)) {
    throw new InvalidMessageError('txn.txnId', txn.txnId, 'must fit a signed 64-bit integer');
  }
  let payload: Uint8Array | undefined;
  if (message.payload !== undefined) {
    payload = payloadBytes ?? encodePayload(codec, message.payload);
  }
  const type = checkedLength(message.type, 'type');
  const vchannel = checkedLength(message.vchannel, 'vchannel');
  let length = FIXED_HEADER + (txn === undefined ? 0 : TXN_BYTES) + 8 + type + vchannel + 4;
  const keys = Object.keys(message.properties);
  for (const key of keys) {
    length +=
      8 +
      checkedLength(key, 'properties') +
      checkedLength(message.properties[key] as string, `properties.${key}`);
  }
  const codecName = payload === undefined ? 0 : Buffer.byteLength(codec.name);
  if (payload !== undefined && (codecName === 0 || codecName > 255)) {
    // one length byte holds the name: refuse what could be written but never read back
    throw new ConfigError('payloadCodec.name', codec.name, 'must be 1 to 255 bytes of UTF-8');
  }
  if (payload !== undefined) length += 1 + codecName + 4 + payload.byteLength;
  length += CRC_BYTES;

  const out = Buffer.allocUnsafe(length);
  out[0] = WIRE_FORMAT_VERSION;
  out[1] =
    (message.persisted ? FLAG_PERSISTED : 0) |
    (txn === undefined ? 0 : FLAG_TXN) |
    (payload === undefined ? 0 : FLAG_PAYLOAD);
  out.writeBigUInt64LE(message.timeTick, 2);
  out.writeBigUInt64LE(lastConfirmed, 10);
  out.writeBigUInt64LE(BigInt(message.size), 18);
  let at = FIXED_HEADER;
  if (txn !== undefined) {
    out.writeBigInt64LE(txn.txnId, at);
    out.writeDoubleLE(txn.keepaliveMs, at + 8);
    at += TXN_BYTES;
  }
  at = writeString(out, at, message.type, type);
  at = writeString(out, at, message.vchannel, vchannel);
  out.writeUInt32LE(keys.length, at);
  at += 4;
  for (const key of keys) {
    const value = message.properties[key] as string;
    at = writeString(out, at, key, Buffer.byteLength(key));
    at = writeString(out, at, value, Buffer.byteLength(value));
  }
  if (payload !== undefined) {
    out[at] = codecName;
    at += 1 + out.write(codec.name, at + 1, 'utf8');
    out.writeUInt32LE(payload.byteLength, at);
    out.set(payload, at + 4);
    at += 4 + payload.byteLength;
  }
  out.writeUInt32LE(crc32(out, 0, at), at);
  return out;
}

/**
 * Encodes a payload with `codec` as {@link encodeRecord} would: a codec failure becomes an
 * {@link InvalidMessageError} on the payload.
 */
export function encodePayload<P>(codec: PayloadCodec<P>, payload: P): Uint8Array {
  let bytes: unknown;
  try {
    bytes = codec.encode(payload);
  } catch (err) {
    if (err instanceof InvalidMessageError) throw err;
    throw new InvalidMessageError(
      'payload',
      payload,
      `cannot be encoded by codec '${codec.name}'`,
      {
        cause: err,
      },
    );
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidMessageError('payload', payload, `codec '${codec.name}' did not return bytes`);
  }
  if (bytes.byteLength > MAX_U32) {
    throw new InvalidMessageError('payload', bytes.byteLength, 'is larger than 4 GiB');
  }
  return bytes;
}

/**
 * Decodes a wire record written by {@link encodeRecord}.
 *
 * @param bytes the record
 * @param id the message id: the log position the record was read from
 * @param codec the payload codec the record was written with; default {@link rawPayloadCodec}
 * @throws CorruptRecordError naming `id` for any damaged input: too short, a checksum mismatch,
 * an unknown version or flag, a length past the end, trailing bytes, invalid UTF-8, a field
 * breaking a message invariant, another codec's name, or a codec whose `decode` throws
 *
 * @example
 * ```ts
 * try {
 *   const m = decodeRecord(row.record, row.id, jsonPayloadCodec);
 * } catch (err) {
 *   if (err instanceof CorruptRecordError) console.error(`record ${err.record} is damaged`);
 * }
 * ```
 */
export function decodeRecord<P = Uint8Array>(
  bytes: Uint8Array,
  id: MessageId | bigint | number,
  codec: PayloadCodec<P> = rawPayloadCodec as unknown as PayloadCodec<P>,
): WalMessage<P> {
  const messageIdOf = toMessageId(id, 'id');
  const fail = (reason: string, cause?: unknown): CorruptRecordError =>
    new CorruptRecordError(messageIdOf.key, reason, cause === undefined ? undefined : { cause });
  if (!(bytes instanceof Uint8Array)) throw fail(`is not bytes (got ${typeof bytes})`);
  const buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MIN_RECORD_BYTES) {
    throw fail(`is ${buf.length} bytes, shorter than any record (${MIN_RECORD_BYTES})`);
  }
  const end = buf.length - CRC_BYTES;
  const stored = buf.readUInt32LE(end);
  const computed = crc32(buf, 0, end);
  if (stored !== computed) {
    throw fail(`checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`);
  }
  const version = buf[0] as number;
  if (version !== WIRE_FORMAT_VERSION) {
    throw fail(
      version > WIRE_FORMAT_VERSION
        ? `wire format version ${version} is newer than this rxwal reads (${WIRE_FORMAT_VERSION})`
        : `unknown wire format version ${version}`,
    );
  }
  const flags = buf[1] as number;
  if ((flags & ~KNOWN_FLAGS) !== 0) throw fail(`unknown flags ${hex(flags)}`);
  const timeTick = buf.readBigUInt64LE(2);
  const lastConfirmedSeq = buf.readBigUInt64LE(10);
  const size64 = buf.readBigUInt64LE(18);
  if (size64 > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`size ${size64} is not a safe integer`);
  let at = FIXED_HEADER;

  let txn: TxnContext | undefined;
  if ((flags & FLAG_TXN) !== 0) {
    if (at + TXN_BYTES > end) throw fail('transaction context runs past the end');
    const txnId = buf.readBigInt64LE(at);
    const keepaliveMs = buf.readDoubleLE(at + 8);
    if (!(keepaliveMs >= 0)) throw fail(`keepalive ${keepaliveMs} is not a non-negative duration`);
    txn = Object.freeze({ txnId, keepaliveMs });
    at += TXN_BYTES;
  }

  const readString = (what: string): string => {
    if (at + 4 > end) throw fail(`${what} length runs past the end`);
    const length = buf.readUInt32LE(at);
    const start = at + 4;
    if (length > end - start) throw fail(`${what} (${length} bytes) runs past the end`);
    at = start + length;
    try {
      return decodeUtf8(buf, start, at);
    } catch (err) {
      throw fail(`${what} is not valid UTF-8`, err);
    }
  };

  const type = readString('type');
  if (type === '') throw fail('type is empty');
  const vchannel = readString('vchannel');
  if (txn !== undefined && type === MessageType.TimeTick)
    throw fail('a TimeTick carries a transaction');
  const persisted = (flags & FLAG_PERSISTED) !== 0;
  if (!persisted && type !== MessageType.TimeTick) throw fail(`a not-persisted ${type}`);

  if (at + 4 > end) throw fail('property count runs past the end');
  const count = buf.readUInt32LE(at);
  at += 4;
  if (count > (end - at) / 8) throw fail(`${count} properties cannot fit the record`);
  let properties = NO_PROPERTIES;
  if (count > 0) {
    const props: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      const key = readString(`property ${i} key`);
      const value = readString(`property ${JSON.stringify(key)}`);
      if (Object.prototype.hasOwnProperty.call(props, key))
        throw fail(`property ${JSON.stringify(key)} appears twice`);
      Object.defineProperty(props, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    properties = Object.freeze(props);
  }

  let payload: P | undefined;
  if ((flags & FLAG_PAYLOAD) !== 0) {
    if (at + 1 > end) throw fail('payload codec runs past the end');
    const nameLength = buf[at] as number;
    if (nameLength === 0 || at + 1 + nameLength > end)
      throw fail('payload codec name runs past the end');
    let name: string;
    try {
      name = decodeUtf8(buf, at + 1, at + 1 + nameLength);
    } catch (err) {
      throw fail('payload codec name is not valid UTF-8', err);
    }
    at += 1 + nameLength;
    if (name !== codec.name) {
      throw fail(`payload was written with codec '${name}', not '${codec.name}'`);
    }
    if (at + 4 > end) throw fail('payload length runs past the end');
    const length = buf.readUInt32LE(at);
    at += 4;
    if (length > end - at) throw fail(`payload (${length} bytes) runs past the end`);
    const payloadBytes = buf.subarray(at, at + length);
    at += length;
    try {
      payload = codec.decode(payloadBytes);
    } catch (err) {
      throw fail(`payload cannot be decoded by codec '${codec.name}'`, err);
    }
  }
  if (at !== end) throw fail(`${end - at} unexpected bytes before the checksum`);

  return freezeMessage({
    id: messageIdOf,
    type,
    timeTick,
    vchannel,
    lastConfirmedId:
      sequenceOf(messageIdOf) === lastConfirmedSeq ? messageIdOf : messageId(lastConfirmedSeq),
    txn,
    persisted,
    properties,
    payload: payload as P,
    size: Number(size64),
  });
}

function checkedLength(text: string, field: string): number {
  if (typeof text !== 'string') throw new InvalidMessageError(field, text, 'must be a string');
  if (!isWellFormed(text)) {
    throw new InvalidMessageError(field, text, 'holds a lone surrogate: it is not valid UTF-8');
  }
  const length = Buffer.byteLength(text);
  if (length > MAX_U32) throw new InvalidMessageError(field, length, 'is longer than 4 GiB');
  return length;
}

function writeString(out: Buffer, at: number, text: string, length: number): number {
  out.writeUInt32LE(length, at);
  out.write(text, at + 4, length, 'utf8');
  return at + 4 + length;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
