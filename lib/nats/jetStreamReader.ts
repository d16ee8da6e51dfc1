import type {
  ConsumerMessages,
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
  readonly batchSize: number;
  /** How long a fetch waits for messages before the watchdog checks the consumer (≥ 1000). */
  readonly watchdogMs: number;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
  /** Forgets the reader once it is closed. */
  readonly release: (reader: JetStreamReader) => void;
}

/** The start of a reader: a stream sequence, or "after the last message, looked up now". */
export type ReaderStart = { readonly sequence: bigint } | 'latest';

/**
 * Reads a stream from a sequence on, in order, with no gap and no duplicate, through ephemeral
 * consumers it creates itself: a fetch that ends empty while the stream holds more, a missed
 * heartbeat, a lost consumer or a sequence gap makes it recreate the consumer right after the
 * last sequence it handed over (its watchdog: ordered consumers on nats-server 2.9 were seen to
 * stall for good after a stream-leader kill).
 */
export class JetStreamReader implements WalReader {
  private closed = false;
  private error: unknown;
  private queue: WalMessage[] = [];
  private nextSequence: bigint | undefined;
  private consumerName: string | undefined;
  private fresh = false;
  private messages: ConsumerMessages | undefined;
  private pumping = false;
  private waiter: (() => void) | undefined;
  private readonly timers = new Set<Subscription>();
  /** Consumers recreated by the watchdog (for tests and logs). */
  recreated = 0;
  /** The policy with `latest()` replaced by where it starts, once that is known. */
  resolvedPolicy?: DeliverPolicy;

  constructor(
    private readonly context: ReaderContext,
    start: ReaderStart,
    policy: DeliverPolicy,
  ) {
    if (start !== 'latest') {
      this.nextSequence = start.sequence;
      this.resolvedPolicy = policy;
    }
    this.pump(); // `latest()` is resolved now, at subscription
  }

  async next(maxMessages = this.context.batchSize): Promise<readonly WalMessage[]> {
    if (!Number.isSafeInteger(maxMessages) || maxMessages <= 0) {
      throw new ConfigError('maxMessages', maxMessages, 'must be a positive integer');
    }
    for (;;) {
      if (this.closed) throw new ClosedError('WAL reader');
      if (this.queue.length > 0) {
        const batch =
          this.queue.length <= maxMessages ? this.queue : this.queue.slice(0, maxMessages);
        this.queue = batch === this.queue ? [] : this.queue.slice(maxMessages);
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

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** Starts the fetch loop unless it runs, or enough is queued for the consumer. */
  private pump(): void {
    if (this.pumping || this.closed || this.error !== undefined) return;
    if (this.queue.length >= this.context.batchSize) return;
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
    while (!this.closed && this.queue.length < this.context.batchSize) {
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
    if (this.consumerName === undefined) {
      const { AckPolicy, DeliverPolicy } = this.context.modules.jetstream;
      const info = await jsm.consumers.add(stream, {
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: Number(this.nextSequence),
        mem_storage: true,
        inactive_threshold: 60_000 * 1_000_000, // ns: an abandoned consumer goes away by itself
      });
      if (this.closed) {
        void jsm.consumers.delete(stream, info.name).catch(() => undefined);
        return;
      }
      this.consumerName = info.name;
      this.fresh = true;
      this.recreated++;
    }
    // Every step is bounded: a fetch that neither delivers nor ends (its pull lost in a
    // reconnect) is stopped, and the consumer recreated, after twice the watchdog interval.
    const silenceMs = this.context.watchdogMs * 2 + 1000;
    const consumer = await this.bounded(js.consumers.get(stream, this.consumerName), silenceMs);
    const messages = await this.bounded(
      consumer.fetch({ max_messages: this.context.batchSize, expires: this.context.watchdogMs }),
      silenceMs,
    );
    this.messages = messages;
    let handed = 0;
    let silent = false;
    let timer: Subscription | undefined;
    const arm = (): void => {
      timer?.unsubscribe();
      timer = this.context.scheduler.schedule(() => {
        silent = true;
        messages.stop();
      }, silenceMs);
    };
    arm();
    try {
      for await (const jm of messages) {
        if (this.closed) return;
        if (!this.accept(jm)) break;
        handed++;
        arm();
      }
    } finally {
      timer?.unsubscribe();
      this.messages = undefined;
    }
    if (silent)
      throw new Error(`fetch from ${stream} neither delivered nor ended in ${silenceMs} ms`);
    if (handed === 0 && !this.closed && this.consumerName !== undefined) {
      // The watchdog: an empty fetch while the stream holds more means a stalled consumer.
      const info = await jsm.streams.info(stream);
      if (BigInt(info.state.last_seq) >= (this.nextSequence ?? 0n)) {
        this.context.logger.warn(
          { stream, nextSequence: String(this.nextSequence), lastSequence: info.state.last_seq },
          'consumer stalled; recreating it after the last handed-over sequence',
        );
        this.dropConsumer();
      }
    }
  }

  /** Queues a message in sequence order; false (and a dropped consumer) on a gap. */
  private accept(jm: JsMsg): boolean {
    const seq = BigInt(jm.seq);
    const expected = this.nextSequence as bigint;
    if (seq < expected) return true; // a redelivery after a recreate: already handed over
    // A fresh consumer starts at the first message still stored at or after `expected`.
    if (seq > expected && !this.fresh) {
      this.context.logger.warn(
        { stream: this.context.stream, expected: String(expected), got: String(seq) },
        'sequence gap; recreating the consumer',
      );
      this.dropConsumer();
      return false;
    }
    this.fresh = false;
    this.queue.push(decodeRecord(jm.data, seq, this.context.codec));
    this.nextSequence = seq + 1n;
    this.wake();
    return true;
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
    if (name === undefined) return;
    void this.context.jsm.consumers.delete(this.context.stream, name).catch(() => undefined);
  }
}
