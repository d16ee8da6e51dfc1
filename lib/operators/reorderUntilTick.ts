import { Observable, type MonoTypeOperatorFunction, type Subscriber } from 'rxjs';

import { MessageType, type WalMessage } from '../message/message.js';
import { ReorderBuffer } from '../internal/reorderBuffer.js';
import { LinkedSubscriber } from '../internal/linkedObserver.js';
import type { ObservedOptions } from '../observability/observed.js';
import { logFields, resolveObserved, type Observed } from '../observability/resolve.js';

/** A module constant: compared per message, so no property load (bench/README.md). */
const TIME_TICK = MessageType.TimeTick;

/** Options of {@link reorderUntilTick}. */
export interface ReorderOptions extends ObservedOptions {}

/**
 * Puts messages back in time-tick order (reference § 4.4). Data messages wait in a heap by tick;
 * a time tick `T` releases, in tick order, every waiting message with tick ≤ `T`, then itself.
 *
 * - Equal ticks keep their arrival order (stable).
 * - A data message with a tick below the last released time tick is a *violation*: dropped,
 *   logged and counted (`observeTimeTickViolation`). Equal is allowed.
 * - A message whose id is already waiting is a *duplicate*: dropped and logged.
 * - A time tick lower than one already released is dropped without being emitted: it carries no
 *   news, and released ticks never go backwards (`lastPopTimeTick` is monotonic).
 * - Messages still waiting when the source completes, errors or is unsubscribed were never
 *   confirmed by a time tick and are dropped; the reorder-buffer byte counter returns to 0.
 *
 * ```
 * source:  --a(ins@3)--b(ins@2)--T(tt4)-------c(ins@5)--U(tt5)--|
 * reorderUntilTick()
 * result:  ----------------------(b a T)-------------------(c U)--|
 * ```
 *
 * @param options logger, metrics (`addReorderBufferBytes`, `observeTimeTickViolation`)
 * @returns an operator that emits data messages only once a time tick confirms them
 *
 * @example
 * ```ts
 * wal$.pipe(filterVChannel('v1'), reorderUntilTick(), txnBuffer());
 * ```
 * @see txnBuffer
 */
export function reorderUntilTick<M extends WalMessage>(
  options?: ReorderOptions,
): MonoTypeOperatorFunction<M> {
  const observed = resolveObserved(options, 'reorderUntilTick');
  return (source) =>
    new Observable<M>((subscriber) => {
      const buffer = new ReorderBuffer<unknown>();
      subscriber.add(() => {
        const held = buffer.clear();
        if (held !== 0) observed.metrics.addReorderBufferBytes(-held);
      });
      new ReorderSubscriber(subscriber, buffer, observed).linkTo(source);
    });
}

/** One subscription of {@link reorderUntilTick}: its own `next`, see {@link LinkedSubscriber}. */
class ReorderSubscriber<M extends WalMessage> extends LinkedSubscriber<M> {
  constructor(
    destination: Subscriber<M>,
    private readonly buffer: ReorderBuffer<unknown>,
    private readonly observed: Observed,
  ) {
    super(destination);
  }

  next(m: M): void {
    if (this.closed) return;
    try {
      if (m.type === TIME_TICK) this.release(m);
      else this.hold(m);
    } catch (err) {
      this.error(err);
    }
  }

  /** Emits what the time tick `tick` releases, in tick order, then the tick itself. */
  private release(tick: M): void {
    const { buffer, destination } = this;
    const tt = tick.timeTick;
    if (tt < buffer.lastPopTimeTick) {
      const { logger } = this.observed;
      if (logger.isLevelEnabled('debug')) {
        logger.debug(logFields(tick), 'time tick below the last released one dropped');
      }
      return;
    }
    buffer.release(tt);
    const metrics = this.observed.activeMetrics;
    for (let r = buffer.popAtMost(tt); r !== undefined; r = buffer.popAtMost(tt)) {
      if (metrics !== undefined) metrics.addReorderBufferBytes(-r.size); // follows the buffer
      destination.next(r);
      if (this.closed) return;
    }
    // A later time tick pushed from downstream during this release went out first: this one
    // would go backwards now (the rule above for late ticks).
    if (tt >= buffer.lastPopTimeTick) destination.next(tick);
  }

  /** Buffers a data message until a time tick releases it, or drops and reports it. */
  private hold(m: M): void {
    const { buffer, observed } = this;
    const rejection = buffer.push(m);
    if (rejection === undefined) {
      observed.activeMetrics?.addReorderBufferBytes(m.size);
      return;
    }
    if (rejection === 'violation') {
      observed.activeMetrics?.observeTimeTickViolation(observed.scannerModel(), m.type);
      observed.logger.warn(
        { ...logFields(m), lastPopTimeTick: buffer.lastPopTimeTick.toString() },
        'time tick violation: message below the last released time tick dropped',
      );
    } else {
      observed.logger.warn(logFields(m), 'duplicate message id in the reorder buffer dropped');
    }
  }
}
