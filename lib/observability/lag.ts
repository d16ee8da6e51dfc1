import { Observable, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';

import { MessageType, type WalMessage } from '../message/message.js';
import { sequenceOf } from '../message/messageId.js';
import { tso } from '../message/tso.js';
import { subscribeLinked } from '../internal/linkedObserver.js';
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
      let nextReportAt = -Infinity;
      subscribeLinked(source, subscriber, {
        next(m) {
          subscriber.next(m);
          // no timer (a scanner that never fails starts none): a burst of deliveries ends with
          // the time tick that released it, and that tick is reported
          const now = scheduler.now();
          if (now < nextReportAt && m.type !== MessageType.TimeTick) return;
          nextReportAt = now + LAG_REPORT_INTERVAL_MS;
          const end = wal.logEnd?.();
          if (end !== undefined) metrics.observeLag?.(scanner(), lagBehind(m, end));
        },
      });
    });
  };
}
