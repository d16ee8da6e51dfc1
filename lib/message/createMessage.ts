import { ConfigError, InvalidMessageError } from '../errors.js';
import { parseDuration, type Duration } from '../internal/duration.js';
import { MessageType, type TxnContext, type WalMessage } from './message.js';
import { toMessageId, type MessageId } from './messageId.js';
import { estimateSize } from './size.js';
import { MAX_TIME_TICK, type TimeTick } from './tso.js';

/** The default transaction keepalive (the reference's): 10 seconds. */
export const DEFAULT_TXN_KEEPALIVE_MS = 10_000;

/** What {@link createMessage} takes: ids and ticks may be plain numbers, most fields are optional. */
export interface MessageInit<P = unknown> {
  /** The message id (a `MessageId` or its sequence). */
  id: MessageId | bigint | number;
  /** The message type. */
  type: MessageType;
  /** The time tick (a number is taken as is, not as milliseconds). */
  timeTick: TimeTick | number;
  /** Default `''`: for every vchannel. */
  vchannel?: string;
  /** Default: the message's own id. */
  lastConfirmedId?: MessageId | bigint | number;
  /** The transaction: its id and keepalive (default `Infinity`). */
  txn?: {
    /** The transaction's id. */
    txnId: bigint | number;
    /** How long it may stay open; default `Infinity`. */
    keepalive?: Duration;
  };
  /** Default `true`; `false` only on a `TimeTick`. */
  persisted?: boolean;
  /** String properties; default none. */
  properties?: Record<string, string>;
  /** The body; default `undefined`. */
  payload?: P;
  /** Default: {@link estimateSize} of payload and properties. */
  size?: number;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * Builds an immutable {@link WalMessage}, validating every field.
 *
 * @throws InvalidMessageError naming the field and the value: a missing or empty `type`; a tick
 * that is negative, fractional, ≥ 2^64, or a `number` above 2^53 − 1; an id that is not a
 * `MessageId`, a non-negative integer or bigint; a `txn` on a `TimeTick` or without `txnId`; a
 * keepalive that is negative, NaN or unparsable; `persisted: false` on anything but a `TimeTick`.
 *
 * @example
 * ```ts
 * const begin = createMessage({ id: 4, type: 'BeginTxn', timeTick: 101n, vchannel: 'v1', txn: { txnId: 7, keepalive: '10s' } });
 * const tick = createMessage({ id: 6, type: 'TimeTick', timeTick: 104n });
 * ```
 */
export function createMessage<P = unknown>(init: MessageInit<P>): WalMessage<P> {
  if (typeof init !== 'object' || init === null) {
    throw new InvalidMessageError('init', init, 'must be an object');
  }
  const type = checkType(init.type);
  const id = toMessageId(init.id, 'id');
  const timeTick = checkTimeTick(init.timeTick);
  const vchannel = init.vchannel ?? '';
  if (typeof vchannel !== 'string') {
    throw new InvalidMessageError('vchannel', vchannel, 'must be a string');
  }
  const lastConfirmedId =
    init.lastConfirmedId === undefined ? id : toMessageId(init.lastConfirmedId, 'lastConfirmedId');
  const txn = init.txn === undefined ? undefined : checkTxn(init.txn, type);
  const persisted = init.persisted ?? true;
  if (typeof persisted !== 'boolean') {
    throw new InvalidMessageError('persisted', persisted, 'must be a boolean');
  }
  if (!persisted && type !== MessageType.TimeTick) {
    throw new InvalidMessageError(
      'persisted',
      persisted,
      `can be false only on a TimeTick, not on ${type}`,
    );
  }
  const properties = checkProperties(init.properties);
  const payload = init.payload as P;
  const size = init.size === undefined ? estimateSize(payload, properties) : checkSize(init.size);
  return freezeMessage({
    id,
    type,
    timeTick,
    vchannel,
    lastConfirmedId,
    txn,
    persisted,
    properties,
    payload,
    size,
  });
}

/** Freezes a message built from already-validated fields (shared by the writers). */
export function freezeMessage<P>(fields: WalMessage<P>): WalMessage<P> {
  return Object.freeze(fields);
}

function checkType(type: unknown): MessageType {
  if (typeof type !== 'string' || type === '') {
    throw new InvalidMessageError('type', type, 'must be a non-empty string');
  }
  return type;
}

function checkTimeTick(value: unknown): TimeTick {
  if (typeof value === 'number') {
    if (!Number.isInteger(value))
      throw new InvalidMessageError('timeTick', value, 'must be an integer');
    if (value < 0) throw new InvalidMessageError('timeTick', value, 'must not be negative');
    if (!Number.isSafeInteger(value)) {
      throw new InvalidMessageError('timeTick', value, 'is above 2^53 - 1: pass a bigint');
    }
    return BigInt(value);
  }
  if (typeof value === 'bigint') {
    if (value < 0n) throw new InvalidMessageError('timeTick', value, 'must not be negative');
    if (value > MAX_TIME_TICK)
      throw new InvalidMessageError('timeTick', value, 'must be below 2^64');
    return value;
  }
  throw new InvalidMessageError('timeTick', value, 'must be a bigint or a non-negative integer');
}

function checkTxn(txn: unknown, type: MessageType): TxnContext {
  if (type === MessageType.TimeTick) {
    throw new InvalidMessageError('txn', txn, 'is not allowed on a TimeTick');
  }
  if (typeof txn !== 'object' || txn === null) {
    throw new InvalidMessageError('txn', txn, 'must be an object with a txnId');
  }
  const { txnId, keepalive } = txn as { txnId?: unknown; keepalive?: unknown };
  return Object.freeze({ txnId: checkTxnId(txnId), keepaliveMs: checkKeepalive(keepalive) });
}

function checkTxnId(txnId: unknown): bigint {
  if (txnId === undefined) throw new InvalidMessageError('txn.txnId', txnId, 'is required');
  if (typeof txnId === 'number' && Number.isSafeInteger(txnId)) return BigInt(txnId);
  if (typeof txnId === 'bigint' && txnId >= INT64_MIN && txnId <= INT64_MAX) return txnId;
  throw new InvalidMessageError('txn.txnId', txnId, 'must be a 64-bit integer (number or bigint)');
}

/** A keepalive in milliseconds; `Infinity` never expires. Throws InvalidMessageError otherwise. */
export function checkKeepalive(keepalive: unknown, field = 'txn.keepalive'): number {
  if (keepalive === undefined) return DEFAULT_TXN_KEEPALIVE_MS;
  try {
    return parseDuration(keepalive, field, { allowInfinity: true });
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new InvalidMessageError(field, keepalive, 'must be a non-negative duration', {
        cause: err,
      });
    }
    throw err;
  }
}

function checkProperties(properties: unknown): Readonly<Record<string, string>> {
  if (properties === undefined) return EMPTY_PROPERTIES;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
    throw new InvalidMessageError('properties', properties, 'must be an object of strings');
  }
  const copy: Record<string, string> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (typeof value !== 'string') {
      throw new InvalidMessageError(`properties.${key}`, value, 'must be a string');
    }
    copy[key] = value;
  }
  return Object.freeze(copy);
}

function checkSize(size: unknown): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidMessageError('size', size, 'must be a non-negative integer');
  }
  return size;
}

const EMPTY_PROPERTIES: Readonly<Record<string, string>> = Object.freeze({});
