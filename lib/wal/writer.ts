import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';

import { ClosedError, ConfigError, InvalidMessageError, TxnExpiredError } from '../errors.js';
import { checkKeepalive, freezeMessage } from '../message/createMessage.js';
import {
  isSystemMessageType,
  MessageType,
  type TxnContext,
  type WalMessage,
} from '../message/message.js';
import { messageId, sequenceOf, type MessageId } from '../message/messageId.js';
import { estimateSize } from '../message/size.js';
import { LOGICAL_BITS, type TimeTick } from '../message/tso.js';
import { parseDuration, type Duration } from '../internal/duration.js';
import { definedOnly } from '../internal/definedOnly.js';
import { StableHeap } from '../internal/heap.js';
import type { Logger } from '../observability/logger.js';
import { resolveObserved } from '../observability/resolve.js';
import { HybridClock } from './clock.js';
import type { AppendInit, WalOptions, WalTxn } from './wal.js';
import { MemoryWriteAheadBuffer, resolveWabOptions } from './writeAheadBuffer.js';

/** Where a writer puts its messages: a durable log that numbers them by a dense sequence. */
export interface LogStorage {
  /** The sequence the next written message gets. */
  nextSequence(): bigint;
  /** Persists `messages` in order; their ids are consecutive from `nextSequence()`. */
  write(messages: readonly WalMessage[]): void | Promise<void>;
}

/** Options of the writer beyond {@link WalOptions}. */
export interface WalWriterOptions extends WalOptions {
  /**
   * Concurrent appends (those issued in the same turn of the event loop) reach the log in a
   * random order, as they can in a real WAL; their ticks stay in call order. For tests.
   */
  reorderConcurrentWrites?: boolean;
  /** The randomness behind `reorderConcurrentWrites`; default `Math.random`. */
  random?: () => number;
  /** The newest tick already in the log, so the clock starts past it (reopened logs). */
  lastTimeTick?: TimeTick;
}

/** Default interval of the writer's time ticks. */
export const DEFAULT_TIME_TICK_INTERVAL_MS = 200;

type TxnPhase = 'opening' | 'open' | 'finishing' | 'done' | 'expired';

interface TxnState {
  readonly context: TxnContext;
  readonly vchannel: string;
  phase: TxnPhase;
  /** Sequence of the begin, once written: holds back last-confirmed ids while open. */
  beginSeq: bigint | undefined;
  beginId: MessageId | undefined;
  /** Physical ms of the last begin/body tick: the keepalive counts from it. */
  lastActivityMs: number;
  deadlineMs: number;
}

/** Placeholder settle functions of a record not yet queued (replaced by `enqueue`). */
const unsettled = (): void => undefined;

interface PendingRecord {
  readonly type: MessageType;
  readonly timeTick: TimeTick;
  readonly vchannel: string;
  readonly persisted: boolean;
  readonly payload: unknown;
  readonly properties: Readonly<Record<string, string>>;
  readonly txn: TxnState | undefined;
  resolve: (m: WalMessage) => void;
  reject: (err: unknown) => void;
}

const NO_PROPERTIES: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The writer side of a log (DESIGN "The writer side"): a hybrid clock, appends that may reach the
 * log out of tick order, a periodic time tick (persisted when something was written since the
 * last one, otherwise a not-persisted tick that only reaches the write-ahead buffer),
 * transactions with keepalive, last-confirmed ids that honour open transactions, and the
 * write-ahead buffer fed in tick order.
 *
 * Last-confirmed id of a message = the smallest of the first id of its write batch (a batch may
 * be written out of tick order) and the begin ids of the transactions still open and not expired
 * when it is written; a time tick's own id stands for its batch, a not-persisted tick takes the
 * last written id (and that is also its id).
 *
 * The writer starts on first use: it writes a persisted time tick that becomes the write-ahead
 * buffer's first entry and starts the interval timer.
 */
export class WalWriter {
  private readonly clock: HybridClock;
  private readonly scheduler: SchedulerLike;
  private readonly intervalMs: number;
  private readonly logger: Logger;
  private readonly random: () => number;
  private buffer: MemoryWriteAheadBuffer | undefined;
  private timer: Subscription | undefined;
  private pending: PendingRecord[] = [];
  private flushScheduled = false;
  private writing: Promise<void> = Promise.resolve();
  private dataSinceTick = false;
  private timerTickInFlight = false;
  /** `scheduler.now()` when the last periodic time tick was queued (by the timer or an append). */
  private lastPeriodicTickAt = 0;
  private requestedTickPending = false;
  private state: 'idle' | 'running' | 'closing' | 'closed' = 'idle';
  private lastWrittenId: MessageId | undefined;
  /** Messages written since the last persisted round went into the write-ahead buffer. */
  private round: WalMessage[] = [];
  /** Open transactions in begin order, so the first one holds the smallest begin id. */
  private readonly openTxns = new Map<bigint, TxnState>();
  private readonly txnDeadlines = new StableHeap<TxnState>();

  constructor(
    private readonly storage: LogStorage,
    private readonly options: WalWriterOptions = {},
  ) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigError('options', options, 'must be an object');
    }
    this.scheduler = options.scheduler === undefined ? asyncScheduler : options.scheduler;
    if (
      options.reorderConcurrentWrites !== undefined &&
      typeof options.reorderConcurrentWrites !== 'boolean'
    ) {
      throw new ConfigError(
        'reorderConcurrentWrites',
        options.reorderConcurrentWrites,
        'must be a boolean',
      );
    }
    if (options.random !== undefined && typeof options.random !== 'function') {
      throw new ConfigError('random', options.random, 'must be a function returning [0, 1)');
    }
    if (typeof this.scheduler.now !== 'function' || typeof this.scheduler.schedule !== 'function') {
      throw new ConfigError('scheduler', options.scheduler, 'must be a SchedulerLike');
    }
    this.intervalMs = parseDuration(
      options.timeTickInterval ?? DEFAULT_TIME_TICK_INTERVAL_MS,
      'timeTickInterval',
    );
    if (this.intervalMs <= 0)
      throw new ConfigError('timeTickInterval', options.timeTickInterval, 'must be positive');
    this.logger = resolveObserved(
      definedOnly({ logger: options.logger }),
      'walWriter',
    ).logger.child({
      channel: options.channel ?? 'rxwal',
    }) as Logger;
    this.random = options.random ?? Math.random;
    this.clock = new HybridClock(this.scheduler);
    if (options.lastTimeTick !== undefined) this.clock.observe(options.lastTimeTick);
    resolveWabOptions(options.writeAheadBuffer); // reject bad buffer options now, not at the first append
  }

  /** True once the writer has written (or is writing) its first time tick. */
  get started(): boolean {
    return this.state !== 'idle';
  }

  /** The write-ahead buffer, once the writer's first time tick was written. */
  get writeAheadBuffer(): MemoryWriteAheadBuffer | undefined {
    return this.buffer;
  }

  append<P>(m: AppendInit<P>): Promise<WalMessage<P>> {
    return this.appendRecord(m, undefined) as Promise<WalMessage<P>>;
  }

  async beginTxn(o: { vchannel: string; keepalive?: Duration }): Promise<WalTxn> {
    if (typeof o !== 'object' || o === null)
      throw new InvalidMessageError('beginTxn', o, 'needs { vchannel }');
    if (typeof o.vchannel !== 'string')
      throw new InvalidMessageError('vchannel', o.vchannel, 'must be a string');
    const keepaliveMs = checkKeepalive(o.keepalive, 'keepalive');
    if (this.state === 'closing' || this.state === 'closed') throw new ClosedError('WAL');
    this.start();
    const timeTick = this.clock.next();
    const physical = Number(timeTick >> LOGICAL_BITS);
    const txn: TxnState = {
      context: Object.freeze({ txnId: timeTick, keepaliveMs }),
      vchannel: o.vchannel,
      phase: 'opening',
      beginSeq: undefined,
      beginId: undefined,
      lastActivityMs: physical,
      deadlineMs: physical + keepaliveMs,
    };
    const begin = await this.enqueue({
      type: MessageType.BeginTxn,
      vchannel: o.vchannel,
      payload: undefined,
      properties: NO_PROPERTIES,
      txn,
      timeTick,
      persisted: true,
      resolve: unsettled,
      reject: unsettled,
    });
    return this.txnHandle(txn, begin);
  }

  /** Writes a time tick now; persisted when anything was written since the last one or when asked. */
  syncTimeTick(o: { persisted?: boolean } = {}): Promise<WalMessage> {
    if (this.state === 'closing' || this.state === 'closed')
      return Promise.reject(new ClosedError('WAL'));
    this.start();
    return this.enqueueTick(o.persisted === true);
  }

  /** Best effort: a persisted time tick soon, if the writer is running (reference § 3.1). */
  requestPersistedTimeTick(): void {
    // Requests made while one is still on its way share it (many scanners starting at once).
    if (this.state !== 'running' || this.requestedTickPending) return;
    this.requestedTickPending = true;
    this.enqueueTick(true)
      .catch((err: unknown) => this.logger.warn({ err }, 'requested time tick failed'))
      .finally(() => {
        this.requestedTickPending = false;
      });
  }

  /** Stops the timer, finishes what was accepted, then closes the write-ahead buffer. */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return this.writing;
    this.state = 'closing';
    this.timer?.unsubscribe();
    this.timer = undefined;
    // Wait until every accepted record is written, including batches queued meanwhile.
    for (;;) {
      const writing = this.writing;
      await writing;
      if (writing === this.writing && !this.flushScheduled && this.pending.length === 0) break;
    }
    this.state = 'closed';
    this.buffer?.close();
  }

  private start(): void {
    if (this.state !== 'idle') return;
    this.state = 'running';
    this.lastPeriodicTickAt = this.scheduler.now();
    this.enqueueTick(true).catch((err: unknown) =>
      this.logger.error({ err }, 'first time tick failed'),
    );
    const tick = (): void => {
      // The buffer's maintenance (reference § 3.7.3): expired entries go even when no tick can
      // reach the buffer (a write in flight or failing), not only on the next append.
      this.buffer?.evict();
      this.onTimer();
      if (this.state === 'running') this.timer = this.scheduler.schedule(tick, this.intervalMs);
    };
    this.timer = this.scheduler.schedule(tick, this.intervalMs);
  }

  private onTimer(): void {
    if (this.timerTickInFlight || this.state !== 'running') return;
    this.timerTickInFlight = true;
    this.lastPeriodicTickAt = this.scheduler.now();
    this.enqueueTick(false)
      .catch((err: unknown) => this.logger.warn({ err }, 'periodic time tick failed'))
      .finally(() => {
        this.timerTickInFlight = false;
      });
  }

  private enqueueTick(forcePersisted: boolean): Promise<WalMessage> {
    const persisted = forcePersisted || this.dataSinceTick;
    this.dataSinceTick = false;
    return this.enqueue({
      type: MessageType.TimeTick,
      vchannel: '',
      payload: undefined,
      properties: NO_PROPERTIES,
      txn: undefined,
      timeTick: this.clock.next(),
      persisted,
      resolve: unsettled,
      reject: unsettled,
    });
  }

  private appendRecord(m: AppendInit, txn: TxnState | undefined): Promise<WalMessage> {
    if (this.state === 'closing' || this.state === 'closed')
      return Promise.reject(new ClosedError('WAL'));
    if (typeof m !== 'object' || m === null)
      return Promise.reject(new InvalidMessageError('message', m, 'must be an object'));
    const { type, vchannel = txn?.vchannel ?? '', payload, properties } = m;
    if (typeof type !== 'string' || type === '') {
      return Promise.reject(new InvalidMessageError('type', type, 'must be a non-empty string'));
    }
    if (isSystemMessageType(type)) {
      return Promise.reject(
        new InvalidMessageError('type', type, 'is a system type the writer writes itself'),
      );
    }
    if (typeof vchannel !== 'string')
      return Promise.reject(new InvalidMessageError('vchannel', vchannel, 'must be a string'));
    let frozenProperties = NO_PROPERTIES;
    if (properties !== undefined) {
      if (typeof properties !== 'object' || properties === null) {
        return Promise.reject(
          new InvalidMessageError('properties', properties, 'must be an object of strings'),
        );
      }
      for (const [key, value] of Object.entries(properties)) {
        if (typeof value !== 'string')
          return Promise.reject(
            new InvalidMessageError(`properties.${key}`, value, 'must be a string'),
          );
      }
      frozenProperties = Object.freeze({ ...properties });
    }
    this.start();
    const timeTick = this.clock.next();
    if (txn !== undefined) {
      if (this.expiresBy(txn, timeTick))
        return Promise.reject(new TxnExpiredError(txn.context.txnId));
      txn.lastActivityMs = Number(timeTick >> LOGICAL_BITS);
      txn.deadlineMs = txn.lastActivityMs + txn.context.keepaliveMs;
    }
    return this.enqueue({
      type,
      vchannel,
      payload,
      properties: frozenProperties,
      txn,
      timeTick,
      persisted: true,
      resolve: unsettled,
      reject: unsettled,
    });
  }

  /** Queues `record` for the next batch; its promise settles when the batch is written. */
  private enqueue(record: PendingRecord): Promise<WalMessage> {
    const written = new Promise<WalMessage>((resolve, reject) => {
      record.resolve = resolve;
      record.reject = reject;
      this.pending.push(record);
      this.scheduleFlush();
    });
    if (record.type !== MessageType.TimeTick) {
      this.dataSinceTick = true;
      this.tickIfDue();
    }
    return written;
  }

  /**
   * Queues the periodic time tick from the append path once an interval has passed since the
   * last one: a loop of awaited appends runs in microtasks and never lets the timer fire, so the
   * ticks must not depend on it (DESIGN "The writer side"). The tick follows the record just
   * queued, in the same batch.
   */
  private tickIfDue(): void {
    if (this.state !== 'running') return;
    if (this.scheduler.now() - this.lastPeriodicTickAt < this.intervalMs) return;
    this.onTimer();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Everything appended in this turn goes into one batch: "concurrent" appends.
    queueMicrotask(() => {
      this.flushScheduled = false;
      const batch = this.pending;
      if (batch.length === 0) return;
      this.pending = [];
      this.writing = this.writing.then(() => this.writeBatch(batch));
    });
  }

  /** Writes a batch segment by segment: the data before each time tick, then the tick. */
  private async writeBatch(batch: PendingRecord[]): Promise<void> {
    let data: PendingRecord[] = [];
    for (const record of batch) {
      if (record.type !== MessageType.TimeTick) {
        data.push(record);
        continue;
      }
      await this.writeSegment(data, record);
      data = [];
    }
    if (data.length > 0) await this.writeSegment(data, undefined);
  }

  private async writeSegment(
    data: PendingRecord[],
    tick: PendingRecord | undefined,
  ): Promise<void> {
    // Shuffle first: `all` pairs each record with the message built for it, in the same order.
    if (this.options.reorderConcurrentWrites === true) shuffle(data, this.random);
    const all = tick === undefined ? data : [...data, tick];
    try {
      this.expireTxns();
      const firstSeq = this.storage.nextSequence();
      let seq = firstSeq;
      let firstId: MessageId | undefined;
      const messages: WalMessage[] = [];
      const written: WalMessage[] = [];
      // A last-confirmed id reuses the id object it points at (the batch's first message or an
      // open transaction's begin): the log keeps every message, so fewer objects is less GC.
      for (const record of data) {
        const id = messageId(seq++);
        firstId ??= id;
        const message = this.toMessage(record, id, this.oldestOpenBeginBefore(firstSeq) ?? firstId);
        messages.push(message);
        written.push(message);
      }
      let tickMessage: WalMessage | undefined;
      if (tick !== undefined) {
        if (tick.persisted) {
          const ownSeq = seq++;
          const id = messageId(ownSeq);
          tickMessage = this.toMessage(tick, id, this.oldestOpenBeginBefore(ownSeq) ?? id);
          written.push(tickMessage);
        } else {
          const lastWritten =
            written[written.length - 1]?.id ?? this.lastWrittenId ?? messageId(firstSeq);
          const lastSeq = sequenceOf(lastWritten) ?? firstSeq;
          const lc = this.oldestOpenBeginBefore(lastSeq) ?? lastWritten;
          tickMessage = this.toMessage(tick, lc, lc);
        }
        messages.push(tickMessage);
      }
      if (written.length > 0) {
        await this.storage.write(written);
        this.lastWrittenId = (written[written.length - 1] as WalMessage).id;
      }
      this.settleTxns(data);
      for (let i = 0; i < all.length; i++)
        (all[i] as PendingRecord).resolve(messages[i] as WalMessage);
      this.feedBuffer(messages, tickMessage);
    } catch (err) {
      // Nothing of the segment was written: undo what preparing it did to its transactions.
      for (const record of data) {
        const txn = record.txn;
        if (txn === undefined) continue;
        if (record.type === MessageType.BeginTxn) {
          // a begin never written opens nothing and must not hold back last-confirmed ids
          txn.phase = 'done';
          this.openTxns.delete(txn.context.txnId);
        } else if (txn.phase === 'finishing') {
          txn.phase = 'open'; // the commit or rollback may be tried again
        }
        // the keepalive still counts, so a transaction left open expires as usual
        if (txn.phase === 'open' && Number.isFinite(txn.deadlineMs)) {
          this.txnDeadlines.push(BigInt(txn.deadlineMs), txn);
        }
      }
      for (const record of all) record.reject(err);
      this.logger.error({ err }, 'write failed');
    }
  }

  private toMessage(record: PendingRecord, id: MessageId, lastConfirmedId: MessageId): WalMessage {
    const txn = record.txn;
    if (txn !== undefined && record.type === MessageType.BeginTxn) {
      txn.beginSeq = sequenceOf(id);
      txn.beginId = id;
      txn.phase = 'open';
      this.openTxns.set(txn.context.txnId, txn);
    }
    return freezeMessage({
      id,
      type: record.type,
      timeTick: record.timeTick,
      vchannel: record.vchannel,
      lastConfirmedId,
      txn: txn?.context,
      persisted: record.persisted,
      properties: record.properties,
      payload: record.payload,
      size: estimateSize(record.payload, record.properties),
    });
  }

  /** Transactions that committed or rolled back stop holding back ids once written. */
  private settleTxns(data: readonly PendingRecord[]): void {
    for (const record of data) {
      const txn = record.txn;
      if (txn === undefined) continue;
      if (record.type === MessageType.CommitTxn || record.type === MessageType.RollbackTxn) {
        txn.phase = 'done';
        this.openTxns.delete(txn.context.txnId);
      } else if (Number.isFinite(txn.deadlineMs)) {
        this.txnDeadlines.push(BigInt(txn.deadlineMs), txn);
      }
    }
  }

  /** The begin id of the oldest open transaction, if it comes before `seq`. */
  private oldestOpenBeginBefore(seq: bigint): MessageId | undefined {
    for (const txn of this.openTxns.values()) {
      return txn.beginSeq !== undefined && txn.beginSeq < seq ? txn.beginId : undefined;
    }
    return undefined;
  }

  private expireTxns(): void {
    const now = this.scheduler.now();
    for (
      let key = this.txnDeadlines.peekKey();
      key !== undefined && key <= BigInt(Math.floor(now));
      key = this.txnDeadlines.peekKey()
    ) {
      const txn = this.txnDeadlines.pop() as TxnState;
      if (txn.phase !== 'open' || BigInt(txn.deadlineMs) !== key || now < txn.deadlineMs) continue;
      txn.phase = 'expired';
      this.openTxns.delete(txn.context.txnId);
      this.logger.debug({ txnId: String(txn.context.txnId) }, 'transaction expired by the writer');
    }
  }

  /** Feeds the write-ahead buffer: each persisted round in tick order, then its time tick. */
  private feedBuffer(messages: readonly WalMessage[], tick: WalMessage | undefined): void {
    for (const m of messages) if (m !== tick) this.round.push(m);
    if (tick === undefined) return;
    if (this.buffer === undefined) {
      if (!tick.persisted) return;
      this.buffer = new MemoryWriteAheadBuffer(tick, {
        ...this.options.writeAheadBuffer,
        scheduler: this.scheduler,
      });
      this.round = [];
      return;
    }
    const round = this.round;
    this.round = [];
    if (!inTickOrder(round)) round.sort(byTimeTick); // out of order only after concurrent writes
    this.buffer.append(round, tick);
  }

  /**
   * Has the keepalive of `txn` passed by `timeTick`? Judged on the tick the next message would
   * carry, so a commit the writer accepts always has a tick below the reader's deadline.
   */
  private expiresBy(txn: TxnState, timeTick: TimeTick): boolean {
    if (txn.phase === 'expired') return true;
    if (Number(timeTick >> LOGICAL_BITS) < txn.deadlineMs) return false;
    txn.phase = 'expired';
    this.openTxns.delete(txn.context.txnId);
    return true;
  }

  private txnHandle(txn: TxnState, begin: WalMessage): WalTxn {
    const usable = (): Error | undefined => {
      if (txn.phase === 'expired') return new TxnExpiredError(txn.context.txnId);
      if (txn.phase !== 'open') return new ClosedError(`transaction ${txn.context.txnId}`);
      if (this.state === 'closing' || this.state === 'closed') return new ClosedError('WAL');
      return undefined;
    };
    const finish = (type: MessageType): Promise<WalMessage> => {
      const error = usable();
      if (error !== undefined) return Promise.reject(error);
      const timeTick = this.clock.next();
      if (this.expiresBy(txn, timeTick))
        return Promise.reject(new TxnExpiredError(txn.context.txnId));
      txn.phase = 'finishing';
      return this.enqueue({
        type,
        vchannel: txn.vchannel,
        payload: undefined,
        properties: NO_PROPERTIES,
        txn,
        timeTick,
        persisted: true,
        resolve: unsettled,
        reject: unsettled,
      });
    };
    return {
      txnId: txn.context.txnId,
      begin,
      append: <P>(m: AppendInit<P>): Promise<WalMessage<P>> => {
        const error = usable();
        if (error !== undefined) return Promise.reject(error);
        return this.appendRecord(m, txn) as Promise<WalMessage<P>>;
      },
      commit: () => finish(MessageType.CommitTxn),
      rollback: () => finish(MessageType.RollbackTxn),
    };
  }
}

function byTimeTick(a: WalMessage, b: WalMessage): number {
  return a.timeTick < b.timeTick ? -1 : a.timeTick > b.timeTick ? 1 : 0;
}

function inTickOrder(messages: readonly WalMessage[]): boolean {
  for (let i = 1; i < messages.length; i++) {
    if ((messages[i] as WalMessage).timeTick < (messages[i - 1] as WalMessage).timeTick)
      return false;
  }
  return true;
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
}
