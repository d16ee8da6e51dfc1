import { InvalidMessageError } from '../errors.js';

/**
 * The position of a message in its log, assigned by the WAL. Ids are ordered only between ids of
 * the same WAL; `key` is a canonical string that identifies the message (used for deduplication).
 */
export interface MessageId {
  /** Canonical string form; two ids with equal keys are the same message. */
  readonly key: string;
  /** Negative, zero or positive as this id is before, at or after `other` in the log. */
  compare(other: MessageId): number;
  /** The id as text (its `key`). */
  toString(): string;
}

/** A numeric message id: the row sequence of the memory and SQLite WALs. */
class NumericMessageId implements MessageId {
  readonly key: string;

  constructor(readonly seq: bigint) {
    this.key = seq.toString();
  }

  compare(other: MessageId): number {
    if (other instanceof NumericMessageId) {
      return this.seq < other.seq ? -1 : this.seq > other.seq ? 1 : 0;
    }
    // An id of another WAL has its own order; keys still identify equal ids.
    return this.key === other.key ? 0 : this.key < other.key ? -1 : 1;
  }

  equals(other: MessageId): boolean {
    return this.key === other.key;
  }

  toString(): string {
    return this.key;
  }

  toJSON(): string {
    return this.key;
  }
}

/**
 * A numeric message id, as used by the memory and SQLite WALs.
 *
 * @param seq a non-negative integer (number or bigint)
 * @throws InvalidMessageError for anything else
 *
 * @example
 * ```ts
 * messageId(3).compare(messageId(10n)); // -1
 * messageId(3).key;                      // '3'
 * ```
 */
export function messageId(seq: bigint | number): MessageId {
  return new NumericMessageId(toSequence(seq, 'id'));
}

/** The sequence of a numeric id, or undefined for ids of other WALs. */
export function sequenceOf(id: MessageId): bigint | undefined {
  return id instanceof NumericMessageId ? id.seq : undefined;
}

/** Is `value` shaped like a {@link MessageId} (a string `key` and a `compare` method)? */
export function isMessageId(value: unknown): value is MessageId {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as MessageId).key === 'string' &&
    typeof (value as MessageId).compare === 'function'
  );
}

/** Accepts a {@link MessageId}, a non-negative integer or a bigint as an id. */
export function toMessageId(value: unknown, field: string): MessageId {
  if (isMessageId(value)) return value;
  if (typeof value === 'number' || typeof value === 'bigint') {
    return new NumericMessageId(toSequence(value, field));
  }
  throw new InvalidMessageError(
    field,
    value,
    'must be a MessageId, a non-negative integer or a bigint',
  );
}

const MAX_SEQUENCE = (1n << 64n) - 1n;

function toSequence(value: unknown, field: string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidMessageError(
        field,
        value,
        'must be a non-negative safe integer (or a bigint)',
      );
    }
    return BigInt(value);
  }
  if (typeof value === 'bigint') {
    if (value < 0n || value > MAX_SEQUENCE) {
      throw new InvalidMessageError(field, value, 'must be in [0, 2^64)');
    }
    return value;
  }
  throw new InvalidMessageError(field, value, 'must be a non-negative integer or a bigint');
}
