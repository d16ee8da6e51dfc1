import { asyncScheduler, identity, Observable, type SchedulerLike, type Subscription } from 'rxjs';

import {
  checkpointed,
  resolveCheckpointOptions,
  type CheckpointOptions,
  type HandledChannel,
} from '../checkpoint/autoSave.js';
import { checkCheckpoint, type Checkpoint } from '../checkpoint/checkpoint.js';
import { resumeAfter } from '../checkpoint/resumeAfter.js';
import { ConfigError } from '../errors.js';
import type { WalMessage } from '../message/message.js';
import type { BackoffOptions } from '../internal/backoff.js';
import { countedByCaller } from '../internal/countedByCaller.js';
import { definedOnly } from '../internal/definedOnly.js';
import { PendingQueue } from '../internal/pendingQueue.js';
import { Waiters } from '../internal/waiters.js';
import { reportLag } from '../observability/lag.js';
import type { Logger } from '../observability/logger.js';
import { noopMetrics, type ScannerMetrics, type ScannerModel } from '../observability/metrics.js';
import { resolveObserved } from '../observability/resolve.js';
import { filterMessages } from '../operators/filterMessages.js';
import { filterVChannel } from '../operators/filterVChannel.js';
import { pauseGate } from '../operators/pauseGate.js';
import { reorderUntilTick } from '../operators/reorderUntilTick.js';
import {
  nextScannerName,
  switchableSource,
  type FlowControl,
} from '../operators/switchableSource.js';
import { txnBuffer } from '../operators/txnBuffer.js';
import { deliverFilterPredicate, type DeliverFilter } from '../options/deliverFilter.js';
import { checkDeliverPolicy, DeliverPolicy } from '../options/deliverPolicy.js';
import type { ReadableWal } from '../wal/wal.js';
import { deliveryStage } from './deliveryStage.js';

/** A scanner: an Observable for push consumers and an AsyncIterable for pull consumers. */
export interface ScanObservable extends Observable<WalMessage>, AsyncIterable<WalMessage> {}

/** Options of {@link scanWal}. */
export interface ScanOptions {
  /** The scanner's name in logs and metrics. */
  name?: string;
  /** `''` or absent: every vchannel. */
  vchannel?: string;
  /** Default `DeliverPolicy.all()`. `latest()` is resolved when the scanner is subscribed. */
  deliverPolicy?: DeliverPolicy;
  /** Deliver filters, AND-ed (`DeliverFilter.timeTickGT`, `messageType`); default none. */
  filters?: readonly DeliverFilter[];
  /** The pause switch, usually a `BehaviorSubject<boolean>`; absent: never paused. */
  pause$?: Observable<boolean>;
  /** Bypass the pause switch (recovery readers, replicators). */
  ignorePause?: boolean;
  /** `'start'` (default) gates only the start; `'live'` also later pauses. */
  pauseMode?: 'start' | 'live';
  /** Pull API: reading stops while this many messages wait for the consumer. Default 16. */
  pendingLimit?: number;
  /** How the source waits between retries after a read error; defaults 100ms, ×2, at most 5s. */
  backoff?: BackoffOptions;
  /** Where the scanner and its operators log; default silent. */
  logger?: Logger;
  /** Where events are counted; default {@link noopMetrics}. */
  metrics?: ScannerMetrics;
  /** Where timers run (pause durations, backoff, txn expiry); default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** Messages asked of the WAL reader at a time; default 256. */
  readBatchSize?: number;
  /**
   * Deliver exactly what comes after this checkpoint (`checkpointOf` of the last message the
   * consumer handled): reads from its last-confirmed id and drops, once transactions are
   * assembled, everything at or before its (tick, id). Replaces `deliverPolicy`.
   */
  resumeFrom?: Checkpoint;
  /**
   * Load the start from `store` when subscribed (it wins over `resumeFrom` and `deliverPolicy`
   * when it holds a checkpoint) and save the consumer's position as it goes: a push consumer
   * handled a message when its `next` returned, a pull consumer when it asks for the next one.
   * Throttled by `every`, flushed when the scanner closes. At-least-once: see docs/checkpoints.md.
   */
  checkpoint?: CheckpointOptions;
  /**
   * Failed read passes retried in a row before the scanner fails with the last error; default
   * `Infinity` (retry for ever). A pass that reads something ends the streak.
   */
  maxRetries?: number;
}

/** Default `pendingLimit` (the reference's 16). */
export const DEFAULT_PENDING_LIMIT = 16;

const PUSH_WAITING = (): number => 0;

/**
 * Scans a WAL: `switchableSource → filterMessages → filterVChannel → reorderUntilTick →
 * txnBuffer → delivery stage → pauseGate`, exactly, nothing hidden beside it.
 *
 * Subscribing starts a scanner; unsubscribing closes it and releases everything it holds
 * (readers, timers, the `pause$` subscription, metric series). Two ways to consume:
 * - push: `scanWal(wal, opts).subscribe(...)`, for consumers that handle each message synchronously;
 * - pull: `for await (const m of scanWal(wal, opts))`, for asynchronous consumers: reading stops
 *   while `pendingLimit` messages wait; leaving the loop closes the scanner. Overlapping `next()`
 *   calls are served in call order; `return()` settles every waiting one with `{ done: true }`.
 *
 * The consumer sees messages in time-tick order, each data message once, transactions as one
 * `Txn` message at their commit, and time ticks that never go backwards.
 *
 * @param wal the log
 * @param options vchannel, policy, filters, pause switch, limits, observability
 * @returns a cold {@link ScanObservable}
 *
 * @example
 * ```ts
 * const pause$ = new BehaviorSubject(false);
 * for await (const m of scanWal(wal, { vchannel: 'v1', pause$ })) {
 *   await apply(m);
 * }
 * ```
 */
export function scanWal(wal: ReadableWal, options: ScanOptions = {}): ScanObservable {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('options', options, 'must be an object');
  const { logger, metrics } = resolveObserved(
    { ...definedOnly({ logger: options.logger, metrics: options.metrics }) },
    'scanner',
  );
  const vchannel = options.vchannel ?? '';
  const filters = options.filters ?? [];
  deliverFilterPredicate(filters); // reject bad filters now
  const deliverPolicy = checkDeliverPolicy(options.deliverPolicy ?? DeliverPolicy.all());
  const resumeFrom =
    options.resumeFrom === undefined
      ? undefined
      : checkCheckpoint(options.resumeFrom, 'resumeFrom');
  const checkpoint = resolveCheckpointOptions(options.checkpoint);
  const pendingLimit = options.pendingLimit ?? DEFAULT_PENDING_LIMIT;
  if (!Number.isSafeInteger(pendingLimit) || pendingLimit < 1) {
    throw new ConfigError('pendingLimit', options.pendingLimit, 'must be a positive integer');
  }
  const scheduler = options.scheduler ?? asyncScheduler;
  const pause$ = options.pause$;
  const ignorePause = options.ignorePause ?? pause$ === undefined;
  const pauseMode = options.pauseMode ?? 'start';
  const observed = definedOnly({ logger: options.logger, metrics: options.metrics });
  const pauseOptions = { ...observed, ignore: ignorePause, mode: pauseMode, scheduler };
  const sourceMetrics = countedByCaller(metrics);
  // Every operator checks its options when it is created: build them once now so a bad option
  // throws here, at the call, rather than at the first subscription.
  filterVChannel(vchannel, observed);
  pauseGate(pause$ ?? NEVER_PAUSED, pauseOptions);
  switchableSource(wal, {
    ...observed,
    ...definedOnly({
      name: options.name,
      backoff: options.backoff,
      readBatchSize: options.readBatchSize,
      maxRetries: options.maxRetries,
    }),
    deliverPolicy,
    scheduler,
  });

  /** Builds one scanner's pipeline; `waiting` and `flowControl` come from the pull consumer. */
  const build = (
    waiting: () => number,
    pull: FlowControl | undefined,
    handled?: HandledChannel,
  ): Observable<WalMessage> =>
    checkpoint === undefined
      ? pipeline(waiting, pull, resumeFrom)
      : checkpointed(
          (from) => pipeline(waiting, pull, from),
          checkpoint,
          resumeFrom,
          scheduler,
          logger,
          handled,
        );

  /** One scanner's operators, resuming after `from` when given. */
  const pipeline = (
    waiting: () => number,
    pull: FlowControl | undefined,
    from: Checkpoint | undefined,
  ): Observable<WalMessage> =>
    new Observable<WalMessage>((subscriber) => {
      let model: ScannerModel = 'catchup';
      const scannerModel = (): ScannerModel => model;
      let gateHolding = false;
      const flow = new Flow(pull, () => gateHolding);
      const policy =
        from === undefined
          ? resolveLatest(wal, deliverPolicy)
          : DeliverPolicy.startFrom(from.lastConfirmedId);
      const name = options.name ?? nextScannerName(wal.channel);
      // Counted as catch-up from subscription, also while the pause gate holds the source back
      // (reference § 7.3), so `paused` never exceeds the scanners; the source reports switches.
      const scanner = { name, channel: wal.channel };
      metrics.scannerOpened(scanner);
      metrics.switchModel(undefined, model);
      subscriber.add(() => metrics.scannerClosed({ ...scanner, model }));
      // The operators log through one child bound to this scanner; the source binds it itself.
      const operatorOptions = {
        ...observed,
        ...definedOnly({ logger: options.logger?.child({ name, channel: wal.channel }) }),
        scannerModel,
      };
      return switchableSource(wal, {
        ...observed,
        metrics: sourceMetrics,
        ...definedOnly({
          backoff: options.backoff,
          readBatchSize: options.readBatchSize,
          maxRetries: options.maxRetries,
        }),
        name,
        deliverPolicy: policy,
        scheduler,
        flowControl: flow,
        vchannel,
        onSwitchModel: (next) => (model = next),
      })
        .pipe(
          filterMessages(filters),
          filterVChannel(vchannel, operatorOptions),
          reorderUntilTick(operatorOptions),
          txnBuffer(operatorOptions),
          deliveryStage(waiting),
          from === undefined ? identity : resumeAfter(from),
          reportLag(wal, () => ({ name, channel: wal.channel, model }), metrics, scheduler),
          pauseGate(pause$ ?? NEVER_PAUSED, {
            ...pauseOptions,
            ...operatorOptions,
            onHoldChange: (holding) => {
              gateHolding = holding;
              if (!holding) flow.wake();
            },
          }),
        )
        .subscribe(subscriber);
    });

  logger.debug({ channel: wal.channel, vchannel }, 'scanner configured');
  return new Scanner(build, pendingLimit, metrics);
}

const NEVER_PAUSED = new Observable<boolean>((subscriber) => subscriber.next(false));

/** `latest()` is fixed when the scanner is subscribed, not when a paused scanner resumes. */
function resolveLatest(wal: ReadableWal, policy: DeliverPolicy): DeliverPolicy {
  if (policy.kind !== 'latest') return policy;
  const reader = wal.read(policy);
  reader.close();
  return reader.resolvedPolicy ?? policy;
}

/** Reading waits while the pull consumer is behind or a live pause gate holds. */
class Flow implements FlowControl {
  private readonly waiters = new Waiters();

  constructor(
    private readonly pull: FlowControl | undefined,
    private readonly holding: () => boolean,
  ) {}

  whenReady(): Promise<void> | undefined {
    const pulled = this.pull?.whenReady();
    if (pulled !== undefined) return pulled;
    if (!this.holding()) return undefined;
    return this.waiters.next();
  }

  wake(): void {
    this.waiters.wakeAll();
  }
}

class Scanner extends Observable<WalMessage> implements ScanObservable {
  constructor(
    private readonly build: (
      waiting: () => number,
      pull: FlowControl | undefined,
      handled?: HandledChannel,
    ) => Observable<WalMessage>,
    private readonly pendingLimit: number,
    private readonly metrics: ScannerMetrics,
  ) {
    super((subscriber) => build(PUSH_WAITING, undefined).subscribe(subscriber));
  }

  [Symbol.asyncIterator](): AsyncIterator<WalMessage> {
    return new PullConsumer(this.build, this.pendingLimit, this.metrics ?? noopMetrics);
  }
}

/** A `next()` call waiting for a message. */
interface WaitingNext {
  resolve(r: IteratorResult<WalMessage>): void;
  reject(e: unknown): void;
}

const DONE: IteratorResult<WalMessage> = Object.freeze({ value: undefined, done: true });

/**
 * The pull side of a scanner: a pending queue between the pipeline and an asynchronous
 * consumer. Reading stops while `pendingLimit` messages wait; leaving the loop closes the scanner.
 * Overlapping `next()` calls (the async-iterator protocol allows them) are served in call order;
 * `return()` and `throw()` settle every waiting one with `{ done: true }`.
 */
class PullConsumer implements AsyncIterator<WalMessage>, FlowControl {
  private readonly queue = new PendingQueue();
  private readonly subscription: Subscription;
  private end: { readonly error?: unknown; readonly failed: boolean } | undefined;
  private readonly consumers: WaitingNext[] = [];
  private readonly readers = new Waiters();
  /** Told, when the consumer asks for the next message, that it handled the last one. */
  private readonly handled: HandledChannel = {};
  private lastReturned: WalMessage | undefined;

  constructor(
    build: (
      waiting: () => number,
      pull: FlowControl,
      handled: HandledChannel,
    ) => Observable<WalMessage>,
    private readonly pendingLimit: number,
    private readonly metrics: ScannerMetrics,
  ) {
    this.subscription = build(() => this.queue.length, this, this.handled).subscribe({
      next: (m) => {
        this.queue.addOne(m);
        this.metrics.addPendingQueueBytes(m.size);
        this.deliver();
      },
      error: (error: unknown) => {
        this.end = { error, failed: true };
        this.deliver();
      },
      complete: () => {
        this.end = { failed: false };
        this.deliver();
      },
    });
  }

  whenReady(): Promise<void> | undefined {
    if (this.queue.length < this.pendingLimit) return undefined;
    return this.readers.next();
  }

  next(): Promise<IteratorResult<WalMessage>> {
    const last = this.lastReturned;
    this.lastReturned = undefined;
    if (last !== undefined) this.handled.handled?.(last);
    return new Promise((resolve, reject) => {
      this.consumers.push({ resolve, reject });
      this.deliver();
    });
  }

  return(): Promise<IteratorResult<WalMessage>> {
    this.close();
    return Promise.resolve(DONE);
  }

  throw(err?: unknown): Promise<IteratorResult<WalMessage>> {
    this.close();
    return Promise.reject(err);
  }

  /** Hands waiting messages to waiting `next()` calls in order, then the end to the rest. */
  private deliver(): void {
    for (let consumer = this.consumers.shift(); consumer !== undefined;) {
      const m = this.queue.advance();
      if (m !== undefined) {
        this.metrics.addPendingQueueBytes(-m.size);
        if (this.queue.length < this.pendingLimit) this.readers.wakeAll();
        this.lastReturned = m;
        consumer.resolve({ value: m, done: false });
        consumer = this.consumers.shift();
        continue;
      }
      if (this.end === undefined) {
        this.consumers.unshift(consumer); // nothing yet: it waits, first in line
        return;
      }
      const { error, failed } = this.end;
      this.end = { failed: false }; // an error is reported once; then the iterator is done
      this.close(); // settles the consumers behind this one
      if (failed) consumer.reject(error);
      else consumer.resolve(DONE);
      return;
    }
  }

  private close(): void {
    this.subscription.unsubscribe();
    const held = this.queue.clear();
    if (held !== 0) this.metrics.addPendingQueueBytes(-held);
    this.end ??= { failed: false };
    this.readers.wakeAll();
    for (const waiting of this.consumers.splice(0)) waiting.resolve(DONE);
  }
}
