import type { SchedulerLike } from 'rxjs';

import type { Duration } from '../internal/duration.js';
import { ConfigError } from '../errors.js';
import { MessageType, type WalMessage } from '../message/message.js';
import type { Logger } from '../observability/logger.js';
import type { DeliverPolicy } from '../options/deliverPolicy.js';
import type { WriteAheadBuffer, WriteAheadBufferOptions } from './writeAheadBuffer.js';

/**
 * Reads a log in batches. `next()` waits until at least one message is there; it resolves an
 * empty batch only when the reader's stream has ended (a scanner treats that as an error and
 * retries), and rejects when reading failed.
 */
export interface WalReader {
  next(maxMessages?: number): Promise<readonly WalMessage[]>;
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

/** Whether `m` belongs to what a reader hinted at `vchannel` returns (see {@link ReadHint}). */
export function matchesHint(m: WalMessage, vchannel: string): boolean {
  return (
    vchannel === '' ||
    m.vchannel === '' ||
    m.vchannel === vchannel ||
    m.type === MessageType.TimeTick
  );
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
}

/** What {@link Wal.append} takes. */
export interface AppendInit<P = unknown> {
  type: MessageType;
  vchannel?: string;
  payload?: P;
  properties?: Record<string, string>;
}

/** An open transaction of a {@link Wal} writer. */
export interface WalTxn {
  /** The transaction's id (its begin's tick). */
  readonly txnId: bigint;
  /** The begin message. */
  readonly begin: WalMessage;
  append<P>(m: AppendInit<P>): Promise<WalMessage<P>>;
  commit(): Promise<WalMessage>;
  rollback(): Promise<WalMessage>;
}

/**
 * A log with its writer: appends get time ticks from a hybrid clock and last-confirmed ids, a
 * time tick is written every `timeTickInterval`, transactions expire after their keepalive, and
 * the write-ahead buffer is fed in tick order.
 */
export interface Wal extends ReadableWal {
  append<P>(m: AppendInit<P>): Promise<WalMessage<P>>;
  beginTxn(o: { vchannel: string; keepalive?: Duration }): Promise<WalTxn>;
  /** Writes a time tick now: persisted when anything was written since the last one, or always with `{ persisted: true }`. */
  syncTimeTick(o?: { persisted?: boolean }): Promise<WalMessage>;
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
  scheduler?: SchedulerLike;
  logger?: Logger;
}
