import {
  Observable,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
  type Subscriber,
} from 'rxjs';

import { MessageType, type WalMessage } from '../message/message.js';
import { sequenceOf } from '../message/messageId.js';
import { tso } from '../message/tso.js';
import { LinkedSubscriber } from '../internal/linkedObserver.js';
import type { LogEnd, ReadableWal } from '../wal/wal.js';
import { noopMetrics, type ScannerInfo, type ScannerLag, type ScannerMetrics } from './metrics.js';

/** Between time ticks a scanner reports its lag at most this often (scheduler time). */
export const LAG_REPORT_INTERVAL_MS = 1000;

/**
 * How far a delivered message is behind the end of its log: the highest tick written minus its
 * tick (physical milliseconds, as seconds, never negative), and the records after its id when
 * ids are numeric.
 */
export function lagBehind(m: WalMessage, end: LogEnd): ScannerLag {
  const ms = tso.physical(end.timeTick) - tso.physical(m.timeTick);
  const endSeq = sequenceOf(end.id);
  const seq = sequenceOf(m.id);
  const messages =
    endSeq === undefined || seq === undefined
      ? undefined
      : Number(endSeq > seq ? endSeq - seq : 0n);
  return { seconds: Math.max(0, ms) / 1000, ...(messages === undefined ? {} : { messages }) };
}

/**
 * Reports the scanner's lag (`metrics.observeLag`) as messages pass: on the first, on every time
 * tick, and for data messages at most every {@link LAG_REPORT_INTERVAL_MS}. Does nothing when the sink has no `observeLag` or
 * the WAL no `logEnd`.
 */
export function reportLag<M extends WalMessage>(
  wal: ReadableWal,
  scanner: () => ScannerInfo,
  metrics: ScannerMetrics,
  scheduler: SchedulerLike,
): MonoTypeOperatorFunction<M> {
  return (source) => {
    if (metrics === noopMetrics || metrics.observeLag === undefined || wal.logEnd === undefined)
      return source;
    return new Observable<M>((subscriber) => {
      new LagSubscriber(subscriber, wal, scanner, metrics, scheduler).linkTo(source);
    });
  };
}

/** One subscription of {@link reportLag}: its own `next`, see {@link LinkedSubscriber}. */
class LagSubscriber<M extends WalMessage> extends LinkedSubscriber<M> {
  private nextReportAt = -Infinity;

  constructor(
    destination: Subscriber<M>,
    private readonly wal: ReadableWal,
    private readonly scanner: () => ScannerInfo,
    private readonly metrics: ScannerMetrics,
    private readonly scheduler: SchedulerLike,
  ) {
    super(destination);
  }

  next(m: M): void {
    if (this.closed) return;
    try {
      this.destination.next(m);
      // no timer (a scanner that never fails starts none): a burst of deliveries ends with
      // the time tick that released it, and that tick is reported
      const now = this.scheduler.now();
      if (now < this.nextReportAt && m.type !== MessageType.TimeTick) return;
      this.nextReportAt = now + LAG_REPORT_INTERVAL_MS;
      const end = this.wal.logEnd?.();
      if (end !== undefined) this.metrics.observeLag?.(this.scanner(), lagBehind(m, end));
    } catch (err) {
      this.error(err);
    }
  }
}
