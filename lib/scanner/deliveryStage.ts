import { Observable, type MonoTypeOperatorFunction, type Subscriber } from 'rxjs';

import { MessageType, type WalMessage } from '../message/message.js';
import { LinkedSubscriber } from '../internal/linkedObserver.js';

/** A module constant: compared per message, so no property load (bench/README.md). */
const TIME_TICK = MessageType.TimeTick;

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
      new DeliverySubscriber(subscriber, waiting).linkTo(source);
    });
}

/** One subscription of {@link deliveryStage}: its own `next`, see {@link LinkedSubscriber}. */
class DeliverySubscriber<M extends WalMessage> extends LinkedSubscriber<M> {
  private releasedSinceTick = 0;

  constructor(
    destination: Subscriber<M>,
    private readonly waiting: () => number,
  ) {
    super(destination);
  }

  next(m: M): void {
    if (this.closed) return;
    try {
      if (m.type !== TIME_TICK) {
        this.releasedSinceTick++;
        this.destination.next(m);
        return;
      }
      const idle = this.releasedSinceTick === 0 && this.waiting() === 0;
      this.releasedSinceTick = 0;
      if (m.persisted || idle) this.destination.next(m);
    } catch (err) {
      this.error(err);
    }
  }
}
