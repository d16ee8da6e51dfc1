import { ClosedError, ConfigError } from '../errors.js';
import { Waiters } from '../internal/waiters.js';
import { createMessage, type MessageInit } from '../message/createMessage.js';
import type { WalMessage } from '../message/message.js';
import { sequenceOf, type MessageId } from '../message/messageId.js';
import { DeliverPolicy, checkDeliverPolicy } from '../options/deliverPolicy.js';
import type { LogEnd, ReadableWal, Wal, WalOptions, WalReader } from './wal.js';
import { WalWriter, type LogStorage } from './writer.js';
import type { WriteAheadBuffer } from './writeAheadBuffer.js';

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
    read: (policy: DeliverPolicy) => log.read(policy),
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
    read: (policy) => log.read(policy),
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

/** The log itself: an array in id order, readers woken on every write. */
class MemoryLog implements LogStorage {
  private readonly messages: WalMessage[] = [];
  private readonly waiters = new Waiters();
  private highestTick = 0n;
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
    for (const m of messages) {
      this.messages.push(m);
      if (m.timeTick > this.highestTick) this.highestTick = m.timeTick;
    }
    this.waiters.wakeAll();
  }

  /** The newest record's id and the highest tick written. */
  end(): LogEnd | undefined {
    const last = this.messages[this.messages.length - 1];
    return last === undefined ? undefined : { id: last.id, timeTick: this.highestTick };
  }

  read(policy: DeliverPolicy): WalReader {
    if (this.closed) throw new ClosedError('WAL');
    checkDeliverPolicy(policy, 'policy');
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
    return new MemoryReader(this, start, resolvedPolicy);
  }

  /** @internal messages from `index`, at most `max`; empty when there are none yet. */
  slice(index: number, max: number): WalMessage[] {
    return this.messages.slice(index, index + max);
  }

  /** @internal calls `waiter` once on the next write or close. */
  onWrite(waiter: () => void): void {
    this.waiters.add(waiter);
  }

  /** @internal forgets a waiter (a closed reader). */
  forget(waiter: () => void): void {
    this.waiters.delete(waiter);
  }

  close(): void {
    this.closed = true;
    this.waiters.wakeAll();
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

class MemoryReader implements WalReader {
  private closed = false;
  private waiter: (() => void) | undefined;

  constructor(
    private readonly log: MemoryLog,
    private index: number,
    readonly resolvedPolicy: DeliverPolicy,
  ) {}

  async next(maxMessages = DEFAULT_READ_BATCH): Promise<readonly WalMessage[]> {
    if (!Number.isSafeInteger(maxMessages) || maxMessages <= 0) {
      throw new ConfigError('maxMessages', maxMessages, 'must be a positive integer');
    }
    for (;;) {
      if (this.closed) throw new ClosedError('WAL reader');
      const batch = this.log.slice(this.index, maxMessages);
      if (batch.length > 0) {
        this.index += batch.length;
        return batch;
      }
      if (this.log.closed) throw new ClosedError('WAL');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        this.log.onWrite(resolve);
      });
      this.waiter = undefined;
    }
  }

  close(): void {
    this.closed = true;
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.log.forget(waiter); // a closed reader leaves nothing behind in the log
    waiter();
  }
}
