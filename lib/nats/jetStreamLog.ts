import type { JetStreamClient, JetStreamManager, PubAck } from '@nats-io/jetstream';
import type { SchedulerLike, Subscription } from 'rxjs';

import { FencedError, WalError } from '../errors.js';
import { sleep } from '../internal/backoff.js';
import type { WalMessage } from '../message/message.js';
import { sequenceOf } from '../message/messageId.js';
import type { Logger } from '../observability/logger.js';
import type { LogStorage } from '../wal/writer.js';
import type { PayloadCodec } from '../wire/payloadCodec.js';
import { encodeRecord } from '../wire/record.js';
import type { ChannelSubjects } from './subjects.js';

/** JetStream's "wrong last sequence" API error: another writer has appended. */
const WRONG_LAST_SEQUENCE = 10071;

/** What the log needs to publish. */
export interface JetStreamLogOptions {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly subjects: ChannelSubjects;
  readonly codec: PayloadCodec;
  readonly lastSequence: bigint;
  /** Distinguishes this writer's `Nats-Msg-Id`s from another writer's at the same sequence. */
  readonly writerToken: string;
  readonly publishTimeoutMs: number;
  readonly publishDeadlineMs: number;
  readonly maxInFlight: number;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
  /** Called once when the writer has lost its place: it must stop. */
  readonly onFailure: (err: FencedError) => void;
  /** Called for each acknowledged message, in sequence order (where the stream ends now). */
  readonly acknowledged?: (sequence: bigint, timeTick: bigint) => void;
}

interface Outgoing {
  readonly seq: bigint;
  readonly timeTick: bigint;
  readonly subject: string;
  readonly record: Uint8Array;
  readonly msgId: string;
}

/**
 * The writer's side of a stream: a {@link LogStorage} whose `write` publishes a batch in order,
 * each message fenced by its expected last sequence and carrying a `Nats-Msg-Id` derived from
 * the channel, the sequence and the writer, so a retried publish is deduplicated and a second
 * writer is refused. While the stream has no leader, publishes are retried with backoff until
 * the deadline.
 */
export class JetStreamLog implements LogStorage {
  /** Set once the writer has lost its place; every later write rejects with it. */
  failure: FencedError | undefined;
  closed = false;
  private lastSequence: bigint;
  private readonly timers = new Set<Subscription>();

  constructor(private readonly options: JetStreamLogOptions) {
    this.lastSequence = options.lastSequence;
  }

  nextSequence(): bigint {
    return this.lastSequence + 1n;
  }

  async write(messages: readonly WalMessage[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new FencedError('the WAL is closed');
    const { subjects, codec } = this.options;
    const outgoing: Outgoing[] = [];
    for (const m of messages) {
      const seq = sequenceOf(m.id) as bigint;
      outgoing.push({
        seq,
        timeTick: m.timeTick,
        subject:
          m.type === 'TimeTick'
            ? subjects.timeTick
            : m.vchannel === ''
              ? subjects.broadcast
              : subjects.vchannel(m.vchannel),
        record: encodeRecord(m, codec),
        msgId: `${subjects.stream}:${seq}:${this.options.writerToken}`,
      });
    }
    let acked = 0;
    try {
      acked = await this.publishAll(outgoing, (n) => (acked = n));
    } catch (err) {
      // Nothing was written and the stream said so: the writer keeps its place.
      if (acked === 0 && isDefiniteRefusal(err)) throw err;
      const fenced =
        err instanceof FencedError
          ? err
          : new FencedError(
              `the writer of ${subjects.stream} lost its place: ${acked} of ${outgoing.length} messages of a batch acknowledged before ${(err as Error)?.message ?? String(err)}; reopen the WAL`,
              { cause: err },
            );
      this.failure = fenced;
      this.options.onFailure(fenced);
      throw err;
    }
  }

  /** Stops retrying (the WAL is closing). */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) timer.unsubscribe();
    this.timers.clear();
  }

  /** Publishes in windows of `maxInFlight`; returns how many were acknowledged (all of them). */
  private async publishAll(
    items: readonly Outgoing[],
    progress: (n: number) => void,
  ): Promise<number> {
    const { publishDeadlineMs, scheduler, maxInFlight } = this.options;
    const deadline = scheduler.now() + publishDeadlineMs;
    let acked = 0;
    let delayMs = 50;
    while (acked < items.length) {
      const window = items.slice(acked, acked + maxInFlight);
      const results = await Promise.allSettled(window.map((item) => this.publish(item)));
      let failure: unknown;
      for (let i = 0; i < results.length; i++) {
        const result = results[i] as PromiseSettledResult<PubAck>;
        const item = window[i] as Outgoing;
        if (result.status === 'rejected') {
          failure = result.reason;
          break;
        }
        if (BigInt(result.value.seq) !== item.seq) {
          throw new FencedError(
            `${this.options.subjects.stream} acknowledged sequence ${result.value.seq} for the message the writer numbered ${item.seq}: another writer has appended`,
          );
        }
        acked++;
        this.lastSequence = item.seq;
        this.options.acknowledged?.(item.seq, item.timeTick);
        progress(acked);
      }
      if (failure === undefined) {
        delayMs = 50;
        continue;
      }
      if (isWrongLastSequence(failure)) {
        // Everything before this message is acknowledged, and its own earlier attempt would have
        // been answered as a duplicate: someone else wrote at this sequence.
        throw new FencedError(
          `another writer has appended to ${this.options.subjects.stream} (expected last sequence ${this.lastSequence})`,
          { cause: failure },
        );
      }
      if (!isRetryable(failure)) throw failure;
      if (this.closed || scheduler.now() + delayMs > deadline) {
        throw new WalError(
          'NATS_UNAVAILABLE',
          `${this.options.subjects.stream} did not acknowledge a publish within ${publishDeadlineMs} ms: ${(failure as Error)?.message ?? String(failure)}`,
          { cause: failure },
        );
      }
      this.options.logger.warn(
        { err: failure, acked, batch: items.length, retryInMs: delayMs },
        'publish failed; retrying',
      );
      await sleep(scheduler, delayMs, (timer) => {
        this.timers.add(timer);
      });
      delayMs = Math.min(delayMs * 2, 1_000);
    }
    return acked;
  }

  private publish(item: Outgoing): Promise<PubAck> {
    return this.options.js.publish(item.subject, item.record, {
      msgID: item.msgId,
      expect: { lastSequence: Number(item.seq - 1n), streamName: this.options.subjects.stream },
      timeout: this.options.publishTimeoutMs,
    });
  }
}

function apiCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const apiError = (err as { apiError?: () => { err_code?: number } }).apiError;
  return typeof apiError === 'function' ? apiError.call(err).err_code : undefined;
}

function isWrongLastSequence(err: unknown): boolean {
  return apiCode(err) === WRONG_LAST_SEQUENCE;
}

/** A refusal by the stream itself (an API error other than a missing leader): nothing was stored. */
function isDefiniteRefusal(err: unknown): boolean {
  return !(err instanceof FencedError) && !isRetryable(err) && apiCode(err) !== undefined;
}

/**
 * Failures of an unknown outcome while the cluster elects a leader or the client reconnects:
 * timeouts, no responders, 503s, a connection that is reconnecting or draining.
 */
function isRetryable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; message?: string };
  const text = `${e.name ?? ''} ${e.message ?? ''}`.toLowerCase();
  // The stream answered: only a missing leader is worth waiting for (limits also answer 503).
  if (apiCode(err) !== undefined) return /leader|temporarily|unavailable|not enabled/.test(text);
  return /timeout|no responders|not enabled|unavailable|disconnect|reconnect|connection|closed|503/.test(
    text,
  );
}
