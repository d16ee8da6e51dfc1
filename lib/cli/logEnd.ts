import { ClosedError } from '../errors.js';
import type { WalMessage } from '../message/message.js';
import { tso, type TimeTick } from '../message/tso.js';
import { sequenceOf, type MessageId } from '../message/messageId.js';
import { DeliverPolicy } from '../options/deliverPolicy.js';
import type { ReadableWal, WalReader } from '../wal/wal.js';

/**
 * The id of the last record in the log now (undefined for an empty log), found the way
 * `latest()` is resolved: a reader created at the end says where it starts.
 */
export function lastRecordId(wal: ReadableWal): MessageId | undefined {
  const reader = wal.read(DeliverPolicy.latest());
  reader.close();
  const resolved = reader.resolvedPolicy;
  if (resolved?.kind === 'startAfter') return resolved.id;
  if (resolved?.kind === 'all') return undefined;
  throw new Error(`WAL ${wal.channel} cannot tell where its log ends (no resolved latest())`);
}

/** The time tick of record `id` (the log's end), read once; undefined when it cannot be read. */
export async function tickOf(
  wal: ReadableWal,
  id: MessageId | undefined,
): Promise<TimeTick | undefined> {
  if (id === undefined) return undefined;
  const reader = wal.read(DeliverPolicy.startFrom(id));
  try {
    const [first] = await reader.next(1);
    return first?.timeTick;
  } finally {
    reader.close();
  }
}

/**
 * What the scanner's readers have read so far: drives the progress bar, and says when the
 * scanner has read the last record that was there when the command started (the *end*).
 */
export class ReadProgress {
  /** Records returned by the readers (re-reads after a retry included). */
  read = 0;
  /** The id of the newest record read. */
  lastId: MessageId | undefined;
  /** The end record's time tick (read once at the start), and the highest tick read since. */
  newestTick: TimeTick | undefined;
  /** The tick of the last message the scanner delivered. */
  deliveredTick: TimeTick | undefined;
  private caughtUpFlag = false;
  private readonly caughtUpPromise: Promise<void>;
  private resolveCaughtUp!: () => void;

  constructor(readonly end: MessageId | undefined) {
    this.caughtUpPromise = new Promise((resolve) => (this.resolveCaughtUp = resolve));
  }

  /**
   * Resolves when a reader that has returned the end record (or started past it) is asked for
   * more: every record up to the end has then gone through the scanner's pipeline.
   */
  get caughtUp(): Promise<void> {
    return this.caughtUpPromise;
  }

  get isCaughtUp(): boolean {
    return this.caughtUpFlag;
  }

  /** Records between the newest one read and the end (undefined when ids are not numeric). */
  get lag(): bigint | undefined {
    if (this.end === undefined) return 0n;
    const end = sequenceOf(this.end);
    if (end === undefined) return undefined;
    const last = this.lastId === undefined ? undefined : sequenceOf(this.lastId);
    if (last === undefined) return this.lastId === undefined ? undefined : 0n;
    return last >= end ? 0n : end - last;
  }

  /** @internal */
  markCaughtUp(): void {
    if (this.caughtUpFlag) return;
    this.caughtUpFlag = true;
    this.resolveCaughtUp();
  }

  /** Seconds between the newest tick written and the last delivered (undefined before both). */
  get lagSeconds(): number | undefined {
    if (this.newestTick === undefined || this.deliveredTick === undefined) return undefined;
    return Math.max(0, tso.physical(this.newestTick) - tso.physical(this.deliveredTick)) / 1000;
  }

  /** The scanner delivered `m`. */
  delivered(m: WalMessage): void {
    this.deliveredTick = m.timeTick;
  }

  /** @internal */
  count(batch: readonly WalMessage[]): void {
    const last = batch[batch.length - 1];
    if (last === undefined) return;
    this.read += batch.length;
    this.lastId = last.id;
    for (const m of batch) {
      if (this.newestTick === undefined || m.timeTick > this.newestTick)
        this.newestTick = m.timeTick;
    }
  }
}

/**
 * Wraps a read-only WAL so that its readers report to `progress`. With `stopAtEnd`, readers
 * return nothing after the end record: the scan sees exactly the records present at its start.
 */
export function trackReads(
  wal: ReadableWal,
  progress: ReadProgress,
  stopAtEnd: boolean,
): ReadableWal {
  return {
    channel: wal.channel,
    accessMode: wal.accessMode,
    read: (policy) => new TrackedReader(wal.read(policy), policy, progress, stopAtEnd),
  };
}

class TrackedReader implements WalReader {
  private atEnd: boolean;
  private closed = false;
  private parked: ((error: Error) => void) | undefined;
  readonly resolvedPolicy?: DeliverPolicy;

  constructor(
    private readonly inner: WalReader,
    policy: DeliverPolicy,
    private readonly progress: ReadProgress,
    private readonly stopAtEnd: boolean,
  ) {
    this.atEnd = startsPastEnd(policy, progress.end);
    if (inner.resolvedPolicy !== undefined) this.resolvedPolicy = inner.resolvedPolicy;
  }

  async next(maxMessages?: number): Promise<readonly WalMessage[]> {
    if (this.atEnd) {
      this.progress.markCaughtUp();
      if (this.stopAtEnd) return this.park();
    }
    const batch = await this.inner.next(maxMessages);
    const end = this.progress.end;
    let kept = batch;
    if (end !== undefined && !this.atEnd) {
      const past = batch.findIndex((m) => m.id.compare(end) > 0);
      if (past !== -1 || batch.some((m) => m.id.compare(end) === 0)) this.atEnd = true;
      if (this.stopAtEnd && past !== -1) kept = batch.slice(0, past);
    }
    this.progress.count(kept);
    if (kept.length > 0) return kept;
    // everything in the batch came after the end: nothing more to read for this scan
    this.progress.markCaughtUp();
    return this.park();
  }

  close(): void {
    this.closed = true;
    this.inner.close();
    this.parked?.(new ClosedError('WAL reader'));
    this.parked = undefined;
  }

  /** Waits until the reader is closed: the scan has everything it will take from the log. */
  private park(): Promise<readonly WalMessage[]> {
    if (this.closed) return Promise.reject(new ClosedError('WAL reader'));
    return new Promise((_resolve, reject) => (this.parked = reject));
  }
}

function startsPastEnd(policy: DeliverPolicy, end: MessageId | undefined): boolean {
  if (end === undefined) return true; // an empty log
  switch (policy.kind) {
    case 'all':
      return false;
    case 'latest':
      return true;
    case 'startFrom':
      return policy.id.compare(end) > 0;
    case 'startAfter':
      return policy.id.compare(end) >= 0;
  }
}
