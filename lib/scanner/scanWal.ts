import { asyncScheduler, Observable, type SchedulerLike, type Subscription } from 'rxjs';

import { ConfigError } from '../errors.js';
import type { WalMessage } from '../message/message.js';
import type { BackoffOptions } from '../internal/backoff.js';
import { definedOnly } from '../internal/definedOnly.js';
import { PendingQueue } from '../internal/pendingQueue.js';
import { Waiters } from '../internal/waiters.js';
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
  filters?: readonly DeliverFilter[];
  /** The pause switch, usually a `BehaviorSubject<boolean>`; absent: never paused. */
  pause$?: Observable<boolean>;
  /** Bypass the pause switch (recovery readers, replicators). */
  ignorePause?: boolean;
  /** `'start'` (default) gates only the start; `'live'` also later pauses. */
  pauseMode?: 'start' | 'live';
  /** Pull API: reading stops while this many messages wait for the consumer. Default 16. */
  pendingLimit?: number;
  backoff?: BackoffOptions;
  logger?: Logger;
  metrics?: ScannerMetrics;
  scheduler?: SchedulerLike;
  /** Messages asked of the WAL reader at a time; default 256. */
  readBatchSize?: number;
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
 *   while `pendingLimit` messages wait; leaving the loop closes the scanner.
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
    }),
    deliverPolicy,
    scheduler,
  });

  /** Builds one scanner's pipeline; `waiting` and `flowControl` come from the pull consumer. */
  const build = (waiting: () => number, pull: FlowControl | undefined): Observable<WalMessage> =>
    new Observable<WalMessage>((subscriber) => {
      let model: ScannerModel = 'catchup';
      const scannerModel = (): ScannerModel => model;
      let gateHolding = false;
      const flow = new Flow(pull, () => gateHolding);
      const policy = resolveLatest(wal, deliverPolicy);
      const name = options.name ?? nextScannerName(wal.channel);
      // The operators log through one child bound to this scanner; the source binds it itself.
      const operatorOptions = {
        ...observed,
        ...definedOnly({ logger: options.logger?.child({ name, channel: wal.channel }) }),
        scannerModel,
      };
      return switchableSource(wal, {
        ...observed,
        ...definedOnly({ backoff: options.backoff, readBatchSize: options.readBatchSize }),
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

/**
 * The pull side of a scanner: a pending queue between the pipeline and an asynchronous
 * consumer. Reading stops while `pendingLimit` messages wait; leaving the loop closes the scanner.
 */
class PullConsumer implements AsyncIterator<WalMessage>, FlowControl {
  private readonly queue = new PendingQueue();
  private readonly subscription: Subscription;
  private end: { readonly error?: unknown; readonly failed: boolean } | undefined;
  private consumer:
    { resolve(r: IteratorResult<WalMessage>): void; reject(e: unknown): void } | undefined;
  private readonly readers = new Waiters();

  constructor(
    build: (waiting: () => number, pull: FlowControl) => Observable<WalMessage>,
    private readonly pendingLimit: number,
    private readonly metrics: ScannerMetrics,
  ) {
    this.subscription = build(() => this.queue.length, this).subscribe({
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
    return new Promise((resolve, reject) => {
      this.consumer = { resolve, reject };
      this.deliver();
    });
  }

  return(): Promise<IteratorResult<WalMessage>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<WalMessage>> {
    this.close();
    return Promise.reject(err);
  }

  private deliver(): void {
    const consumer = this.consumer;
    if (consumer === undefined) return;
    const m = this.queue.advance();
    if (m !== undefined) {
      this.consumer = undefined;
      this.metrics.addPendingQueueBytes(-m.size);
      if (this.queue.length < this.pendingLimit) this.readers.wakeAll();
      consumer.resolve({ value: m, done: false });
      return;
    }
    if (this.end === undefined) return;
    this.consumer = undefined;
    const { error, failed } = this.end;
    this.end = { failed: false }; // an error is reported once; then the iterator is done
    this.close();
    if (failed) consumer.reject(error);
    else consumer.resolve({ value: undefined, done: true });
  }

  private close(): void {
    this.subscription.unsubscribe();
    const held = this.queue.clear();
    if (held !== 0) this.metrics.addPendingQueueBytes(-held);
    this.end ??= { failed: false };
    this.readers.wakeAll();
  }
}
