import type {
  Consumer,
  ConsumerConfig,
  ConsumerMessages,
  FetchMessages,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
} from '@nats-io/jetstream';
import type { SchedulerLike, Subscription } from 'rxjs';

import { ClosedError, ConfigError, CorruptRecordError } from '../errors.js';
import { sleep } from '../internal/backoff.js';
import type { WalMessage } from '../message/message.js';
import { messageId } from '../message/messageId.js';
import { DeliverPolicy } from '../options/deliverPolicy.js';
import type { Logger } from '../observability/logger.js';
import type { WalReader } from '../wal/wal.js';
import type { PayloadCodec } from '../wire/payloadCodec.js';
import { decodeRecord } from '../wire/record.js';
import type { NatsModules } from './modules.js';

/** What a reader needs from its WAL. */
export interface ReaderContext {
  readonly modules: NatsModules;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly codec: PayloadCodec;
  /**
   * Messages one pull request asks for. The reader keeps up to twice this many decoded messages
   * ahead of its caller, asking for more as soon as one request's worth of room is free, so the
   * server streams the next request's messages while the caller handles the previous ones.
   */
  readonly batchSize: number;
  /** How long a fetch waits for messages before the watchdog checks the consumer (≥ 1000). */
  readonly watchdogMs: number;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
  /** Forgets the reader once it is closed. */
  readonly release: (reader: JetStreamReader) => void;
}

/**
 * Fetch options with a callback: @nats-io/jetstream 3.x delivers a fetch's messages to
 * `callback` as it does a consume's (its types declare the option only for consume). Each
 * message is then handled as it is parsed, with no promise per message.
 */
type FetchWithCallback = FetchMessages & { callback: (message: JsMsg) => void };

/** The start of a reader: a stream sequence, or "after the last message, looked up now". */
export type ReaderStart = { readonly sequence: bigint } | 'latest';

/**
 * Reads a stream from a sequence on, in order, with no gap and no duplicate, through ephemeral
 * pull consumers it creates itself: a fetch that ends empty while the stream holds more for it,
 * a fetch that goes silent, a lost consumer or a delivery gap makes it recreate the consumer
 * right after the last sequence it handed over (its watchdog: ordered consumers on nats-server
 * 2.9 were seen to stall for good after a stream-leader kill).
 *
 * Without `filterSubjects` the consumer reads every subject, and a gap is a stream sequence
 * other than the next one. With `filterSubjects` (a vchannel's, the broadcasts' and the ticks'
 * subjects on servers with multi-subject filters) stream sequences skip what the filter leaves
 * out, so a gap is a consumer delivery sequence other than the next one, and an empty fetch is
 * a stall only when the stream holds a matching message the consumer did not deliver.
 */
export class JetStreamReader implements WalReader {
  private closed = false;
  private error: unknown;
  private queue: WalMessage[] = [];
  private nextSequence: bigint | undefined;
  private consumerName: string | undefined;
  private consumer: Consumer | undefined;
  private fresh = false;
  /** The consumer's delivery sequence of the last message taken from it (filtered mode). */
  private lastDelivery = 0;
  private messages: ConsumerMessages | undefined;
  private pumping = false;
  private waiter: (() => void) | undefined;
  private readonly timers = new Set<Subscription>();
  /** The most decoded messages the reader holds ahead of its caller. */
  private readonly highWater: number;
  /** Consumers recreated by the watchdog (for tests and logs). */
  recreated = 0;
  /** The policy with `latest()` replaced by where it starts, once that is known. */
  resolvedPolicy?: DeliverPolicy;

  /** The subjects the consumer reads; undefined: the whole stream. */
  private filterSubjects: readonly string[] | undefined;

  /**
   * @param filterSubjects the subjects the consumer reads (a multi-subject filter, or one
   *   subject as a plain `filter_subject`); undefined or empty: the whole stream
   */
  constructor(
    private readonly context: ReaderContext,
    start: ReaderStart,
    policy: DeliverPolicy,
    filterSubjects?: readonly string[],
  ) {
    this.highWater = context.batchSize * 2;
    this.filterSubjects =
      filterSubjects === undefined || filterSubjects.length === 0 ? undefined : [...filterSubjects];
    if (start !== 'latest') {
      this.nextSequence = start.sequence;
      this.resolvedPolicy = policy;
    }
    this.pump(); // `latest()` is resolved now, at subscription
  }

  /** Whether the consumer reads only some subjects (so stream sequences have gaps). */
  get filtered(): boolean {
    return this.filterSubjects !== undefined;
  }

  async next(maxMessages = this.context.batchSize): Promise<readonly WalMessage[]> {
    if (!Number.isSafeInteger(maxMessages) || maxMessages <= 0) {
      throw new ConfigError('maxMessages', maxMessages, 'must be a positive integer');
    }
    for (;;) {
      if (this.closed) throw new ClosedError('WAL reader');
      if (this.queue.length > 0) {
        let batch: WalMessage[];
        if (this.queue.length <= maxMessages) {
          batch = this.queue;
          this.queue = [];
        } else {
          batch = this.queue.splice(0, maxMessages);
        }
        this.pump();
        return batch;
      }
      if (this.error !== undefined) throw this.error;
      this.pump();
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) timer.unsubscribe();
    this.timers.clear();
    void this.messages?.close();
    this.dropConsumer();
    this.context.release(this);
    this.wake();
  }

  /** Closes the reader because its WAL closed. */
  closeWith(): void {
    this.close();
  }

  /** The configuration of a consumer starting at `sequence` (public for tests). */
  consumerConfig(sequence: bigint): Partial<ConsumerConfig> {
    const { AckPolicy, DeliverPolicy } = this.context.modules.jetstream;
    const config: Partial<ConsumerConfig> = {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Number(sequence),
      mem_storage: true,
      inactive_threshold: 60_000 * 1_000_000, // ns: an abandoned consumer goes away by itself
    };
    const subjects = this.filterSubjects ?? [];
    if (subjects.length === 1) config.filter_subject = subjects[0] as string;
    else if (subjects.length > 1) config.filter_subjects = [...subjects];
    return config;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** Room for another pull request's worth of messages. */
  private hasRoom(): boolean {
    return this.queue.length + this.context.batchSize <= this.highWater;
  }

  /** Starts the fetch loop unless it runs, or the queue has no room for another request. */
  private pump(): void {
    if (this.pumping || this.closed || this.error !== undefined) return;
    if (!this.hasRoom()) return;
    this.pumping = true;
    this.run()
      .catch((err: unknown) => {
        this.error = err;
      })
      .finally(() => {
        this.pumping = false;
        this.wake();
      });
  }

  private async run(): Promise<void> {
    let delayMs = 100;
    while (!this.closed && this.hasRoom()) {
      try {
        await this.fetchOnce();
        delayMs = 100;
      } catch (err) {
        if (err instanceof CorruptRecordError) throw err;
        if (this.closed) return;
        this.context.logger.warn(
          { err, stream: this.context.stream, retryInMs: delayMs },
          'JetStream read failed; recreating the consumer',
        );
        this.dropConsumer();
        await sleep(this.context.scheduler, delayMs, (timer) => this.timers.add(timer));
        delayMs = Math.min(delayMs * 2, 2_000);
      }
    }
  }

  private async fetchOnce(): Promise<void> {
    const { js, jsm, stream } = this.context;
    if (this.nextSequence === undefined) {
      const info = await jsm.streams.info(stream);
      if (this.closed) return;
      const last = BigInt(info.state.last_seq);
      this.nextSequence = last + 1n;
      this.resolvedPolicy =
        last === 0n ? DeliverPolicy.all() : DeliverPolicy.startAfter(messageId(last));
    }
    // Every step is bounded: a fetch that neither delivers nor ends (its pull lost in a
    // reconnect) is stopped, and the consumer recreated, after twice the watchdog interval.
    const silenceMs = this.context.watchdogMs * 2 + 1000;
    if (this.consumer === undefined) {
      const info = await this.addConsumer(this.nextSequence);
      if (this.closed) {
        void jsm.consumers.delete(stream, info.name).catch(() => undefined);
        return;
      }
      this.consumerName = info.name;
      this.fresh = true;
      this.lastDelivery = 0;
      this.recreated++;
      // looked up once per consumer, not per fetch: the lookup is a request of its own
      const consumer = await this.bounded(js.consumers.get(stream, info.name), silenceMs);
      if (this.consumerName !== info.name) return; // dropped meanwhile: start over
      this.consumer = consumer;
    }
    const consumer = this.consumer;
    const room = this.highWater - this.queue.length;
    let handed = 0;
    let rejected = false;
    const options: FetchWithCallback = {
      max_messages: room,
      expires: this.context.watchdogMs,
      callback: (jm: JsMsg) => {
        if (rejected || this.closed) return;
        if (this.accept(jm)) {
          handed++;
          return;
        }
        rejected = true;
        void this.messages?.close(); // set before any message can arrive (a socket event)
      },
    };
    const fetched = await this.bounded(consumer.fetch(options), silenceMs);
    this.messages = fetched;
    if (rejected || this.closed) void fetched.close(); // closed while the fetch was being set up
    // The silence check runs once per interval and looks at progress; no timer per message.
    let silent = false;
    let timer: Subscription | undefined;
    let seen = -1;
    const check = (): void => {
      if (handed === seen) {
        silent = true;
        void fetched.close();
        return;
      }
      seen = handed;
      timer = this.context.scheduler.schedule(check, silenceMs);
    };
    check();
    let ended: void | Error;
    try {
      ended = await fetched.closed();
    } finally {
      timer?.unsubscribe();
      if (this.messages === fetched) this.messages = undefined;
    }
    if (this.closed || rejected) return;
    if (silent)
      throw new Error(`fetch from ${stream} neither delivered nor ended in ${silenceMs} ms`);
    if (ended instanceof Error) throw ended;
    if (handed === 0 && this.consumerName !== undefined && (await this.stalled(consumer))) {
      this.context.logger.warn(
        { stream, nextSequence: String(this.nextSequence) },
        'consumer stalled; recreating it after the last handed-over sequence',
      );
      this.dropConsumer();
    }
  }

  /**
   * Creates a consumer at `sequence`. A filtered consumer the client or the server refuses (a
   * server older than it announced, a cluster of mixed versions) is not retried as such: the
   * reader drops its filter and reads the whole stream, which is always correct.
   */
  private async addConsumer(sequence: bigint): Promise<{ name: string }> {
    const { jsm, stream } = this.context;
    try {
      return await jsm.consumers.add(stream, this.consumerConfig(sequence));
    } catch (err) {
      if (!this.filtered || !isRefusal(err)) throw err;
      this.context.logger.warn(
        { err, stream, filterSubjects: this.filterSubjects },
        'filtered consumer refused; reading the whole stream',
      );
      this.filterSubjects = undefined;
      return await jsm.consumers.add(stream, this.consumerConfig(sequence));
    }
  }

  /**
   * The watchdog's question after an empty fetch: is there a message at or after the next
   * sequence that this consumer should have delivered? Unfiltered: does the stream reach that
   * far. Filtered: the stream's sequences say nothing about the filter, so the consumer's own
   * count of matching messages still to deliver (`num_pending`) answers; a consumer that is gone
   * fails the request, which recreates it too.
   */
  private async stalled(consumer: Consumer): Promise<boolean> {
    const { jsm, stream } = this.context;
    const next = this.nextSequence ?? 0n;
    if (this.filtered) return (await consumer.info()).num_pending > 0;
    const info = await jsm.streams.info(stream);
    return BigInt(info.state.last_seq) >= next;
  }

  /** Queues a message in sequence order; false (and a dropped consumer) on a gap. */
  private accept(jm: JsMsg): boolean {
    const info = jm.info;
    const seq = BigInt(info.streamSequence);
    const verdict = classifyDelivery(
      {
        nextSequence: this.nextSequence as bigint,
        fresh: this.fresh,
        filtered: this.filtered,
        lastDelivery: this.lastDelivery,
      },
      seq,
      info.deliverySequence,
    );
    if (verdict === 'stale') return true;
    if (verdict === 'gap') {
      this.gap(
        this.filtered ? `delivery ${this.lastDelivery + 1}` : String(this.nextSequence),
        this.filtered ? `delivery ${info.deliverySequence}` : String(seq),
      );
      return false;
    }
    this.fresh = false;
    this.lastDelivery = info.deliverySequence;
    this.queue.push(decodeRecord(jm.data, seq, this.context.codec));
    this.nextSequence = seq + 1n;
    this.wake();
    return true;
  }

  private gap(expected: string, got: string): void {
    this.context.logger.warn(
      { stream: this.context.stream, expected, got },
      'sequence gap; recreating the consumer',
    );
    this.dropConsumer();
  }

  /** `promise`, or a rejection after `ms` (the request was lost: the caller recreates). */
  private bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.context.scheduler.schedule(
        () => reject(new Error(`JetStream request timed out after ${ms} ms`)),
        ms,
      );
      promise.then(
        (value) => {
          timer.unsubscribe();
          resolve(value);
        },
        (err: unknown) => {
          timer.unsubscribe();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private dropConsumer(): void {
    const name = this.consumerName;
    this.consumerName = undefined;
    this.consumer = undefined;
    if (name === undefined) return;
    void this.context.jsm.consumers.delete(this.context.stream, name).catch(() => undefined);
  }
}

/** Where a reader stands, for {@link classifyDelivery}. */
export interface DeliveryState {
  /** The stream sequence it hands over next (everything below was handed over). */
  readonly nextSequence: bigint;
  /** No message taken from the current consumer yet. */
  readonly fresh: boolean;
  /** The consumer reads some subjects only (stream sequences skip the others). */
  readonly filtered: boolean;
  /** The consumer's delivery sequence of the last message taken from it (0 when fresh). */
  readonly lastDelivery: number;
}

/**
 * @internal The reader's gap rule for a message at stream sequence `seq` that its consumer
 * delivered as its `deliverySequence`-th: `'stale'` below the next sequence (already handed
 * over), `'gap'` when something was skipped (the consumer is recreated after the last handed-over
 * sequence), else `'take'`. Unfiltered, a skip is a stream sequence above the next one, except
 * for a fresh consumer's first message (it starts at the first message still stored). Filtered,
 * stream sequences skip what the filter leaves out, so a skip is a delivery sequence other than
 * the next one of the consumer.
 */
export function classifyDelivery(
  state: DeliveryState,
  seq: bigint,
  deliverySequence: number,
): 'stale' | 'gap' | 'take' {
  if (seq < state.nextSequence) return 'stale';
  if (state.filtered) return deliverySequence === state.lastDelivery + 1 ? 'take' : 'gap';
  return seq > state.nextSequence && !state.fresh ? 'gap' : 'take';
}

/** A consumer configuration the client or the server refused (not a lost request). */
function isRefusal(err: unknown): boolean {
  const name = (err as { name?: unknown } | undefined)?.name;
  if (name === 'InvalidArgumentError') return true;
  if (name !== 'JetStreamApiError') return false;
  // `status` is the API's HTTP-like code (`code` is the numeric JetStream error code)
  return (err as { status?: unknown }).status === 400;
}
