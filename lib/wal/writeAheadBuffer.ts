import { asyncScheduler, type SchedulerLike } from 'rxjs';

import { ClosedError, EvictedError, WalError } from '../errors.js';
import { MessageType, type WalMessage } from '../message/message.js';
import type { TimeTick } from '../message/tso.js';
import { parseDuration, type Duration } from '../internal/duration.js';
import { lowerBound } from '../internal/lowerBound.js';
import { Waiters } from '../internal/waiters.js';
import { parseByteSize } from './sizes.js';
import { hintedVChannel, type ReadHint } from './wal.js';

/** A module constant: compared per message, so no property load (bench/README.md). */
const TIME_TICK = MessageType.TimeTick;

/** Reads the write-ahead buffer from a time tick on; `next()` waits for newer entries. */
export interface WabReader {
  /** The next entry; rejects {@link EvictedError} when the reader fell behind, {@link ClosedError} when closed. */
  next(): Promise<WalMessage>;
  /**
   * Up to `max` entries that are already at hand, without waiting (possibly none): lets a
   * scanner take a whole round at once instead of one promise per entry. Optional.
   */
  readBuffered?(max: number): readonly WalMessage[];
  /** Stops reading; a pending `next()` rejects with `ClosedError`. */
  close(): void;
}

/** The in-memory tail of a log, shared by every tailing scanner of the writer's process. */
export interface WriteAheadBuffer {
  /**
   * A reader of every entry with a tick strictly greater than `tt`. Waits while nothing newer
   * than `tt` was appended yet; rejects {@link EvictedError} when `tt` is older than the buffer.
   * `vchannel` is a {@link ReadHint}: the reader may return only that vchannel's entries, the
   * `''` broadcasts and the time ticks.
   */
  readFromExclusiveTimeTick(
    tt: TimeTick,
    options?: ReadHint & { signal?: AbortSignal },
  ): Promise<WabReader>;
}

/** Options of the write-ahead buffer (`WalOptions.writeAheadBuffer`). */
export interface WriteAheadBufferOptions {
  /** Soft capacity in bytes (Σ message size), or a string such as `'64mb'` or `'64MiB'`. Default 64 MiB. */
  capacity?: number | string;
  /** An entry may be evicted once it is older than this. Default `'30s'`. */
  keepalive?: Duration;
}

/** Defaults of reference § 3.7.1. */
export const DEFAULT_WAB_CAPACITY = 64 * 1024 * 1024;
export const DEFAULT_WAB_KEEPALIVE_MS = 30_000;

/** Checks the buffer options and fills in the defaults; throws ConfigError naming the option. */
export function resolveWabOptions(options: WriteAheadBufferOptions = {}): {
  capacity: number;
  keepaliveMs: number;
} {
  return {
    capacity:
      options.capacity === undefined
        ? DEFAULT_WAB_CAPACITY
        : parseByteSize(options.capacity, 'writeAheadBuffer.capacity'),
    keepaliveMs:
      options.keepalive === undefined
        ? DEFAULT_WAB_KEEPALIVE_MS
        : parseDuration(options.keepalive, 'writeAheadBuffer.keepalive'),
  };
}

interface Entry {
  readonly message: WalMessage;
  readonly offset: number;
  readonly deadline: number;
}

/** What a snapshot request found: entries to read, nothing newer yet, or evicted. */
type Snapshot =
  | { readonly kind: 'entries'; readonly entries: readonly Entry[] }
  | { readonly kind: 'wait' }
  | { readonly kind: 'evicted' };

const WAIT: Snapshot = { kind: 'wait' };
const EVICTED: Snapshot = { kind: 'evicted' };

/**
 * The write-ahead buffer of reference § 3.7: the writer appends each time-tick round (the
 * persisted messages of the round in tick order, then the round's time tick); readers join
 * strictly after a time tick and read entries in order; eviction after every append removes the
 * oldest entries past their keepalive or beyond the capacity, but never the newest.
 */
export class MemoryWriteAheadBuffer implements WriteAheadBuffer {
  private entries: Entry[] = [];
  /** Index of the oldest live entry in `entries` (evicted ones are dropped lazily). */
  private head = 0;
  private latestOffset = -1;
  private lastTimeTick: TimeTick;
  private lastTimeTickMessage: WalMessage;
  private size = 0;
  private closed = false;
  private readonly waiters = new Waiters();
  private readonly index = new VChannelIndex();
  private readonly capacity: number;
  private readonly keepaliveMs: number;
  private readonly scheduler: SchedulerLike;

  constructor(
    initialTimeTick: WalMessage,
    options: WriteAheadBufferOptions & { scheduler?: SchedulerLike } = {},
  ) {
    ({ capacity: this.capacity, keepaliveMs: this.keepaliveMs } = resolveWabOptions(options));
    this.scheduler = options.scheduler ?? asyncScheduler;
    if (initialTimeTick.type !== TIME_TICK) {
      throw new WalError(
        'WAB_ORDER',
        `the write-ahead buffer starts with a time tick, not ${initialTimeTick.type}`,
      );
    }
    this.lastTimeTick = initialTimeTick.timeTick;
    this.lastTimeTickMessage = initialTimeTick;
    this.push(initialTimeTick);
  }

  /** Entries held now. */
  get length(): number {
    return this.entries.length - this.head;
  }

  /** Σ size of the entries held. */
  get bytes(): number {
    return this.size;
  }

  /** Offset of the newest entry. */
  get newestOffset(): number {
    return this.latestOffset;
  }

  /**
   * Appends one time-tick round: `messages` (persisted, in tick order, all newer than the last
   * round's time tick and not newer than `timeTick`), then `timeTick` itself when the round wrote
   * data or the tick is persisted. A not-persisted tick alone only becomes the latest tick
   * readers may see. Then evicts, and wakes every waiting reader. A no-op after close.
   */
  append(messages: readonly WalMessage[], timeTick: WalMessage): void {
    if (this.closed) return;
    this.checkRound(messages, timeTick);
    for (const m of messages) this.push(m);
    if (messages.length > 0 || timeTick.persisted) this.push(timeTick);
    this.lastTimeTickMessage = timeTick;
    this.evict();
    this.waiters.wakeAll();
  }

  /** Evicts what keepalive and capacity allow (reference § 3.7.3); runs after every append. */
  evict(): void {
    let needRelease = Math.max(0, this.size - this.capacity);
    const now = this.scheduler.now();
    const newest = this.entries.length - 1;
    while (this.head < newest) {
      const entry = this.entries[this.head] as Entry;
      if (entry.deadline > now && needRelease <= 0) break;
      this.size -= entry.message.size;
      needRelease -= entry.message.size;
      this.head++;
    }
    // Drop the evicted prefix once it dominates the array, keeping compaction amortised O(1).
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
      this.index.dropBefore((this.entries[0] as Entry).offset);
    }
  }

  async readFromExclusiveTimeTick(
    tt: TimeTick,
    options: ReadHint & { signal?: AbortSignal } = {},
  ): Promise<WabReader> {
    const vchannel = hintedVChannel(options);
    for (;;) {
      if (this.closed) throw new ClosedError('write-ahead buffer');
      const joined = this.join(tt, vchannel);
      if (joined === 'evicted')
        throw new EvictedError(`time tick ${tt} is older than the write-ahead buffer`);
      if (joined !== 'wait') return joined;
      await this.waitForAppend(options.signal);
    }
  }

  /** Closes the buffer: appends become no-ops, readers and joiners get {@link ClosedError}. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiters.wakeAll();
  }

  private join(tt: TimeTick, vchannel: string): BufferReader | 'wait' | 'evicted' {
    if (tt >= this.lastTimeTick) {
      if (tt === this.lastTimeTick)
        return new BufferReader(this, [], this.latestOffset + 1, tt, vchannel);
      if (this.lastTimeTickMessage.timeTick > tt) {
        const latest: Entry = {
          message: this.lastTimeTickMessage,
          offset: this.latestOffset,
          deadline: 0,
        };
        return new BufferReader(this, [latest], this.latestOffset, tt, vchannel);
      }
      return 'wait';
    }
    const oldest = this.entries[this.head];
    if (oldest === undefined || tt < oldest.message.timeTick) return 'evicted';
    const from = (this.entries[this.lowerBoundAfter(tt)] as Entry).offset;
    const entries = this.entriesFrom(from, vchannel);
    return new BufferReader(this, entries, (entries[0] as Entry).offset, tt, vchannel);
  }

  /** Index of the first live entry with a tick strictly greater than `tt`. */
  private lowerBoundAfter(tt: TimeTick): number {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.entries[mid] as Entry).message.timeTick <= tt) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** @internal the next snapshot of a reader positioned at `nextOffset` (reference § 3.7.5). */
  snapshotFrom(nextOffset: number, lastReadTimeTick: TimeTick, vchannel = ''): Snapshot {
    if (this.closed) throw new ClosedError('write-ahead buffer');
    if (nextOffset > this.latestOffset) {
      if (nextOffset !== this.latestOffset + 1) {
        throw new WalError(
          'WAB_ORDER',
          `reader offset ${nextOffset} is past the newest entry ${this.latestOffset}`,
        );
      }
      if (this.lastTimeTickMessage.timeTick > lastReadTimeTick) {
        return {
          kind: 'entries',
          entries: [{ message: this.lastTimeTickMessage, offset: this.latestOffset, deadline: 0 }],
        };
      }
      return WAIT;
    }
    const oldest = this.entries[this.head];
    if (oldest === undefined || nextOffset < oldest.offset) return EVICTED;
    return { kind: 'entries', entries: this.entriesFrom(nextOffset, vchannel) };
  }

  /**
   * The live entries from `offset` (≥ the oldest) on that a reader hinted at `vchannel` returns,
   * as a copy. Never empty while `offset` ≤ the newest offset: the newest entry is a time tick.
   */
  private entriesFrom(offset: number, vchannel: string): Entry[] {
    const base = (this.entries[0] as Entry).offset;
    if (vchannel === '') return this.entries.slice(offset - base);
    const entries: Entry[] = [];
    for (const position of this.index.positionsFrom(vchannel, offset))
      entries.push(this.entries[position - base] as Entry);
    return entries;
  }

  /** @internal resolves on the next append or close; rejects with the signal's reason on abort. */
  waitForAppend(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        this.waiters.delete(wake);
        reject(signal?.reason);
      };
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiters.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private push(m: WalMessage): void {
    // A data entry must be newer than the last entry; a time tick may equal it (a round's tick
    // equals its last message's tick).
    const stale =
      m.type === TIME_TICK ? m.timeTick < this.lastTimeTick : m.timeTick <= this.lastTimeTick;
    if (stale) {
      throw new WalError(
        'WAB_ORDER',
        `write-ahead buffer entry ${m.timeTick} is not after ${this.lastTimeTick}`,
      );
    }
    this.latestOffset++;
    this.index.add(m, this.latestOffset);
    this.entries.push({
      message: m,
      offset: this.latestOffset,
      deadline: this.scheduler.now() + this.keepaliveMs,
    });
    this.size += m.size;
    this.lastTimeTick = m.timeTick;
  }

  private checkRound(messages: readonly WalMessage[], timeTick: WalMessage): void {
    const previous = this.lastTimeTickMessage.timeTick;
    if (timeTick.type !== TIME_TICK) {
      throw new WalError('WAB_ORDER', `a round ends with a time tick, not ${timeTick.type}`);
    }
    if (timeTick.timeTick <= previous) {
      throw new WalError(
        'WAB_ORDER',
        `round time tick ${timeTick.timeTick} is not after ${previous}`,
      );
    }
    const first = messages[0];
    const last = messages[messages.length - 1];
    if (first !== undefined && first.timeTick <= previous) {
      throw new WalError(
        'WAB_ORDER',
        `round message tick ${first.timeTick} is not after ${previous}`,
      );
    }
    if (last !== undefined && last.timeTick > timeTick.timeTick) {
      throw new WalError(
        'WAB_ORDER',
        `round message tick ${last.timeTick} is after its time tick ${timeTick.timeTick}`,
      );
    }
    // Check the whole round before pushing any of it, so a rejected round leaves the buffer unchanged.
    for (let i = 1; i < messages.length; i++) {
      const m = messages[i] as WalMessage;
      const before = (messages[i - 1] as WalMessage).timeTick;
      if (m.type === TIME_TICK ? m.timeTick < before : m.timeTick <= before) {
        throw new WalError('WAB_ORDER', `round message tick ${m.timeTick} is not after ${before}`);
      }
    }
  }
}

/** A reader of reference § 3.7.5: snapshots are copies, so eviction never invalidates one. */
class BufferReader implements WabReader {
  private index = 0;
  private closed = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly buffer: MemoryWriteAheadBuffer,
    private snapshot: readonly Entry[],
    private nextOffset: number,
    private lastReadTimeTick: TimeTick,
    private readonly vchannel: string,
  ) {}

  async next(): Promise<WalMessage> {
    for (;;) {
      if (this.closed) throw new ClosedError('write-ahead buffer reader');
      const entry = this.snapshot[this.index];
      if (entry !== undefined) {
        this.index++;
        this.nextOffset = entry.offset + 1;
        this.lastReadTimeTick = entry.message.timeTick;
        return entry.message;
      }
      const next = this.buffer.snapshotFrom(this.nextOffset, this.lastReadTimeTick, this.vchannel);
      if (next.kind === 'evicted')
        throw new EvictedError('the write-ahead buffer reader fell behind and was evicted');
      if (next.kind === 'entries') {
        this.snapshot = next.entries;
        this.index = 0;
        continue;
      }
      try {
        await this.buffer.waitForAppend(this.abort.signal);
      } catch {
        throw new ClosedError('write-ahead buffer reader');
      }
    }
  }

  readBuffered(max: number): readonly WalMessage[] {
    const taken: WalMessage[] = [];
    if (this.closed) return taken;
    const snapshot = this.snapshot;
    while (taken.length < max && this.index < snapshot.length) {
      const entry = snapshot[this.index++] as Entry;
      this.nextOffset = entry.offset + 1;
      this.lastReadTimeTick = entry.message.timeTick;
      taken.push(entry.message);
    }
    return taken;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
  }
}

/**
 * Offsets of the buffer's entries by vchannel: each non-empty vchannel's data entries, and the
 * common ones (time ticks and `''` broadcasts) that every hinted reader returns.
 */
class VChannelIndex {
  private readonly byVChannel = new Map<string, number[]>();
  private common: number[] = [];

  add(m: WalMessage, offset: number): void {
    if (m.type === TIME_TICK || m.vchannel === '') {
      this.common.push(offset);
      return;
    }
    let offsets = this.byVChannel.get(m.vchannel);
    if (offsets === undefined) {
      offsets = [];
      this.byVChannel.set(m.vchannel, offsets);
    }
    offsets.push(offset);
  }

  /** The offsets ≥ `from` of `vchannel`'s entries and the common ones, merged in order. */
  *positionsFrom(vchannel: string, from: number): Generator<number> {
    const own = this.byVChannel.get(vchannel) ?? NO_OFFSETS;
    const common = this.common;
    let i = lowerBound(own, from);
    let j = lowerBound(common, from);
    for (;;) {
      const a = own[i];
      const b = common[j];
      if (a !== undefined && (b === undefined || a < b)) {
        i++;
        yield a;
      } else if (b !== undefined) {
        j++;
        yield b;
      } else return;
    }
  }

  /** Forgets the offsets below `offset` (evicted entries); drops vchannels left empty. */
  dropBefore(offset: number): void {
    this.common = this.common.slice(lowerBound(this.common, offset));
    for (const [vchannel, offsets] of this.byVChannel) {
      const kept = offsets.slice(lowerBound(offsets, offset));
      if (kept.length === 0) this.byVChannel.delete(vchannel);
      else this.byVChannel.set(vchannel, kept);
    }
  }
}

const NO_OFFSETS: readonly number[] = [];
