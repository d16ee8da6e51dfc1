import { Observable, type MonoTypeOperatorFunction } from 'rxjs';

import { ConfigError } from '../errors.js';
import { MessageType, type WalMessage } from '../message/message.js';
import { subscribeLinked } from '../internal/linkedObserver.js';
import type { ObservedOptions } from '../observability/observed.js';
import { resolveObserved } from '../observability/resolve.js';

/**
 * Keeps the consumer's vchannel (reference § 4.3 step 5): a data message is dropped iff both its
 * vchannel and `vchannel` are non-empty and differ. Time ticks and `''` (every-vchannel) messages
 * always pass; `''` as `vchannel` keeps everything.
 *
 * Metrics: every message is observed (`observeMessage`), every data message that passes is
 * counted as passed (`observePassedMessage`).
 *
 * ```
 * source:  --a(tt1)--b(ins v1)--c(ins v2)--d(ins '')--|
 * filterVChannel('v1')
 * result:  --a(tt1)--b(ins v1)------------d(ins '')--|
 * ```
 *
 * @param vchannel the consumer's vchannel; `''` for all
 * @param options logger and metrics
 * @returns an operator that drops other vchannels' data messages
 *
 * @example
 * ```ts
 * wal$.pipe(filterVChannel('by-dev-rootcoord-dml_0_v1'));
 * ```
 * @see scanWal
 */
export function filterVChannel<M extends WalMessage>(
  vchannel: string,
  options?: ObservedOptions,
): MonoTypeOperatorFunction<M> {
  if (typeof vchannel !== 'string') {
    throw new ConfigError('vchannel', vchannel, "must be a string ('' for every vchannel)");
  }
  const { metrics, scannerModel } = resolveObserved(options, 'filterVChannel');
  return (source) =>
    new Observable<M>((subscriber) => {
      subscribeLinked(source, subscriber, {
        next(m) {
          const model = scannerModel();
          metrics.observeMessage(model, m.type, m.size);
          if (m.type === MessageType.TimeTick) {
            subscriber.next(m);
            return;
          }
          if (vchannel !== '' && m.vchannel !== '' && m.vchannel !== vchannel) return;
          metrics.observePassedMessage(model, m.type, m.size);
          subscriber.next(m);
        },
      });
    });
}
