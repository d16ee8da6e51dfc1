import { asyncScheduler, Observable, type SchedulerLike, type Subscription } from 'rxjs';

import {
  ClosedError,
  ConfigError,
  CorruptRecordError,
  EvictedError,
  FencedError,
  InvalidMessageError,
  WalError,
} from '../errors.js';
import { MessageType, type WalMessage } from '../message/message.js';
import type { MessageId } from '../message/messageId.js';
import type { TimeTick } from '../message/tso.js';
import { definedOnly } from '../internal/definedOnly.js';
import { Backoff, sleep, type BackoffOptions } from '../internal/backoff.js';
import { YIELD_EVERY_MS, yieldToEventLoop } from '../internal/yieldToEventLoop.js';
import type { ScannerModel } from '../observability/metrics.js';
import type { ObservedOptions } from '../observability/observed.js';
import { logFields, resolveObserved } from '../observability/resolve.js';
import { checkDeliverPolicy, DeliverPolicy } from '../options/deliverPolicy.js';
import { hintedVChannel, type ReadableWal, type ReadHint, type WalReader } from '../wal/wal.js';
import type { WabReader } from '../wal/writeAheadBuffer.js';

/** Lets a consumer hold reading: `whenReady()` returns a promise while reading must wait. */
export interface FlowControl {
  whenReady(): Promise<void> | undefined;
}

/** Options of {@link switchableSource}. */
export interface SwitchableSourceOptions extends ObservedOptions {
  /** Where the first catch-up pass starts; default `DeliverPolicy.all()`. */
  deliverPolicy?: DeliverPolicy;
  /** The scanner's name in logs and metrics; default `<channel>/scanner-<n>`. */
  name?: string;
  /** Runs the backoff timers; default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** Between failed catch-up passes; defaults 100ms, ×2, at most 5s, ±50 % jitter. */
  backoff?: BackoffOptions;
  /** Messages asked of the WAL reader at a time; default 256. */
  readBatchSize?: number;
  /** Randomness of the backoff jitter; default `Math.random`. */
  random?: () => number;
  /** Holds reading while the consumer is behind (used by `scanWal`'s pull API and live pause). */
  flowControl?: FlowControl;
  /** Told the model each time the source switches (and `'catchup'` at the start). */
  onSwitchModel?: (model: ScannerModel) => void;
  /**
   * Read pushdown: readers are asked for this vchannel only (a {@link ReadHint}). The source may
   * still emit other vchannels' messages (a WAL may ignore the hint): filter after it. Default `''`.
   */
  vchannel?: string;
}

const NOTHING: readonly WalMessage[] = [];

/** Default number of messages asked of a WAL reader at a time. */
export const DEFAULT_READ_BATCH_SIZE = 256;

let scannerCounter = 0;

/** A process-unique scanner name for a channel: `<channel>/scanner-<n>`. */
export function nextScannerName(channel: string): string {
  return `${channel}/scanner-${++scannerCounter}`;
}

/** Errors a retry cannot fix: they end the scanner (DESIGN decision 1). */
function isUnrecoverable(err: unknown): boolean {
  return (
    err instanceof ClosedError ||
    err instanceof CorruptRecordError ||
    err instanceof ConfigError ||
    err instanceof InvalidMessageError ||
    err instanceof FencedError
  );
}

/** Where the next catch-up pass starts, and the ticks it must skip. */
interface Position {
  policy: DeliverPolicy;
  /** Messages with a tick ≤ this were handed over already; undefined skips nothing. */
  exclusiveStart: TimeTick | undefined;
}

/**
 * The producer of a scanner (reference § 3): catches up from the durable log, switches to
 * tailing the write-ahead buffer at a time tick the buffer can serve, and falls back to catch-up
 * when the buffer evicted what it would read next.
 *
 * - Catch-up reads `wal.read(policy)` in batches. After each time tick it hands over, it tries to
 *   join the write-ahead buffer strictly after that tick; on success it tails from there. Only
 *   `'rw'` WALs with a write-ahead buffer tail; `'ro'` WALs stay in catch-up.
 * - On eviction while tailing it catches up again from the last handed-over message's
 *   last-confirmed id, skipping every tick ≤ that message's tick.
 * - A failed catch-up pass (a read error, or a reader whose stream ended) backs off, then resumes
 *   after the last handed-over time tick (from its last-confirmed id, skipping ticks ≤ it) — not
 *   from the original policy — so nothing is handed over twice after a release.
 * - Unrecoverable errors (closed WAL, corrupt record, bad configuration) end the Observable.
 * - Unsubscribing closes the readers and cancels timers at once.
 * - At subscription an `'rw'` WAL is asked for a persisted time tick (reference § 3.1).
 *
 * Metrics: `scannerOpened`, `switchModel` (from `undefined` at the start), `scannerClosed` with the
 * model the scanner was in.
 *
 * @param wal the log to scan
 * @param options policy, backoff, scheduler, name, logger and metrics
 * @returns a cold Observable of the log's messages as read, in log order (not tick order)
 *
 * @example
 * ```ts
 * switchableSource(wal, { deliverPolicy: DeliverPolicy.all() })
 *   .pipe(reorderUntilTick(), txnBuffer())
 *   .subscribe(apply);
 * ```
 * @see scanWal
 */
export function switchableSource(
  wal: ReadableWal,
  options: SwitchableSourceOptions = {},
): Observable<WalMessage> {
  if (typeof wal !== 'object' || wal === null || typeof wal.read !== 'function') {
    throw new ConfigError('wal', wal, 'must be a ReadableWal (with read(policy))');
  }
  if (wal.accessMode !== 'rw' && wal.accessMode !== 'ro') {
    throw new ConfigError('wal.accessMode', wal.accessMode, "must be 'rw' or 'ro'");
  }
  const observed = resolveObserved(options, 'switchableSource');
  const initialPolicy = checkDeliverPolicy(options.deliverPolicy ?? DeliverPolicy.all());
  const scheduler = options.scheduler ?? asyncScheduler;
  if (typeof scheduler?.schedule !== 'function')
    throw new ConfigError('scheduler', scheduler, 'must be a SchedulerLike');
  const batchSize = options.readBatchSize ?? DEFAULT_READ_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize <= 0) {
    throw new ConfigError('readBatchSize', batchSize, 'must be a positive integer');
  }
  if (options.name !== undefined && typeof options.name !== 'string') {
    throw new ConfigError('name', options.name, 'must be a string');
  }
  new Backoff(options.backoff); // reject bad backoff options now
  const random = options.random ?? Math.random;
  const flowControl = options.flowControl;
  const onSwitchModel = options.onSwitchModel;
  const vchannel = hintedVChannel(definedOnly({ vchannel: options.vchannel }));
  const hint: ReadHint | undefined = vchannel === '' ? undefined : { vchannel };

  return new Observable<WalMessage>((subscriber) => {
    const name = options.name ?? nextScannerName(wal.channel);
    const scanner = { name, channel: wal.channel };
    const logger = observed.logger.child({ name, channel: wal.channel });
    const { metrics } = observed;
    const backoff = new Backoff(options.backoff, random);
    const abort = new AbortController();
    let model: ScannerModel = 'catchup';
    let reader: WalReader | undefined;
    let wabReader: WabReader | undefined;
    let timer: Subscription | undefined;
    let closed = false;

    const switchTo = (next: ScannerModel): void => {
      const from = model;
      model = next;
      metrics.switchModel(from, next);
      onSwitchModel?.(next);
      logger.info({ from, to: next }, `scanner switched to ${next}`);
    };

    metrics.scannerOpened(scanner);
    metrics.switchModel(undefined, model);
    onSwitchModel?.(model);
    subscriber.add(() => {
      closed = true;
      reader?.close();
      wabReader?.close();
      timer?.unsubscribe();
      abort.abort(new ClosedError('scanner'));
      metrics.scannerClosed({ ...scanner, model });
      logger.info('scanner is closed');
    });

    /** The position to resume from after a handed-over time tick. */
    let resume: Position | undefined;
    /** The first message handed over by the current pass before any time tick (ids ascending). */
    let firstHandedId: MessageId | undefined;
    /**
     * Hands `m` downstream and remembers where to resume. After a time tick read from the log,
     * everything before it in the log was handed over and everything after it was not released
     * yet, so a retry resumes right after it (a message after it with an equal tick is not lost),
     * skipping the ticks below it.
     * A tick from the write-ahead buffer has no log position of its own (not-persisted ticks reuse
     * ids): resume from its last-confirmed id, skipping the ticks it covers.
     */
    const hand = (m: WalMessage, fromLog: boolean, exclusiveStart: TimeTick | undefined): void => {
      subscriber.next(m);
      if (m.type !== MessageType.TimeTick) {
        firstHandedId ??= m.id;
      } else if (fromLog) {
        // after it in the log, a tick below it is a violation: skip it rather than count it again
        const below = m.timeTick - 1n;
        resume = {
          policy: DeliverPolicy.startAfter(m.id),
          exclusiveStart:
            exclusiveStart !== undefined && exclusiveStart > below ? exclusiveStart : below,
        };
      } else {
        resume = { policy: DeliverPolicy.startFrom(m.lastConfirmedId), exclusiveStart: m.timeTick };
      }
    };

    // Reads that resolve at once (an in-memory log) chain promise continuations without end:
    // after a few milliseconds of them, give the event loop a turn. A pending immediate tells
    // whether the loop turned on its own meanwhile (we waited for data), which ends a busy run.
    let busySince = scheduler.now();
    let loopTurned = false;
    let watchingLoop = false;
    const watchLoop = (): void => {
      if (watchingLoop) return;
      watchingLoop = true;
      setImmediate(() => {
        watchingLoop = false;
        loopTurned = true;
      });
    };
    const waitForConsumer = async (): Promise<void> => {
      for (
        let wait = flowControl?.whenReady();
        wait !== undefined && !closed;
        wait = flowControl?.whenReady()
      ) {
        await wait;
      }
      if (loopTurned) {
        loopTurned = false;
        busySince = scheduler.now();
      }
      watchLoop();
      if (scheduler.now() - busySince >= YIELD_EVERY_MS) {
        await yieldToEventLoop();
        busySince = scheduler.now();
        loopTurned = false;
      }
    };

    /** Tails the buffer until it evicts us; returns the position to catch up from. */
    const tail = async (from: WabReader, joinedAt: WalMessage): Promise<Position | undefined> => {
      wabReader = from;
      switchTo('tailing');
      let last = joinedAt;
      for (;;) {
        await waitForConsumer();
        if (closed) return undefined;
        let m: WalMessage;
        try {
          m = await from.next();
        } catch (err) {
          if (closed) return undefined;
          from.close();
          wabReader = undefined;
          if (!(err instanceof EvictedError)) {
            // a recoverable error is retried by catching up from the log: say so in the metrics
            if (!isUnrecoverable(err)) switchTo('catchup');
            throw err;
          }
          logger.info(
            logFields(last),
            'tailing reader evicted; catching up from the last consumed message',
          );
          switchTo('catchup');
          return {
            policy: DeliverPolicy.startFrom(last.lastConfirmedId),
            exclusiveStart: last.timeTick,
          };
        }
        if (closed) return undefined;
        hand(m, false, undefined);
        last = m;
        // the rest of the round that is already at hand, without a promise per message
        for (const next of from.readBuffered?.(batchSize - 1) ?? NOTHING) {
          if (closed) return undefined;
          hand(next, false, undefined);
          last = next;
        }
      }
    };

    /** Joins the buffer strictly after time tick `m`, if this WAL can be tailed and the buffer serves it. */
    const tryJoin = async (m: WalMessage): Promise<WabReader | undefined> => {
      if (wal.accessMode !== 'rw') return undefined;
      const buffer = wal.writeAheadBuffer;
      if (buffer === undefined) return undefined;
      try {
        return await buffer.readFromExclusiveTimeTick(m.timeTick, {
          signal: abort.signal,
          ...hint,
        });
      } catch (err) {
        if (!closed && !(err instanceof EvictedError) && logger.isLevelEnabled('debug')) {
          logger.debug(
            { err: String(err), timeTick: String(m.timeTick) },
            'could not join the write-ahead buffer',
          );
        }
        return undefined;
      }
    };

    /** One catch-up pass; returns where tailing fell back to, or throws the pass's error. */
    const catchUp = async (position: Position): Promise<Position | undefined> => {
      const current =
        hint === undefined ? wal.read(position.policy) : wal.read(position.policy, hint);
      reader = current;
      // `latest()` is fixed to a position now, so a retry does not skip what arrived meanwhile.
      if (current.resolvedPolicy !== undefined) position.policy = current.resolvedPolicy;
      firstHandedId = undefined;
      const exclusiveStart = position.exclusiveStart;
      try {
        for (;;) {
          await waitForConsumer();
          if (closed) return undefined;
          const batch = await current.next(batchSize);
          if (closed) return undefined;
          if (batch.length === 0)
            throw new WalError('READER_ENDED', 'the WAL reader ended without an error');
          backoff.reset();
          for (const m of batch) {
            if (exclusiveStart !== undefined && m.timeTick <= exclusiveStart) continue;
            hand(m, true, exclusiveStart);
            if (closed) return undefined;
            if (m.type !== MessageType.TimeTick) continue;
            const joined = await tryJoin(m);
            if (closed) {
              joined?.close();
              return undefined;
            }
            if (joined === undefined) continue;
            current.close();
            reader = undefined;
            return await tail(joined, m);
          }
        }
      } finally {
        current.close();
        if (reader === current) reader = undefined;
      }
    };

    const run = async (): Promise<void> => {
      if (wal.accessMode === 'rw') wal.requestPersistedTimeTick?.();
      let position: Position = { policy: initialPolicy, exclusiveStart: undefined };
      for (;;) {
        if (closed) return;
        try {
          const fellBackTo = await catchUp(position);
          if (fellBackTo === undefined) return; // closed
          position = fellBackTo;
          resume = fellBackTo;
        } catch (err) {
          if (closed) return;
          if (isUnrecoverable(err)) throw err;
          // Resume after what was handed over: the last time tick, else the first message of the
          // pass (still waiting in the reorder buffer, where its replay is dropped as a duplicate).
          if (resume !== undefined) position = resume;
          else if (firstHandedId !== undefined)
            position = { ...position, policy: DeliverPolicy.startFrom(firstHandedId) };
          const delayMs = backoff.nextDelay();
          logger.warn(
            { err: String(err), delayMs: Math.round(delayMs) },
            'catch-up pass failed; retrying after backoff',
          );
          await sleep(scheduler, delayMs, (t) => (timer = t));
          timer = undefined;
        }
      }
    };

    run().catch((err: unknown) => {
      if (!closed) subscriber.error(err);
    });
  });
}
