/**
 * "Naive RxJS", as issue 4 describes it: what a user would write without rxwal — `bufferWhen` on
 * the time ticks, a sort of each batch, and `groupBy` for transactions.
 *
 * - `bufferWhen` re-subscribes its closing notifier to the shared log on every tick, so whether a
 *   tick ends its batch or opens the next one alternates; each tick in a batch releases, sorted,
 *   the data held before it.
 * - A transaction is a group keyed by its txn id that ends at its commit or rollback; a committed
 *   group becomes one Txn message. Abandoned transactions are never expired: their groups stay
 *   open (what hand-written `groupBy` code typically does), which changes nothing delivered on a
 *   W1-shaped log.
 *
 * `spec/bench/naive.spec.ts` checks it delivers what the operators deliver on W1-shaped logs.
 */
import {
  concatMap,
  connect,
  defer,
  EMPTY,
  filter,
  from,
  groupBy,
  mergeMap,
  NEVER,
  of,
  toArray,
  bufferWhen,
  type Observable,
  type OperatorFunction,
} from 'rxjs';

import { MessageType, type WalMessage } from '../lib/message/message.js';
import { buildTxnMessage } from '../lib/message/txnMessage.js';

const isTimeTick = (m: WalMessage): boolean => m.type === MessageType.TimeTick;
const endsTxn = (m: WalMessage): boolean =>
  m.type === MessageType.CommitTxn || m.type === MessageType.RollbackTxn;
const byTick = (a: WalMessage, b: WalMessage): number =>
  a.timeTick < b.timeTick ? -1 : a.timeTick > b.timeTick ? 1 : 0;
const NOT_IN_A_TXN = 'auto';

/** A committed transaction's messages (begin … commit) as one Txn message; nothing otherwise. */
function assemble(messages: WalMessage[]): Observable<WalMessage> {
  const begin = messages.find((m) => m.type === MessageType.BeginTxn);
  const end = messages[messages.length - 1];
  if (begin === undefined || end === undefined || end.type !== MessageType.CommitTxn) return EMPTY;
  const bodies = messages.filter((m) => m !== begin && m !== end);
  return of(buildTxnMessage(begin, bodies, end));
}

/** `log$.pipe(naiveScan('v1'))` delivers what the rxwal operators deliver on a W1-shaped log. */
export function naiveScan(vchannel: string): OperatorFunction<WalMessage, WalMessage> {
  return (log$) =>
    defer(() => {
      let held: WalMessage[] = []; // data waiting for the tick that releases it
      return log$.pipe(
        filter(
          (m) => isTimeTick(m) || vchannel === '' || m.vchannel === '' || m.vchannel === vchannel,
        ),
        connect((shared$) => shared$.pipe(bufferWhen(() => shared$.pipe(filter(isTimeTick))))),
        concatMap((batch) => {
          const out: WalMessage[] = [];
          for (const m of batch) {
            if (!isTimeTick(m)) {
              held.push(m);
              continue;
            }
            out.push(...held.sort(byTick), m);
            held = [];
          }
          return from(out);
        }),
        groupBy((m) => (m.txn === undefined ? NOT_IN_A_TXN : m.txn.txnId), {
          duration: (group) => (group.key === NOT_IN_A_TXN ? NEVER : group.pipe(filter(endsTxn))),
        }),
        mergeMap((group) =>
          group.key === NOT_IN_A_TXN ? group : group.pipe(toArray(), mergeMap(assemble)),
        ),
      );
    });
}
