import type { MessageId } from './messageId.js';
import type { TimeTick } from './tso.js';

/**
 * Message types. Data types are open strings; the system types (`TimeTick`, `BeginTxn`,
 * `CommitTxn`, `RollbackTxn`, `Txn`) are reserved and can never be removed by a type filter.
 *
 * @example
 * ```ts
 * if (m.type === MessageType.TimeTick) releaseUpTo(m.timeTick);
 * ```
 */
export const MessageType = {
  /** A time tick: everything at or below it has been written. */
  TimeTick: 'TimeTick',
  /** Rows inserted. */
  Insert: 'Insert',
  /** Rows deleted. */
  Delete: 'Delete',
  /** Segments flushed. */
  Flush: 'Flush',
  /** A collection created. */
  CreateCollection: 'CreateCollection',
  /** A collection dropped. */
  DropCollection: 'DropCollection',
  /** A partition created. */
  CreatePartition: 'CreatePartition',
  /** A partition dropped. */
  DropPartition: 'DropPartition',
  /** A flush asked for by a user. */
  ManualFlush: 'ManualFlush',
  /** A segment created. */
  CreateSegment: 'CreateSegment',
  /** A bulk import. */
  Import: 'Import',
  /** The replication configuration changed. */
  AlterReplicateConfig: 'AlterReplicateConfig',
  /** A transaction began (system type). */
  BeginTxn: 'BeginTxn',
  /** A transaction committed (system type). */
  CommitTxn: 'CommitTxn',
  /** A transaction rolled back (system type). */
  RollbackTxn: 'RollbackTxn',
  /** A whole committed transaction as the scanner delivers it (system type). */
  Txn: 'Txn',
} as const;

/** A message type: one of {@link MessageType}'s values or any other non-empty data type name. */
export type MessageType = string;

/** The types that belong to the streaming system itself (reference § 1.6). */
export const SYSTEM_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set([
  MessageType.TimeTick,
  MessageType.BeginTxn,
  MessageType.CommitTxn,
  MessageType.RollbackTxn,
  MessageType.Txn,
]);

/**
 * Is `type` a system type (never removed by a type filter, never appended as data)?
 *
 * @example
 * ```ts
 * isSystemMessageType('CommitTxn'); // true
 * isSystemMessageType('Insert');    // false
 * ```
 */
export function isSystemMessageType(type: MessageType): boolean {
  return SYSTEM_MESSAGE_TYPES.has(type);
}

/** The transaction a message belongs to. `keepaliveMs` is `Infinity` for one that never expires. */
export interface TxnContext {
  /** The transaction's id (its begin's time tick). */
  readonly txnId: bigint;
  /** How long the transaction may stay open, in ms; `Infinity` for never expiring. */
  readonly keepaliveMs: number;
}

/**
 * One immutable message of a write-ahead log.
 *
 * @example
 * ```ts
 * const m: WalMessage<string> = createMessage({ id: 2, type: 'Insert', timeTick: 103n, vchannel: 'v1', payload: 'row' });
 * ```
 */
export interface WalMessage<P = unknown> {
  /** The message's position in its log. */
  readonly id: MessageId;
  /** What the message is: a data type or a system type. */
  readonly type: MessageType;
  /** The hybrid timestamp the writer gave it; the scanner delivers in this order. */
  readonly timeTick: TimeTick;
  /** `''` means "for every vchannel" (time ticks, broadcasts). */
  readonly vchannel: string;
  /** Reading from this id sees every message with a greater tick (reference § 1.7). */
  readonly lastConfirmedId: MessageId;
  /** The transaction it belongs to; `undefined` outside transactions. */
  readonly txn: TxnContext | undefined;
  /** `false` only for time ticks that never reached the durable log. */
  readonly persisted: boolean;
  /** String properties written with the message. */
  readonly properties: Readonly<Record<string, string>>;
  /** The body as the payload codec decoded it. */
  readonly payload: P;
  /** Estimated bytes; drives every byte counter. */
  readonly size: number;
}

/**
 * A committed transaction, assembled on the read side from its begin, bodies and commit.
 * It has the commit's id, tick, last-confirmed id, txn context and properties and the begin's
 * vchannel; its bodies are copies re-stamped with the commit's tick and last-confirmed id.
 */
export interface TxnMessage<P = unknown> extends WalMessage<P> {
  /** Always `'Txn'`. */
  readonly type: 'Txn';
  /** The `BeginTxn` message. */
  readonly begin: WalMessage<P>;
  /** The `CommitTxn` message. */
  readonly commit: WalMessage<P>;
  /** The body messages in order, re-stamped with the commit's tick. */
  readonly body: readonly WalMessage<P>[];
}

/**
 * Narrows a message to a {@link TxnMessage}.
 *
 * @example
 * ```ts
 * if (isTxnMessage(m)) m.body.forEach(apply); else apply(m);
 * ```
 */
export function isTxnMessage<P>(m: WalMessage<P>): m is TxnMessage<P> {
  return m.type === MessageType.Txn && Array.isArray((m as Partial<TxnMessage<P>>).body);
}
