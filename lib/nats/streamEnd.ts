import type { SchedulerLike } from 'rxjs';

import type { TimeTick } from '../message/tso.js';
import { messageId } from '../message/messageId.js';
import type { Logger } from '../observability/logger.js';
import type { LogEnd } from '../wal/wal.js';

/** Where a stream ends: its last sequence and the highest time tick written. */
export interface StreamPosition {
  readonly sequence: bigint;
  readonly timeTick: TimeTick;
}

/** How often, at most, {@link StreamEnd.current} asks the server again (scheduler time). */
export const STREAM_END_REFRESH_MS = 1000;

/**
 * @internal Keeps where a JetStream stream ends for the synchronous `logEnd()` of a WAL: what
 * the writer of this process had acknowledged (exact, without a request) and what the server
 * said at the last refresh. A call finding the last refresh older than
 * {@link STREAM_END_REFRESH_MS} starts one in the background (one at a time) and answers with
 * what it knows now, so a scanner's lag report never waits for the network. Positions only move
 * forward.
 */
export class StreamEnd {
  private known: StreamPosition | undefined;
  private refreshedAt = -Infinity;
  private inFlight: Promise<LogEnd | undefined> | undefined;
  private closed = false;

  /**
   * @param ask asks the server where the stream ends; undefined for an empty stream or one
   *   that has not grown past `known` (so an unchanged stream costs one small request)
   * @param initial what the open already learned
   */
  constructor(
    private readonly ask: (
      known: StreamPosition | undefined,
    ) => Promise<StreamPosition | undefined>,
    private readonly scheduler: SchedulerLike,
    private readonly logger: Logger,
    initial: StreamPosition | undefined,
  ) {
    this.known = initial;
    this.refreshedAt = scheduler.now();
  }

  /** Takes a position the writer of this process had acknowledged. */
  observe(position: StreamPosition): void {
    const known = this.known;
    if (known === undefined) {
      this.known = position;
      return;
    }
    if (position.sequence <= known.sequence && position.timeTick <= known.timeTick) return;
    this.known = {
      sequence: position.sequence > known.sequence ? position.sequence : known.sequence,
      timeTick: position.timeTick > known.timeTick ? position.timeTick : known.timeTick,
    };
  }

  /** Where the stream ends as far as known now; refreshes in the background when that is old. */
  current(): LogEnd | undefined {
    if (!this.closed && this.scheduler.now() - this.refreshedAt >= STREAM_END_REFRESH_MS) {
      void this.refresh();
    }
    return this.logEnd();
  }

  /** Asks the server now (joining a request already under way); resolves with the new end. */
  refresh(): Promise<LogEnd | undefined> {
    if (this.inFlight !== undefined) return this.inFlight;
    this.refreshedAt = this.scheduler.now();
    const request = this.ask(this.known).then(
      (position) => {
        if (position !== undefined) this.observe(position);
        return this.logEnd();
      },
      (err: unknown) => {
        // a lag report is best effort: keep what is known, try again at the next interval
        this.logger.warn({ err }, 'could not learn where the stream ends');
        return this.logEnd();
      },
    );
    const done = request.finally(() => {
      if (this.inFlight === done) this.inFlight = undefined;
    });
    this.inFlight = done;
    return done;
  }

  /** No more refreshes (the WAL closed). */
  close(): void {
    this.closed = true;
  }

  private logEnd(): LogEnd | undefined {
    const known = this.known;
    if (known === undefined || known.sequence === 0n) return undefined;
    return { id: messageId(known.sequence), timeTick: known.timeTick };
  }
}
