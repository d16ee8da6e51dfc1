import { ClosedError, ConfigError } from '../errors.js';
import { lowerBound } from '../internal/lowerBound.js';
import { Waiters } from '../internal/waiters.js';
import { createMessage, type MessageInit } from '../message/createMessage.js';
import type { WalMessage } from '../message/message.js';
import { sequenceOf, type MessageId } from '../message/messageId.js';
import { DeliverPolicy, checkDeliverPolicy } from '../options/deliverPolicy.js';
import { MessageType } from '../message/message.js';
import {
  hintedVChannel,
  type LogEnd,
  type ReadableWal,
  type ReadHint,
  type Wal,
  type WalOptions,
  type WalReader,
} from './wal.js';
import { WalWriter, type LogStorage } from './writer.js';
import type { WriteAheadBuffer } from './writeAheadBuffer.js';

/** A module constant: compared per message, so no property load (bench/README.md). */
const TIME_TICK = MessageType.TimeTick;

/** Options of {@link createMemoryWal}. */
export interface MemoryWalOptions extends WalOptions {
  /**
   * Concurrent appends (issued in the same turn of the event loop) reach the log in a random
   * order while their ticks stay in call order, as in a real WAL: reaches the reorder path.
   */
  reorderConcurrentWrites?: boolean;
  /** The randomness behind `reorderConcurrentWrites` (seed it in tests); default `Math.random`. */
  random?: () => number;
}

/**
 * What {@link MemoryWal.appendRaw} takes: a message without an id (it gets the next sequence), or
 * with an explicit numeric id not below the last one — an equal id stores a duplicate record.
 */
export type RawMessageInit = Omit<MessageInit, 'id'> & {
  /** The id; default the log's next sequence. */
  id?: MessageId | bigint | number;
};

/** A memory WAL: a {@link Wal} plus `appendRaw` for logs no writer appends to. */
export interface MemoryWal extends Wal {
  /**
   * Stores a message exactly as given (id = the next sequence), never reordering or repairing
   * it. For logs no writer appends to: such a log has no write-ahead buffer content. Mixing it
   * with the writer throws {@link ConfigError}.
   */
  appendRaw(init: RawMessageInit): WalMessage;
  /** A read-only view of the same log: scanners on it never tail. */
  readOnly(): ReadableWal;
  /** Messages in the log. */
  readonly length: number;
}

/** Default number of messages a reader returns per batch. */
export const DEFAULT_READ_BATCH = 256;

/**
 * An in-process WAL for tests and examples: the log is an array, ids are its sequence (from 1).
 * Reads honour {@link ReadHint}: a reader of one vchannel walks only that vchannel's positions
 * and those of the broadcasts and time ticks, and is woken only by writes that hold one of them.
 *
 * @example
 * ```ts
 * const wal = createMemoryWal({ channel: 'p0' });
 * await wal.append({ type: 'Insert', vchannel: 'v1', payload: { pk: 1 } });
 * scanWal(wal, { vchannel: 'v1' }).subscribe(console.log);
 * await wal.close();
 * ```
 */
export function createMemoryWal(options: MemoryWalOptions = {}): MemoryWal {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', options, 'must be an object');
  }
  const channel = options.channel === undefined ? 'rxwal' : options.channel;
  if (typeof channel !== 'string' || channel === '') {
    throw new ConfigError('channel', channel, 'must be a non-empty string');
  }
  const log = new MemoryLog();
  const writer = new WalWriter(log, options);
  let mode: 'empty' | 'writer' | 'raw' = 'empty';
  const useWriter = (): void => {
    if (log.closed) return;
    if (mode === 'raw')
      throw new ConfigError('writer', channel, 'cannot append to a log written with appendRaw');
    mode = 'writer';
  };
  const guard = <T>(call: () => Promise<T>): Promise<T> => {
    try {
      useWriter();
    } catch (err) {
      return Promise.reject(err);
    }
    return call();
  };

  const readOnlyView: ReadableWal = Object.freeze({
    channel,
    accessMode: 'ro' as const,
    read: (policy: DeliverPolicy, hint?: ReadHint) => log.read(policy, hint),
    logEnd: () => log.end(),
  });

  return {
    channel,
    accessMode: 'rw',
    get writeAheadBuffer(): WriteAheadBuffer | undefined {
      return writer.writeAheadBuffer;
    },
    get length(): number {
      return log.length;
    },
    read: (policy, hint) => log.read(policy, hint),
    logEnd: () => log.end(),
    requestPersistedTimeTick: () => writer.requestPersistedTimeTick(),
    append: (m) => guard(() => writer.append(m)),
    beginTxn: (o) => guard(() => writer.beginTxn(o)),
    syncTimeTick: (o) => guard(() => writer.syncTimeTick(o)),
    appendRaw(init) {
      if (log.closed) throw new ClosedError('WAL');
      if (mode === 'writer')
        throw new ConfigError(
          'appendRaw',
          channel,
          'cannot be used on a log its writer appends to',
        );
      if (typeof init !== 'object' || init === null)
        throw new ConfigError('appendRaw', init, 'needs a message');
      const message = createMessage({ ...init, id: init.id ?? log.nextSequence() });
      const seq = sequenceOf(message.id);
      if (seq === undefined || seq < log.lastSequence) {
        throw new ConfigError(
          'appendRaw id',
          message.id.key,
          `must be a numeric id not below the last one (${log.lastSequence}): readers position by id order`,
        );
      }
      // The durable log holds only persisted messages, and a last-confirmed id never points past
      // its own message: scanners resume from it.
      if (!message.persisted) {
        throw new ConfigError(
          'appendRaw persisted',
          false,
          'a not-persisted time tick never reaches the log',
        );
      }
      if (message.lastConfirmedId.compare(message.id) > 0) {
        throw new ConfigError(
          'appendRaw lastConfirmedId',
          message.lastConfirmedId.key,
          `must not be after the message's own id ${message.id.key}`,
        );
      }
      mode = 'raw';
      log.write([message]);
      return message;
    },
    readOnly: () => readOnlyView,
    async close() {
      await writer.close();
      log.close();
    },
  };
}

/** The log itself: an array in id order, with per-vchannel positions for hinted readers. */
class MemoryLog implements LogStorage {
  private readonly messages: WalMessage[] = [];
  /** Positions of the data messages of each non-empty vchannel. */
  private readonly positions = new Map<string, number[]>();
  /** Positions of the messages every reader returns: time ticks and `''` broadcasts. */
  private readonly common: number[] = [];
  /** Readers of everything, woken on every write. */
  private readonly waiters = new Waiters();
  private highestTick = 0n;
  /** Readers of one vchannel, woken by writes of that vchannel or of a common message. */
  private readonly vchannelWaiters = new Map<string, Waiters>();
  closed = false;

  get length(): number {
    return this.messages.length;
  }

  /** The sequence of the newest message (0 when empty). */
  get lastSequence(): bigint {
    const last = this.messages[this.messages.length - 1];
    return last === undefined ? 0n : (sequenceOf(last.id) as bigint);
  }

  nextSequence(): bigint {
    return this.lastSequence + 1n;
  }

  write(messages: readonly WalMessage[]): void {
    if (this.closed) throw new ClosedError('WAL');
    let wokeAll = false;
    for (const m of messages) {
      const position = this.messages.push(m) - 1;
      if (m.timeTick > this.highestTick) this.highestTick = m.timeTick;
      if (isCommon(m)) {
        this.common.push(position);
        if (!wokeAll) {
          wokeAll = true;
          for (const waiters of this.vchannelWaiters.values()) waiters.wakeAll();
        }
      } else {
        this.positionsOf(m.vchannel).push(position);
        if (!wokeAll) this.vchannelWaiters.get(m.vchannel)?.wakeAll();
      }
    }
    this.waiters.wakeAll();
  }

  /** The newest record's id and the highest tick written. */
  end(): LogEnd | undefined {
    const last = this.messages[this.messages.length - 1];
    return last === undefined ? undefined : { id: last.id, timeTick: this.highestTick };
  }

  read(policy: DeliverPolicy, hint?: ReadHint): WalReader {
    if (this.closed) throw new ClosedError('WAL');
    checkDeliverPolicy(policy, 'policy');
    const vchannel = hintedVChannel(hint);
    let start: number;
    let resolvedPolicy = policy;
    switch (policy.kind) {
      case 'all':
        start = 0;
        break;
      case 'latest': {
        start = this.messages.length;
        const last = this.messages[start - 1];
        resolvedPolicy =
          last === undefined ? DeliverPolicy.all() : DeliverPolicy.startAfter(last.id);
        break;
      }
      case 'startFrom':
        start = this.indexOf(policy.id, false);
        break;
      case 'startAfter':
        start = this.indexOf(policy.id, true);
        break;
    }
    if (vchannel === '') return new MemoryReader(this, start, resolvedPolicy, this.waiters);
    let waiters = this.vchannelWaiters.get(vchannel);
    if (waiters === undefined) {
      waiters = new Waiters();
      this.vchannelWaiters.set(vchannel, waiters);
    }
    return new VChannelReader(
      this,
      new MergedPositions(vchannel, this.positionsOf(vchannel), this.common, start),
      resolvedPolicy,
      waiters,
    );
  }

  /** @internal messages from `index`, at most `max`; empty when there are none yet. */
  slice(index: number, max: number): WalMessage[] {
    return this.messages.slice(index, index + max);
  }

  /** @internal the stored messages, in log order (read-only to readers). */
  get stored(): readonly WalMessage[] {
    return this.messages;
  }

  close(): void {
    this.closed = true;
    this.waiters.wakeAll();
    for (const waiters of this.vchannelWaiters.values()) waiters.wakeAll();
  }

  private positionsOf(vchannel: string): number[] {
    let positions = this.positions.get(vchannel);
    if (positions === undefined) {
      positions = [];
      this.positions.set(vchannel, positions);
    }
    return positions;
  }

  /** Index of the first message whose id is ≥ `id` (> `id` when `after`): ids never decrease. */
  private indexOf(id: MessageId, after: boolean): number {
    const target = sequenceOf(id);
    if (target === undefined)
      throw new ConfigError('policy.id', id.key, 'is not an id of this WAL');
    let lo = 0;
    let hi = this.messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const seq = sequenceOf((this.messages[mid] as WalMessage).id) as bigint;
      if (seq < target || (after && seq === target)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Whether every hinted reader returns `m`: a time tick (even one that carries a vchannel) or a
 * `''` broadcast. The log keeps these positions in one list and the rest per vchannel.
 */
function isCommon(m: WalMessage): boolean {
  return m.type === TIME_TICK || m.vchannel === '';
}

/**
 * A hinted reader's place in the log: one vchannel's positions and the common ones (time ticks,
 * `''` broadcasts), two growing ascending lists read together in log order.
 *
 * Each batch is fetched one of two ways, by how densely its messages lie in the log. Jumping
 * straight to each position, touching no message, is what makes a sparse vchannel cheap: a
 * scanner of one vchannel among a thousand reads a thousandth of the log. A dense batch is
 * walked: every message of its stretch is looked at in log order and the reader's are kept. The
 * stages after the reader touch each message anyway; after a walk they find them already read in
 * order (the log's messages are allocated in log order, so mostly in memory order too), while a
 * jumped batch sends them to scattered places. How many of a batch come from each list, and so
 * where it ends and where each list goes on, is found by a binary search over the two lists
 * ({@link takenFromFirst}); neither way merges them into a list first, and each fills an array of
 * the batch's exact size. Measured through scanWal (bench/README.md): where the reader's messages
 * are one in four of the log, walking catches up in 14 % less time; see
 * {@link WALK_SPAN_PER_MESSAGE} for the sparser logs.
 *
 * @internal exported for its spec only
 */
export class MergedPositions {
  /** The first entry of `own` not returned yet. */
  private ownIndex: number;
  /** The first entry of `common` not returned yet. */
  private commonIndex: number;

  constructor(
    private readonly vchannel: string,
    private readonly own: readonly number[],
    private readonly common: readonly number[],
    start: number,
    private readonly walkSpanPerMessage = WALK_SPAN_PER_MESSAGE,
  ) {
    this.ownIndex = lowerBound(own, start);
    this.commonIndex = lowerBound(common, start);
  }

  /**
   * The messages at the next positions in log order, at most `max` (none when neither list has
   * one yet), advancing past them.
   */
  take(messages: readonly WalMessage[], max: number): WalMessage[] {
    const own = this.own;
    const common = this.common;
    const ownIndex = this.ownIndex;
    const commonIndex = this.commonIndex;
    const count = Math.min(max, own.length - ownIndex + common.length - commonIndex);
    if (count === 0) return [];
    const fromOwn = takenFromFirst(own, ownIndex, common, commonIndex, count);
    const fromCommon = count - fromOwn;
    const first = Math.min(own[ownIndex] ?? Infinity, common[commonIndex] ?? Infinity);
    const last = Math.max(
      fromOwn === 0 ? -1 : (own[ownIndex + fromOwn - 1] as number),
      fromCommon === 0 ? -1 : (common[commonIndex + fromCommon - 1] as number),
    );
    const batch =
      last - first < count * this.walkSpanPerMessage
        ? this.walk(messages, first, count)
        : this.jump(messages, count);
    this.ownIndex = ownIndex + fromOwn;
    this.commonIndex = commonIndex + fromCommon;
    return batch;
  }

  /**
   * Looks at every message from `first` on in log order and keeps the reader's, until `count`
   * are kept (the lists hold that many, so the walk finds them).
   */
  private walk(messages: readonly WalMessage[], first: number, count: number): WalMessage[] {
    const vchannel = this.vchannel;
    const batch = new Array<WalMessage>(count);
    let kept = 0;
    let position = first;
    while (kept < count) {
      const m = messages[position++] as WalMessage;
      // exactly own ∪ common: the rule MemoryLog.write sorted the positions by
      if (m.vchannel === vchannel || isCommon(m)) batch[kept++] = m;
    }
    return batch;
  }

  /** Goes straight to the next `count` positions of both lists in log order, touching no other message. */
  private jump(messages: readonly WalMessage[], count: number): WalMessage[] {
    const own = this.own;
    const common = this.common;
    const ownEnd = own.length;
    const commonEnd = common.length;
    let ownIndex = this.ownIndex;
    let commonIndex = this.commonIndex;
    const batch = new Array<WalMessage>(count);
    for (let i = 0; i < count; i++) {
      let position: number;
      if (ownIndex === ownEnd) position = common[commonIndex++] as number;
      else if (commonIndex === commonEnd) position = own[ownIndex++] as number;
      else {
        const ownNext = own[ownIndex] as number;
        const commonNext = common[commonIndex] as number;
        if (commonNext < ownNext) {
          position = commonNext;
          commonIndex++;
        } else {
          position = ownNext;
          ownIndex++;
        }
      }
      batch[i] = messages[position] as WalMessage;
    }
    return batch;
  }
}

/**
 * How many of the `count` smallest entries of `a` from `ai` on and `b` from `bi` on come from `a`:
 * two ascending lists with no entry in common and at least `count` entries between them. So a
 * batch of `count` knows where it ends and where each list goes on after it, in O(log count),
 * without merging. Binary search for the most `i` whose last one, `a[ai + i - 1]`, lies before
 * the entry of `b` that would be the batch's next.
 *
 * @internal exported for its spec only
 */
export function takenFromFirst(
  a: readonly number[],
  ai: number,
  b: readonly number[],
  bi: number,
  count: number,
): number {
  let lo = Math.max(0, count - (b.length - bi));
  let hi = Math.min(count, a.length - ai);
  while (lo < hi) {
    const i = (lo + hi + 1) >>> 1;
    const bNext = b[bi + count - i]; // undefined: every entry of b is in the batch
    if (bNext !== undefined && (a[ai + i - 1] as number) > bNext) hi = i - 1;
    else lo = i;
  }
  return lo;
}

/**
 * A batch is walked when it spans fewer than this many log positions per message it returns
 * (at least one message in sixteen of its stretch is the reader's); else its positions are
 * jumped to. So a walk never reads more than sixteen messages per message it returns. Measured
 * through scanWal (bench/README.md): walking takes 7–11 % less time at one message in thirteen,
 * about the same (3 % more) at one in twenty-two, and 18–25 % more at one in thirty-two.
 *
 * @internal exported for its spec only
 */
export const WALK_SPAN_PER_MESSAGE = 16;

/** Reads a batch, or waits on `waiters` for the next write that may hold one. */
abstract class WaitingReader implements WalReader {
  private closed = false;
  private waiter: (() => void) | undefined;

  constructor(
    protected readonly log: MemoryLog,
    readonly resolvedPolicy: DeliverPolicy,
    private readonly waiters: Waiters,
  ) {}

  async next(maxMessages = DEFAULT_READ_BATCH): Promise<readonly WalMessage[]> {
    if (!Number.isSafeInteger(maxMessages) || maxMessages <= 0) {
      throw new ConfigError('maxMessages', maxMessages, 'must be a positive integer');
    }
    for (;;) {
      if (this.closed) throw new ClosedError('WAL reader');
      const batch = this.take(maxMessages);
      if (batch.length > 0) return batch;
      if (this.log.closed) throw new ClosedError('WAL');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        this.waiters.add(resolve);
      });
      this.waiter = undefined;
    }
  }

  close(): void {
    this.closed = true;
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiters.delete(waiter); // a closed reader leaves nothing behind in the log
    waiter();
  }

  /** Up to `max` messages that are there now, advancing past them. */
  protected abstract take(max: number): WalMessage[];
}

class MemoryReader extends WaitingReader {
  constructor(
    log: MemoryLog,
    private index: number,
    resolvedPolicy: DeliverPolicy,
    waiters: Waiters,
  ) {
    super(log, resolvedPolicy, waiters);
  }

  protected take(max: number): WalMessage[] {
    const batch = this.log.slice(this.index, max);
    this.index += batch.length;
    return batch;
  }
}

/** A hinted reader: walks one vchannel's positions merged with the common ones. */
class VChannelReader extends WaitingReader {
  constructor(
    log: MemoryLog,
    private readonly positions: MergedPositions,
    resolvedPolicy: DeliverPolicy,
    waiters: Waiters,
  ) {
    super(log, resolvedPolicy, waiters);
  }

  protected take(max: number): WalMessage[] {
    return this.positions.take(this.log.stored, max);
  }
}
