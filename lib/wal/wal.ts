import type { SchedulerLike } from 'rxjs';

import type { Duration } from '../internal/duration.js';
import { ConfigError } from '../errors.js';
import { MessageType, type WalMessage } from '../message/message.js';
import type { MessageId } from '../message/messageId.js';
import type { TimeTick } from '../message/tso.js';
import type { Logger } from '../observability/logger.js';
import type { DeliverPolicy } from '../options/deliverPolicy.js';
import type { WriteAheadBuffer, WriteAheadBufferOptions } from './writeAheadBuffer.js';

/**
 * Reads a log in batches. `next()` waits until at least one message is there; it resolves an
 * empty batch only when the reader's stream has ended (a scanner treats that as an error and
 * retries), and rejects when reading failed.
 */
export interface WalReader {
  /** The next batch of at most `maxMessages` messages (default: the backend's batch size); waits until there is one. */
  next(maxMessages?: number): Promise<readonly WalMessage[]>;
  /** Stops reading and releases what the reader holds; a pending `next()` settles. */
  close(): void;
  /**
   * The reader's start as a concrete policy, `latest()` resolved to a position when the reader
   * was created; a scanner retries from it when nothing was handed over yet. Optional.
   */
  readonly resolvedPolicy?: DeliverPolicy;
}

/**
 * What a reader is asked to return (read pushdown). `vchannel: 'v7'` lets the reader return only
 * the messages of `v7`, the `''` (every-vchannel) messages and every time tick, in log order with
 * their own ids; it must return all of those. `''` or absent: everything. A reader may ignore the
 * hint: a scanner filters by vchannel after reading anyway.
 *
 * @example
 * ```ts
 * const reader = wal.read(DeliverPolicy.all(), { vchannel: 'v7' });
 * const batch = await reader.next(); // v7's messages, broadcasts and time ticks (or everything)
 * ```
 */
export interface ReadHint {
  /** The vchannel the reader is for; `''` or absent: every vchannel. */
  vchannel?: string;
}

/** The vchannel a hint asks for, `''` when it asks for everything; a bad hint throws ConfigError. */
export function hintedVChannel(hint: ReadHint | undefined): string {
  if (hint === undefined) return '';
  if (typeof hint !== 'object' || hint === null)
    throw new ConfigError('hint', hint, 'must be an object such as { vchannel }');
  const vchannel = hint.vchannel ?? '';
  if (typeof vchannel !== 'string')
    throw new ConfigError('hint.vchannel', vchannel, "must be a string ('' for every vchannel)");
  return vchannel;
}

/**
 * What a scanner needs of a log. Implement it to scan another log.
 *
 * @example
 * ```ts
 * const wal: ReadableWal = { channel: 'p0', accessMode: 'ro', read: (policy) => myReader(policy) };
 * scanWal(wal).subscribe(console.log);
 * ```
 */
export interface ReadableWal {
  /** The pchannel name. */
  readonly channel: string;
  /** `'ro'`: never tails, never forces a time tick. */
  readonly accessMode: 'rw' | 'ro';
  /**
   * A reader from `policy` on. `hint` is optional to honour: a reader given `{ vchannel: 'v7' }`
   * may return only what {@link ReadHint} describes (never less).
   */
  read(policy: DeliverPolicy, hint?: ReadHint): WalReader;
  /** Present only in the writer's own process, once the writer has started. */
  readonly writeAheadBuffer?: WriteAheadBuffer | undefined;
  /** Asks the writer for a persisted time tick soon (reference § 3.1); best effort. */
  requestPersistedTimeTick?(): void;
  /**
   * Where the log ends now: the id of its newest record and the highest time tick written
   * (undefined for an empty log). Optional and cheap to call; a scanner uses it to report its lag
   * (`ScannerMetrics.observeLag`) and reports none when the backend does not offer it.
   */
  logEnd?(): LogEnd | undefined;
}

/**
 * What {@link ReadableWal.logEnd} returns.
 *
 * @example
 * ```ts
 * const end: LogEnd | undefined = wal.logEnd?.(); // { id: messageId(1200), timeTick: 4425…n }
 * ```
 */
export interface LogEnd {
  /** The newest record's id. */
  readonly id: MessageId;
  /** The highest time tick written so far. */
  readonly timeTick: TimeTick;
}

/** What {@link Wal.append} takes. */
export interface AppendInit<P = unknown> {
  /** The data type, e.g. `'Insert'`; system types are written by the writer itself. */
  type: MessageType;
  /** The vchannel; default `''`: a broadcast to every vchannel. */
  vchannel?: string;
  /** The message body; the backend's payload codec turns it into bytes. */
  payload?: P;
  /** String properties kept with the message. */
  properties?: Record<string, string>;
}

/** An open transaction of a {@link Wal} writer. */
export interface WalTxn {
  /** The transaction's id (its begin's tick). */
  readonly txnId: bigint;
  /** The begin message. */
  readonly begin: WalMessage;
  /** Appends a body message of this transaction; it is delivered only with the commit. */
  append<P>(m: AppendInit<P>): Promise<WalMessage<P>>;
  /** Writes the commit: scanners deliver the transaction as one `Txn` message at its tick. */
  commit(): Promise<WalMessage>;
  /** Writes the rollback: scanners drop the transaction. */
  rollback(): Promise<WalMessage>;
}

/**
 * A log with its writer: appends get time ticks from a hybrid clock and last-confirmed ids, a
 * time tick is written every `timeTickInterval`, transactions expire after their keepalive, and
 * the write-ahead buffer is fed in tick order.
 */
export interface Wal extends ReadableWal {
  /** Appends one message; resolves with it as written (id, time tick, last-confirmed id). */
  append<P>(m: AppendInit<P>): Promise<WalMessage<P>>;
  /** Begins a transaction on one vchannel; it expires when `keepalive` (default `'30s'`) passes before its commit. */
  beginTxn(o: { vchannel: string; keepalive?: Duration }): Promise<WalTxn>;
  /** Writes a time tick now: persisted when anything was written since the last one, or always with `{ persisted: true }`. */
  syncTimeTick(o?: { persisted?: boolean }): Promise<WalMessage>;
  /** Stops the writer and ends every scanner still reading this log with `ClosedError`. */
  close(): Promise<void>;
}

/** Options shared by every backend's writer. */
export interface WalOptions {
  /** The pchannel name; default `'rxwal'`. */
  channel?: string;
  /** Default `'200ms'`. */
  timeTickInterval?: Duration;
  /** Defaults: capacity 64 MiB, keepalive `'30s'`. */
  writeAheadBuffer?: WriteAheadBufferOptions;
  /** Where the writer's timers run; default `asyncScheduler` (a virtual one in tests). */
  scheduler?: SchedulerLike;
  /** Where the writer logs; default silent. */
  logger?: Logger;
}
