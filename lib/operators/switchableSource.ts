import {
  asyncScheduler,
  Observable,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from 'rxjs';

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
import { checkMaxRetries, RetryStreak } from '../internal/retryStreak.js';
import { warmMessages } from '../internal/warmMessages.js';
import { YIELD_EVERY_MS, yieldToEventLoop } from '../internal/yieldToEventLoop.js';
import type { ResolvedLogger } from '../observability/logger.js';
import type { ScannerMetrics, ScannerModel } from '../observability/metrics.js';
import type { ObservedOptions } from '../observability/observed.js';
import { logFields, resolveObserved } from '../observability/resolve.js';
import { checkDeliverPolicy, DeliverPolicy } from '../options/deliverPolicy.js';
import { hintedVChannel, type ReadableWal, type ReadHint, type WalReader } from '../wal/wal.js';
import type { WabReader } from '../wal/writeAheadBuffer.js';

/** A module constant: compared per message, so no property load (bench/README.md). */
const TIME_TICK = MessageType.TimeTick;

/** Lets a consumer hold reading: `whenReady()` returns a promise while reading must wait. */
export interface FlowControl {
  /** A promise that settles when reading may go on, or `undefined` when it may go on now. */
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
  /** Failed passes retried in a row before the source fails with the last error; default Infinity. */
  maxRetries?: number;
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
 * The states of a source (the reference's catch-up and tailing scanners behind a switchable
 * one). Transitions: catch-up → tailing (the switch, after a handed-over time tick the buffer
 * serves), tailing → catch-up (the eviction fallback), catch-up or tailing → retry (a
 * recoverable error), retry → catch-up (after the backoff); any → closed. An unrecoverable error
 * ends the source instead.
 */
type State =
  | { readonly kind: 'catchup'; readonly position: Position }
  | { readonly kind: 'tailing'; readonly reader: WabReader; readonly joinedAt: WalMessage }
  | { readonly kind: 'retry'; readonly error: unknown }
  | { readonly kind: 'closed' };

const CLOSED: State = { kind: 'closed' };

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
  const maxRetries = checkMaxRetries(options.maxRetries);
  const random = options.random ?? Math.random;
  const flowControl = options.flowControl;
  const onSwitchModel = options.onSwitchModel;
  const vchannel = hintedVChannel(definedOnly({ vchannel: options.vchannel }));
  const hint: ReadHint | undefined = vchannel === '' ? undefined : { vchannel };

  return new Observable<WalMessage>((subscriber) => {
    const name = options.name ?? nextScannerName(wal.channel);
    const logger = observed.logger.child({ name, channel: wal.channel });
    const machine = new SourceMachine(subscriber, {
      wal,
      name,
      logger,
      metrics: observed.metrics,
      scheduler,
      batchSize,
      hint,
      backoff: new Backoff(options.backoff, random),
      retries: new RetryStreak(maxRetries, logger, observed.metrics),
      flowControl,
      onSwitchModel,
    });
    subscriber.add(() => machine.close());
    machine.run(initialPolicy).catch((err: unknown) => {
      if (!machine.closed) subscriber.error(err);
    });
  });
}

/** What one subscription's {@link SourceMachine} works with. */
interface MachineConfig {
  readonly wal: ReadableWal;
  readonly name: string;
  readonly logger: ResolvedLogger;
  readonly metrics: ScannerMetrics;
  readonly scheduler: SchedulerLike;
  readonly batchSize: number;
  readonly hint: ReadHint | undefined;
  readonly backoff: Backoff;
  /** Counts and logs a streak of failed passes; says when to give up. */
  readonly retries: RetryStreak;
  readonly flowControl: FlowControl | undefined;
  readonly onSwitchModel: ((model: ScannerModel) => void) | undefined;
}

/** One subscription of a source: the states, their transitions, and what they share. */
class SourceMachine {
  closed = false;
  private model: ScannerModel = 'catchup';
  private reader: WalReader | undefined;
  private wabReader: WabReader | undefined;
  private timer: Subscription | undefined;
  private readonly abort = new AbortController();
  private readonly pacer: Pacer;
  /** The position of the current (or last) catch-up pass. */
  private position: Position | undefined;
  /**
   * The last handed-over time tick, where a retry resumes (see {@link resumePosition}): kept as
   * is and turned into a position only when a retry needs one, so a tick costs no allocation.
   */
  private lastTick: WalMessage | undefined;
  /** Whether {@link lastTick} was read from the log (else from the write-ahead buffer). */
  private lastTickFromLog = false;
  /** The ticks the pass that handed {@link lastTick} over skipped. */
  private lastTickSkipped: TimeTick | undefined;
  /** The eviction fallback's position, until the next time tick is handed over. */
  private evictedAt: Position | undefined;
  /** The first message handed over by the current pass before any time tick (ids ascending). */
  private firstHandedId: MessageId | undefined;
  /** What {@link warmMessages} read last: kept so that no engine drops its reads as unused. */
  warmth = 0;

  constructor(
    private readonly subscriber: Subscriber<WalMessage>,
    private readonly config: MachineConfig,
  ) {
    this.pacer = new Pacer(config.scheduler, config.flowControl, () => this.closed);
    config.metrics.scannerOpened(this.scanner);
    config.metrics.switchModel(undefined, this.model);
    config.onSwitchModel?.(this.model);
  }

  private get scanner(): { name: string; channel: string } {
    return { name: this.config.name, channel: this.config.wal.channel };
  }

  /** Runs the states from a catch-up at `policy` until closed; rejects with an unrecoverable error. */
  async run(policy: DeliverPolicy): Promise<void> {
    const { wal } = this.config;
    if (wal.accessMode === 'rw') wal.requestPersistedTimeTick?.();
    let state: State = { kind: 'catchup', position: { policy, exclusiveStart: undefined } };
    while (state.kind !== 'closed' && !this.closed) {
      switch (state.kind) {
        case 'catchup':
          state = await this.catchUp(state.position);
          break;
        case 'tailing':
          state = await this.tail(state.reader, state.joinedAt);
          break;
        case 'retry':
          state = await this.retry(state.error);
          break;
      }
    }
  }

  /** Synchronous teardown: closes the readers, cancels the timer and the buffer join. */
  close(): void {
    this.closed = true;
    this.reader?.close();
    this.wabReader?.close();
    this.timer?.unsubscribe();
    this.abort.abort(new ClosedError('scanner'));
    this.config.metrics.scannerClosed({ ...this.scanner, model: this.model });
    this.config.logger.info({}, 'scanner is closed');
  }

  /** Catch-up: reads the log from `position`; switches to tailing after a tick the buffer serves. */
  private async catchUp(position: Position): Promise<State> {
    const { wal, hint, batchSize } = this.config;
    this.position = position;
    let current: WalReader | undefined;
    try {
      current = hint === undefined ? wal.read(position.policy) : wal.read(position.policy, hint);
      this.reader = current;
      this.firstHandedId = undefined;
      // `latest()` is fixed to a position now, so a retry does not skip what arrived meanwhile.
      if (current.resolvedPolicy !== undefined) position.policy = current.resolvedPolicy;
      const { exclusiveStart } = position;
      for (;;) {
        const paced = this.pacer.wait();
        if (paced !== undefined) await paced;
        if (this.closed) return CLOSED;
        const batch = await current.next(batchSize);
        if (this.closed) return CLOSED;
        if (batch.length === 0)
          throw new WalError('READER_ENDED', 'the WAL reader ended without an error');
        this.config.backoff.reset();
        this.config.retries.succeeded();
        this.warmth = warmMessages(batch);
        for (let i = 0; i < batch.length; i++) {
          const m = batch[i] as WalMessage;
          if (exclusiveStart !== undefined && m.timeTick <= exclusiveStart) continue;
          this.subscriber.next(m);
          if (this.closed) return CLOSED;
          if (m.type !== TIME_TICK) {
            this.firstHandedId ??= m.id;
            continue;
          }
          this.handedLogTick(m, exclusiveStart);
          // a time tick: join the buffer after it, when this WAL has one to tail (no promise else)
          if (!this.canTail()) continue;
          const joined = await this.join(m);
          if (this.closed) {
            joined?.close();
            return CLOSED;
          }
          if (joined !== undefined) return { kind: 'tailing', reader: joined, joinedAt: m };
        }
      }
    } catch (err) {
      return this.failed(err);
    } finally {
      current?.close();
      if (this.reader === current) this.reader = undefined;
    }
  }

  /** Tailing: hands over the buffer's entries until it evicts us (→ catch-up) or fails (→ retry). */
  private async tail(from: WabReader, joinedAt: WalMessage): Promise<State> {
    this.wabReader = from;
    this.switchTo('tailing');
    let last = joinedAt;
    for (;;) {
      const paced = this.pacer.wait();
      if (paced !== undefined) await paced;
      if (this.closed) return CLOSED;
      let m: WalMessage;
      try {
        m = await from.next();
      } catch (err) {
        if (this.closed) return CLOSED;
        from.close();
        this.wabReader = undefined;
        if (err instanceof EvictedError) return this.evicted(last);
        // a recoverable error is retried by catching up from the log: say so in the metrics
        if (!isUnrecoverable(err)) this.switchTo('catchup');
        return this.failed(err);
      }
      if (this.closed) return CLOSED;
      this.hand(m);
      last = m;
      // the rest of the round that is already at hand, without a promise per message
      for (const next of from.readBuffered?.(this.config.batchSize - 1) ?? NOTHING) {
        if (this.closed) return CLOSED;
        this.hand(next);
        last = next;
      }
    }
  }

  /** The eviction fallback: catch up from the last handed-over message's last-confirmed id. */
  private evicted(last: WalMessage): State {
    this.config.logger.info(
      logFields(last),
      'tailing reader evicted; catching up from the last consumed message',
    );
    this.switchTo('catchup');
    const position: Position = {
      policy: DeliverPolicy.startFrom(last.lastConfirmedId),
      exclusiveStart: last.timeTick,
    };
    this.evictedAt = position;
    return { kind: 'catchup', position: { ...position } };
  }

  /** An error of a state: ends the source when unrecoverable, else leads to a retry. */
  private failed(err: unknown): State {
    if (this.closed) return CLOSED;
    if (isUnrecoverable(err)) throw err;
    return { kind: 'retry', error: err };
  }

  /**
   * Retry: backs off, then catches up after what was handed over — the last time tick, else the
   * first message of the pass (still waiting in the reorder buffer, where its replay is dropped
   * as a duplicate), else where the pass started.
   */
  private async retry(err: unknown): Promise<State> {
    const resume = this.resumePosition();
    let position = resume ?? (this.position as Position);
    if (resume === undefined && this.firstHandedId !== undefined)
      position = { ...position, policy: DeliverPolicy.startFrom(this.firstHandedId) };
    const verdict = this.config.retries.failed(err, () => this.config.backoff.nextDelay());
    if (!verdict.retry) throw err;
    await sleep(this.config.scheduler, verdict.delayMs, (t) => (this.timer = t));
    this.timer = undefined;
    return this.closed ? CLOSED : { kind: 'catchup', position: { ...position } };
  }

  private canTail(): boolean {
    const { wal } = this.config;
    return wal.accessMode === 'rw' && wal.writeAheadBuffer !== undefined;
  }

  /** Joins the buffer strictly after time tick `m`, if this WAL can be tailed and the buffer serves it. */
  private async join(m: WalMessage): Promise<WabReader | undefined> {
    const { wal, logger, hint } = this.config;
    if (wal.accessMode !== 'rw') return undefined;
    const buffer = wal.writeAheadBuffer;
    if (buffer === undefined) return undefined;
    try {
      return await buffer.readFromExclusiveTimeTick(m.timeTick, {
        signal: this.abort.signal,
        ...hint,
      });
    } catch (err) {
      if (!this.closed && !(err instanceof EvictedError) && logger.isLevelEnabled('debug')) {
        logger.debug(
          { err: String(err), timeTick: String(m.timeTick) },
          'could not join the write-ahead buffer',
        );
      }
      return undefined;
    }
  }

  /** Hands `m`, read from the write-ahead buffer, downstream and remembers where to resume. */
  private hand(m: WalMessage): void {
    this.subscriber.next(m);
    if (m.type !== TIME_TICK) {
      this.firstHandedId ??= m.id;
      return;
    }
    this.lastTick = m;
    this.lastTickFromLog = false;
    this.lastTickSkipped = undefined;
    this.evictedAt = undefined;
  }

  /** Remembers a time tick read from the log and handed over: a retry resumes after it. */
  private handedLogTick(m: WalMessage, exclusiveStart: TimeTick | undefined): void {
    this.lastTick = m;
    this.lastTickFromLog = true;
    this.lastTickSkipped = exclusiveStart;
    this.evictedAt = undefined;
  }

  /**
   * Where a retry resumes after what was handed over, or undefined when no time tick was.
   * After a time tick read from the log, everything before it in the log was handed over and
   * everything after it was not released yet, so a retry resumes right after it (a message after
   * it with an equal tick is not lost), skipping the ticks below it.
   * A tick from the write-ahead buffer has no log position of its own (not-persisted ticks reuse
   * ids): resume from its last-confirmed id, skipping the ticks it covers.
   * After an eviction, until the next time tick: the eviction fallback's position.
   */
  private resumePosition(): Position | undefined {
    if (this.evictedAt !== undefined) return this.evictedAt;
    const m = this.lastTick;
    if (m === undefined) return undefined;
    if (!this.lastTickFromLog) {
      return { policy: DeliverPolicy.startFrom(m.lastConfirmedId), exclusiveStart: m.timeTick };
    }
    // after it in the log, a tick below it is a violation: skip it rather than count it again
    const below = m.timeTick - 1n;
    const skipped = this.lastTickSkipped;
    return {
      policy: DeliverPolicy.startAfter(m.id),
      exclusiveStart: skipped !== undefined && skipped > below ? skipped : below,
    };
  }

  private switchTo(next: ScannerModel): void {
    const from = this.model;
    this.model = next;
    this.config.metrics.switchModel(from, next);
    this.config.onSwitchModel?.(next);
    this.config.logger.info({ from, to: next }, `scanner switched to ${next}`);
  }
}

/**
 * Paces reading: waits while the consumer holds it (flow control), and after a few milliseconds
 * of reads that resolve at once (an in-memory log chains promise continuations without end)
 * gives the event loop a turn. A pending immediate tells whether the loop turned on its own
 * meanwhile (we waited for data), which ends a busy run.
 */
class Pacer {
  private busySince: number;
  private loopTurned = false;
  private watchingLoop = false;
  private readonly onImmediate = (): void => {
    this.watchingLoop = false;
    this.loopTurned = true;
  };

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly flowControl: FlowControl | undefined,
    private readonly closed: () => boolean,
  ) {
    this.busySince = scheduler.now();
  }

  wait(): Promise<void> | undefined {
    const held = this.flowControl?.whenReady();
    if (held !== undefined) return this.waitHeld(held);
    return this.paced();
  }

  private async waitHeld(held: Promise<void>): Promise<void> {
    const flowControl = this.flowControl as FlowControl;
    for (let wait: Promise<void> | undefined = held; wait !== undefined && !this.closed();) {
      await wait;
      wait = flowControl.whenReady();
    }
    await this.paced();
  }

  private paced(): Promise<void> | undefined {
    if (this.loopTurned) {
      this.loopTurned = false;
      this.busySince = this.scheduler.now();
    }
    if (!this.watchingLoop) {
      this.watchingLoop = true;
      setImmediate(this.onImmediate);
    }
    if (this.scheduler.now() - this.busySince < YIELD_EVERY_MS) return undefined;
    return yieldToEventLoop().then(this.yielded);
  }

  private readonly yielded = (): void => {
    this.busySince = this.scheduler.now();
    this.loopTurned = false;
  };
}
