import { ConfigError } from '../errors.js';
import type { WalMessage } from '../message/message.js';
import { isMessageId, messageId, type MessageId } from '../message/messageId.js';
import { MAX_TIME_TICK, type TimeTick } from '../message/tso.js';

/**
 * A position in the order a scanner delivers: the `(timeTick, id)` of a delivered message (a
 * `Txn`: its commit's) and the id a resumed reader starts reading from.
 *
 * @example
 * ```ts
 * const cp: Checkpoint = checkpointOf(lastHandled);
 * scanWal(wal, { resumeFrom: cp }); // delivers exactly what came after lastHandled
 * ```
 */
export interface Checkpoint {
  /** Of the delivered message (a `Txn`: its commit's). */
  readonly timeTick: TimeTick;
  /** Of the delivered message (a `Txn`: its commit's). */
  readonly id: MessageId;
  /** Where a resumed reader starts reading: every message delivered later has an id ≥ it. */
  readonly lastConfirmedId: MessageId;
}

/**
 * The version written by {@link encodeCheckpoint} (its `"v"` field).
 *
 * @example
 * ```ts
 * JSON.parse(encodeCheckpoint(cp)).v === CHECKPOINT_FORMAT_VERSION; // true
 * ```
 */
export const CHECKPOINT_FORMAT_VERSION = 1;

/**
 * The position of a delivered message: a data message, a `Txn` (its commit's tick, id and
 * last-confirmed id) or a time tick.
 *
 * @param m a message a scanner delivered
 * @returns its checkpoint
 * @throws ConfigError when `m` is not a message
 *
 * @example
 * ```ts
 * scanWal(wal).subscribe((m) => {
 *   apply(m);
 *   lastCheckpoint = checkpointOf(m);
 * });
 * ```
 */
export function checkpointOf(m: WalMessage): Checkpoint {
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.timeTick !== 'bigint' ||
    !isMessageId(m.id) ||
    !isMessageId(m.lastConfirmedId)
  ) {
    throw new ConfigError('message', m, 'must be a WalMessage delivered by a scanner');
  }
  return { timeTick: m.timeTick, id: m.id, lastConfirmedId: m.lastConfirmedId };
}

/**
 * Compares a delivered message's position with a checkpoint: negative, zero or positive as it
 * is before, at or after it in the delivered order (tick, then id).
 *
 * @example
 * ```ts
 * comparePosition(m, cp) > 0; // m comes after the checkpoint
 * ```
 */
export function comparePosition(
  m: { readonly timeTick: TimeTick; readonly id: MessageId },
  cp: Checkpoint,
): number {
  if (m.timeTick !== cp.timeTick) return m.timeTick < cp.timeTick ? -1 : 1;
  return m.id.compare(cp.id);
}

/**
 * Encodes a checkpoint as a short, versioned JSON text, e.g.
 * `{"v":1,"timeTick":"442...","id":"17","lastConfirmedId":"12"}`.
 *
 * @param cp the checkpoint
 * @returns text for a file, a KV value or a database column
 *
 * @example
 * ```ts
 * fs.writeFileSync('scan.checkpoint', encodeCheckpoint(checkpointOf(m)));
 * ```
 */
export function encodeCheckpoint(cp: Checkpoint): string {
  checkCheckpoint(cp, 'checkpoint');
  return JSON.stringify({
    v: CHECKPOINT_FORMAT_VERSION,
    timeTick: cp.timeTick.toString(),
    id: cp.id.key,
    lastConfirmedId: cp.lastConfirmedId.key,
  });
}

const DIGITS = /^(0|[1-9][0-9]*)$/;

/**
 * Decodes the text of {@link encodeCheckpoint}.
 *
 * @param text the encoded checkpoint
 * @returns the checkpoint
 * @throws ConfigError naming what is wrong, for anything that is not an encoded checkpoint
 *
 * @example
 * ```ts
 * const resumeFrom = decodeCheckpoint(fs.readFileSync('scan.checkpoint', 'utf8'));
 * ```
 */
export function decodeCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string') throw new ConfigError('checkpoint', text, 'must be a string');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('checkpoint', text, 'is not JSON', { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('checkpoint', text, 'must be a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  if (record.v !== CHECKPOINT_FORMAT_VERSION) {
    throw new ConfigError(
      'checkpoint.v',
      record.v,
      `must be the format version ${CHECKPOINT_FORMAT_VERSION}`,
    );
  }
  const field = (name: string): bigint => {
    const value = record[name];
    if (typeof value !== 'string' || !DIGITS.test(value)) {
      throw new ConfigError(`checkpoint.${name}`, value, 'must be a decimal integer string');
    }
    return BigInt(value);
  };
  const timeTick = field('timeTick');
  if (timeTick > MAX_TIME_TICK) {
    throw new ConfigError('checkpoint.timeTick', record.timeTick, 'must be below 2^64');
  }
  const id = messageId(field('id'));
  const lastConfirmedId = messageId(field('lastConfirmedId'));
  const extra = Object.keys(record).filter(
    (k) => !['v', 'timeTick', 'id', 'lastConfirmedId'].includes(k),
  );
  if (extra.length > 0)
    throw new ConfigError('checkpoint', text, `has unknown fields ${extra.join(', ')}`);
  return { timeTick, id, lastConfirmedId };
}

/** Throws a ConfigError naming `option` unless `cp` is a checkpoint. */
export function checkCheckpoint(cp: unknown, option: string): Checkpoint {
  const c = cp as Checkpoint;
  if (typeof cp !== 'object' || cp === null)
    throw new ConfigError(option, cp, 'must be a Checkpoint');
  if (typeof c.timeTick !== 'bigint' || c.timeTick < 0n || c.timeTick > MAX_TIME_TICK) {
    throw new ConfigError(
      `${option}.timeTick`,
      c.timeTick,
      'must be a time tick (bigint in [0, 2^64))',
    );
  }
  if (!isMessageId(c.id)) throw new ConfigError(`${option}.id`, c.id, 'must be a MessageId');
  if (!isMessageId(c.lastConfirmedId)) {
    throw new ConfigError(`${option}.lastConfirmedId`, c.lastConfirmedId, 'must be a MessageId');
  }
  return c;
}
