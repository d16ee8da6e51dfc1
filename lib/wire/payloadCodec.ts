import { ConfigError, InvalidMessageError } from '../errors.js';
import { isWellFormed } from './utf8.js';

/**
 * Turns message payloads into bytes and back for a durable log. A codec's `name` is stored in
 * every record that has a payload, so a record is never decoded with another codec by mistake.
 *
 * `encode` may throw for a payload it cannot store (the append is rejected); `decode` may throw
 * for bytes it cannot read (the record is reported as a `CorruptRecordError`). A payload of
 * `undefined` never reaches the codec: the record just says "no payload".
 *
 * @example
 * ```ts
 * const utf8Codec: PayloadCodec<string> = {
 *   name: 'utf8',
 *   encode: (text) => Buffer.from(text, 'utf8'),
 *   decode: (bytes) => new TextDecoder('utf-8', { fatal: true }).decode(bytes),
 * };
 * const wal = await openSqliteWal('log.db', { payloadCodec: utf8Codec });
 * ```
 */
export interface PayloadCodec<P = unknown> {
  /** 1 to 255 bytes of UTF-8, stored in each record with a payload. */
  readonly name: string;
  /** The bytes stored for `payload`; throws for a payload it cannot store. */
  encode(payload: P): Uint8Array;
  /** The payload of stored bytes; throws for bytes it cannot read. */
  decode(bytes: Uint8Array): P;
}

/**
 * The default codec: payloads are bytes (`Uint8Array`, including `Buffer`) stored as they are, and
 * decoded as a `Buffer` (a copy, never a view of the record).
 *
 * @example
 * ```ts
 * await wal.append({ type: 'Insert', vchannel: 'v1', payload: Buffer.from('row 1') });
 * ```
 */
export const rawPayloadCodec: PayloadCodec<Uint8Array> = Object.freeze({
  name: 'raw',
  encode(payload: Uint8Array): Uint8Array {
    if (!(payload instanceof Uint8Array)) {
      throw new InvalidMessageError(
        'payload',
        payload,
        "must be a Uint8Array or Buffer with the 'raw' payload codec (use jsonPayloadCodec for values)",
      );
    }
    return payload;
  },
  decode(bytes: Uint8Array): Uint8Array {
    return Buffer.from(bytes);
  },
});

const jsonDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Payloads as JSON (UTF-8). Anything `JSON.stringify` accepts can be stored; it is read back as
 * `JSON.parse` gives it (dates become strings, `bigint`s are refused at append).
 *
 * @example
 * ```ts
 * const wal = await openSqliteWal('log.db', { payloadCodec: jsonPayloadCodec });
 * await wal.append({ type: 'Insert', vchannel: 'v1', payload: { pk: 1, name: 'a' } });
 * ```
 */
export const jsonPayloadCodec: PayloadCodec<unknown> = Object.freeze({
  name: 'json',
  encode(payload: unknown): Uint8Array {
    let text: string | undefined;
    try {
      text = JSON.stringify(payload);
    } catch (err) {
      throw new InvalidMessageError('payload', payload, 'cannot be written as JSON', {
        cause: err,
      });
    }
    if (text === undefined) throw new InvalidMessageError('payload', payload, 'has no JSON form');
    return Buffer.from(text, 'utf8');
  },
  decode(bytes: Uint8Array): unknown {
    return JSON.parse(jsonDecoder.decode(bytes)) as unknown;
  },
});

/** Checks a codec given as an option; throws {@link ConfigError} naming `option`. */
export function checkPayloadCodec(codec: unknown, option = 'payloadCodec'): PayloadCodec {
  if (typeof codec !== 'object' || codec === null) {
    throw new ConfigError(option, codec, 'must be a PayloadCodec { name, encode, decode }');
  }
  const { name, encode, decode } = codec as Partial<PayloadCodec>;
  if (
    typeof name !== 'string' ||
    name === '' ||
    Buffer.byteLength(name) > 255 ||
    !isWellFormed(name)
  ) {
    throw new ConfigError(`${option}.name`, name, 'must be a string of 1 to 255 UTF-8 bytes');
  }
  if (typeof encode !== 'function' || typeof decode !== 'function') {
    throw new ConfigError(option, codec, 'needs encode(payload) and decode(bytes) functions');
  }
  return codec as PayloadCodec;
}
