import { Observable, type MonoTypeOperatorFunction } from 'rxjs';

import type { WalMessage } from '../message/message.js';
import { subscribeLinked } from '../internal/linkedObserver.js';
import { checkCheckpoint, comparePosition, type Checkpoint } from './checkpoint.js';

/**
 * Drops every message at or before a checkpoint in the delivered order (tick, then id): the
 * last stage of a resumed scanner, after transactions are assembled and the delivery stage ran,
 * so a transaction whose commit is at or before the checkpoint is assembled and dropped whole
 * and nothing of it stays buffered. `scanWal(wal, { resumeFrom })` reads from the checkpoint's
 * last-confirmed id and ends its pipeline with this operator.
 *
 * ```
 * source:  --a(@3#5)--T(@4#6)--b(@5#7)--|
 * resumeAfter({ timeTick: 4, id: 6 })
 * result:  ----------------------b------|
 * ```
 *
 * @param cp the checkpoint of the last message the consumer handled
 * @returns an operator that passes only the messages after `cp`
 * @throws ConfigError when `cp` is not a checkpoint
 *
 * @example
 * ```ts
 * switchableSource(wal, { deliverPolicy: DeliverPolicy.startFrom(cp.lastConfirmedId) })
 *   .pipe(reorderUntilTick(), txnBuffer(), resumeAfter(cp));
 * ```
 */
export function resumeAfter<M extends WalMessage>(cp: Checkpoint): MonoTypeOperatorFunction<M> {
  checkCheckpoint(cp, 'resumeFrom');
  return (source) =>
    new Observable<M>((subscriber) => {
      subscribeLinked(source, subscriber, {
        next(m) {
          if (comparePosition(m, cp) > 0) subscriber.next(m);
        },
      });
    });
}
