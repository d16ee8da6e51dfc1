import { Observable, type MonoTypeOperatorFunction } from 'rxjs';

import { freezeMessage } from '../message/createMessage.js';
import { MessageType, type WalMessage } from '../message/message.js';
import { subscribeLinked } from '../internal/linkedObserver.js';
import { deliverFilterPredicate, type DeliverFilter } from '../options/deliverFilter.js';

/**
 * Keeps the messages that pass every deliver filter (reference § 2.3): the filters are AND-ed in
 * list order; an empty list keeps everything. Applied to every message, time ticks included, so a
 * filtered-out time tick releases nothing downstream.
 *
 * A transaction's begin and bodies pass a tick filter (its commit alone decides), so a commit
 * the filters reject is not simply dropped — a downstream {@link txnBuffer} would then hold the
 * begin and bodies until their keepalive, for ever with keepalive `Infinity`. It is replaced by a
 * `RollbackTxn` with the commit's id, tick, vchannel and txn: for this consumer the transaction
 * is rolled back and discarded whole. (A rollback always passes: no filter judges it.)
 *
 * ```
 * source:  --a(tt1)--b(ins@2)--c(tt2)--d(ins@3)--|
 * filterMessages([DeliverFilter.timeTickGT(1n)])
 * result:  ----------b(ins@2)--c(tt2)--d(ins@3)--|
 *
 * source:  --B(begin@1)--x(ins@1 txn)--C(commit@1)--|
 * filterMessages([DeliverFilter.timeTickGT(1n)])
 * result:  --B(begin@1)--x(ins@1 txn)--R(rollback@1)--|
 * ```
 *
 * @param filters built with {@link DeliverFilter}; checked eagerly (ConfigError on a bad one)
 * @returns an operator that drops the messages the filters reject (a rejected commit becomes a
 *   rollback of its transaction)
 *
 * @example
 * ```ts
 * wal$.pipe(filterMessages([DeliverFilter.messageType('Insert')]));
 * ```
 * @see scanWal
 */
export function filterMessages<M extends WalMessage>(
  filters: readonly DeliverFilter[],
): MonoTypeOperatorFunction<M> {
  const keep = deliverFilterPredicate(filters);
  if (filters.length === 0) return (source) => source; // keeps everything: no stage at all
  return (source) =>
    new Observable<M>((subscriber) => {
      subscribeLinked(source, subscriber, {
        next(m) {
          if (keep(m)) subscriber.next(m);
          else if (m.type === MessageType.CommitTxn && m.txn !== undefined)
            subscriber.next(asRollback(m));
        },
      });
    });
}

/** The rollback that discards a transaction whose commit the filters rejected. */
function asRollback<M extends WalMessage>(commit: M): M {
  return freezeMessage({ ...commit, type: MessageType.RollbackTxn }) as M;
}
