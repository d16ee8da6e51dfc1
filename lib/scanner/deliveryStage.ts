import { Observable, type MonoTypeOperatorFunction } from 'rxjs';

import { MessageType, type WalMessage } from '../message/message.js';
import { subscribeLinked } from '../internal/linkedObserver.js';

/**
 * The not-persisted time-tick rule of the delivery stage (reference § 4.3 step 4.6): a persisted
 * time tick always passes, after the messages it released; a not-persisted one passes only when
 * it released nothing and nothing is waiting for the consumer — it exists only to move an idle
 * consumer's time forward.
 *
 * @param waiting how many messages wait for the consumer right now (0 for a push consumer)
 */
export function deliveryStage<M extends WalMessage>(
  waiting: () => number,
): MonoTypeOperatorFunction<M> {
  return (source) =>
    new Observable<M>((subscriber) => {
      let releasedSinceTick = 0;
      subscribeLinked(source, subscriber, {
        next(m) {
          if (m.type !== MessageType.TimeTick) {
            releasedSinceTick++;
            subscriber.next(m);
            return;
          }
          const idle = releasedSinceTick === 0 && waiting() === 0;
          releasedSinceTick = 0;
          if (m.persisted || idle) subscriber.next(m);
        },
      });
    });
}
