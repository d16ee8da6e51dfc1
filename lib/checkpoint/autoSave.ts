import { Observable, type SchedulerLike, type Subscription } from 'rxjs';

import { ConfigError } from '../errors.js';
import type { WalMessage } from '../message/message.js';
import { parseDuration, type Duration } from '../internal/duration.js';
import { subscribeLinked } from '../internal/linkedObserver.js';
import type { Logger } from '../observability/logger.js';
import { checkCheckpoint, checkpointOf, type Checkpoint } from './checkpoint.js';
import type { CheckpointStore } from './checkpointStore.js';

/**
 * `ScanOptions.checkpoint`: where the consumer's position is kept and how often it is saved.
 *
 * @example
 * ```ts
 * const checkpoint: CheckpointOptions = { store, every: { messages: 100, interval: '1s' } };
 * for await (const m of scanWal(wal, { vchannel: 'v1', checkpoint })) await handle(m);
 * ```
 */
export interface CheckpointOptions {
  /** Loaded when the scanner is subscribed, saved as the consumer handles messages. */
  store: CheckpointStore;
  /**
   * Throttling: save once this many handled messages and/or this much time (a trailing save
   * runs when the time is up) have gone by since the last save, whichever comes first. Absent:
   * save after every handled message; saves never overlap, so while one is in flight the newer
   * handled positions wait and only the newest is saved next.
   */
  every?: {
    /** Save after this many handled messages. */
    messages?: number;
    /** Save when this long has passed since the last save (`ms`, or a string such as `'5s'`). */
    interval?: Duration;
  };
}

/** The checked form of {@link CheckpointOptions}. */
export interface ResolvedCheckpointOptions {
  readonly store: CheckpointStore;
  readonly messages: number | undefined;
  readonly intervalMs: number | undefined;
}

/** Checks `ScanOptions.checkpoint`; throws ConfigError naming the bad part. */
export function resolveCheckpointOptions(options: unknown): ResolvedCheckpointOptions | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('checkpoint', options, 'must be an object { store, every? }');
  }
  const { store, every } = options as CheckpointOptions;
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.load !== 'function' ||
    typeof store.save !== 'function'
  ) {
    throw new ConfigError('checkpoint.store', store, 'must be a CheckpointStore (load, save)');
  }
  if (every !== undefined && (typeof every !== 'object' || every === null)) {
    throw new ConfigError('checkpoint.every', every, 'must be an object { messages?, interval? }');
  }
  const messages = every?.messages;
  if (messages !== undefined && (!Number.isSafeInteger(messages) || messages < 1)) {
    throw new ConfigError('checkpoint.every.messages', messages, 'must be a positive integer');
  }
  const intervalMs =
    every?.interval === undefined
      ? undefined
      : parseDuration(every.interval, 'checkpoint.every.interval');
  return { store, messages, intervalMs };
}

/** How a pull consumer tells the saver it handled a message (it asked for the next one). */
export interface HandledChannel {
  handled?: (m: WalMessage) => void;
}

/**
 * Saves a consumer's checkpoints to a store: throttled, never two saves at once, newest wins,
 * flushed when closed. A message is handled when the caller says so ({@link handled}).
 */
export class CheckpointSaver {
  private pending: WalMessage | undefined;
  private sinceSave = 0;
  private lastSaveAt: number;
  private inFlight = false;
  private timer: Subscription | undefined;
  private closed = false;

  constructor(
    private readonly options: ResolvedCheckpointOptions,
    private readonly scheduler: SchedulerLike,
    private readonly logger: Logger,
    private readonly onError: (err: unknown) => void,
  ) {
    this.lastSaveAt = scheduler.now();
  }

  /** The consumer handled `m`: remember its position, and save if a save is due. */
  handled(m: WalMessage): void {
    this.pending = m;
    this.sinceSave++;
    if (this.closed || this.due()) {
      this.save();
      return;
    }
    const interval = this.options.intervalMs;
    if (interval !== undefined && this.timer === undefined) {
      const delay = Math.max(0, this.lastSaveAt + interval - this.scheduler.now());
      this.timer = this.scheduler.schedule(() => {
        this.timer = undefined;
        this.save();
      }, delay);
    }
  }

  /** Stops the timer and saves what was handled since the last save. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.save();
  }

  private due(): boolean {
    const { messages, intervalMs } = this.options;
    if (messages === undefined && intervalMs === undefined) return true;
    if (messages !== undefined && this.sinceSave >= messages) return true;
    return intervalMs !== undefined && this.scheduler.now() - this.lastSaveAt >= intervalMs;
  }

  private save(): void {
    if (this.pending === undefined || this.inFlight) return;
    const cp = checkpointOf(this.pending);
    this.pending = undefined;
    this.sinceSave = 0;
    this.lastSaveAt = this.scheduler.now();
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.inFlight = true;
    let saving: Promise<void>;
    try {
      saving = this.options.store.save(cp);
    } catch (err) {
      saving = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    Promise.resolve(saving).then(
      () => {
        this.inFlight = false;
        // what was handled meanwhile: now if due (or closing), else on the timer or next message
        if (this.pending !== undefined && (this.closed || this.due())) this.save();
        else if (this.pending !== undefined && this.sinceSave > 0) this.rearm();
      },
      (err: unknown) => {
        this.inFlight = false;
        this.logger.error(
          { err: String(err), timeTick: cp.timeTick.toString(), id: cp.id.key },
          'saving the checkpoint failed',
        );
        this.onError(err);
      },
    );
  }

  private rearm(): void {
    const interval = this.options.intervalMs;
    if (interval === undefined || this.timer !== undefined) return;
    const delay = Math.max(0, this.lastSaveAt + interval - this.scheduler.now());
    this.timer = this.scheduler.schedule(() => {
      this.timer = undefined;
      this.save();
    }, delay);
  }
}

/**
 * A scanner that loads its start from a store when subscribed and saves the consumer's position
 * as it goes. `pipeline(cp)` builds the scanner resuming after `cp` (or from the policy when
 * `undefined`). Push consumers: a message is handled once the subscriber's `next` returned. Pull
 * consumers: `channel.handled` is set, and the consumer calls it when it asks for the next message.
 */
export function checkpointed(
  pipeline: (resumeFrom: Checkpoint | undefined) => Observable<WalMessage>,
  options: ResolvedCheckpointOptions,
  fallback: Checkpoint | undefined,
  scheduler: SchedulerLike,
  logger: Logger,
  channel: HandledChannel | undefined,
): Observable<WalMessage> {
  return new Observable<WalMessage>((subscriber) => {
    const saver = new CheckpointSaver(options, scheduler, logger, (err) => subscriber.error(err));
    subscriber.add(() => saver.close());
    if (channel !== undefined) channel.handled = (m) => saver.handled(m);
    let loading: Promise<Checkpoint | undefined>;
    try {
      loading = Promise.resolve(options.store.load());
    } catch (err) {
      loading = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    loading
      .then((loaded) => {
        if (subscriber.closed) return;
        const from =
          loaded === undefined ? fallback : checkCheckpoint(loaded, 'checkpoint.store.load()');
        logger.info(
          from === undefined
            ? { checkpoint: null }
            : { checkpoint: { timeTick: from.timeTick.toString(), id: from.id.key } },
          from === undefined
            ? 'no checkpoint: starting from the policy'
            : 'resuming from a checkpoint',
        );
        subscribeLinked(pipeline(from), subscriber, {
          next(m) {
            subscriber.next(m);
            if (channel === undefined) saver.handled(m);
          },
        });
      })
      .catch((err: unknown) => subscriber.error(err));
  });
}
