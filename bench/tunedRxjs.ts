/**
 * "Tuned RxJS": a careful hand-written RxJS pipeline that delivers the same messages from a
 * log read in order — filter the vchannel, cut the stream into batches at each time tick with
 * `buffer`, sort each batch by tick (carrying what the tick does not release to the next batch),
 * and assemble transactions in a `scan` over a `Map`, expiring them by scanning the map on each
 * tick. It is not the naive baseline (see naive.ts) but a reference row of the bench
 * table: what good hand-written RxJS reaches. `spec/bench/naive.spec.ts` checks it delivers what
 * the operators deliver on W1-shaped logs (which hold no duplicate ids: this code, like most
 * hand-written code, does not deduplicate).
 */
import { buffer, concatMap, connect, defer, filter, from, scan, type OperatorFunction } from 'rxjs';

import { MessageType, type WalMessage } from '../lib/message/message.js';
import type { TimeTick } from '../lib/message/tso.js';
import { buildTxnMessage } from '../lib/message/txnMessage.js';

interface NaiveTxn {
  begin: WalMessage;
  bodies: WalMessage[];
  deadline: bigint | undefined;
}

interface NaiveState {
  /** Messages a tick did not release yet. */
  pending: WalMessage[];
  lastTick: TimeTick;
  txns: Map<bigint, NaiveTxn>;
  /** What this batch delivers. */
  out: WalMessage[];
}

const isTimeTick = (m: WalMessage): boolean => m.type === MessageType.TimeTick;

const deadlineOf = (m: WalMessage): bigint | undefined => {
  const keepaliveMs = m.txn?.keepaliveMs ?? Infinity;
  return Number.isFinite(keepaliveMs)
    ? m.timeTick + (BigInt(Math.trunc(keepaliveMs)) << 18n)
    : undefined;
};

/**
 * The tuned pipeline: `log$.pipe(tunedRxjsScan('v1'))` delivers what
 * `log$.pipe(filterVChannel('v1'), reorderUntilTick(), txnBuffer())` delivers on a log without
 * duplicate ids.
 */
export function tunedRxjsScan(vchannel: string): OperatorFunction<WalMessage, WalMessage> {
  // defer: each subscription gets its own transaction map
  return (log$) =>
    defer(() =>
      log$.pipe(
        filter(
          (m) => isTimeTick(m) || vchannel === '' || m.vchannel === '' || m.vchannel === vchannel,
        ),
        // One batch per time tick: the messages since the previous tick, then the tick itself.
        connect((shared$) => shared$.pipe(buffer(shared$.pipe(filter(isTimeTick))))),
        scan(
          (state: NaiveState, batch: WalMessage[]): NaiveState => {
            const tick = batch[batch.length - 1];
            const data = batch.filter((m) => !isTimeTick(m) && m.timeTick >= state.lastTick);
            if (tick === undefined || !isTimeTick(tick) || tick.timeTick < state.lastTick) {
              return { ...state, pending: [...state.pending, ...data], out: [] };
            }
            const all = [...state.pending, ...data].sort((a, b) =>
              a.timeTick < b.timeTick ? -1 : a.timeTick > b.timeTick ? 1 : 0,
            );
            const released = all.filter((m) => m.timeTick <= tick.timeTick);
            const pending = all.filter((m) => m.timeTick > tick.timeTick);
            const txns = state.txns;
            const out: WalMessage[] = [];
            for (const m of released) {
              if (m.txn === undefined) {
                out.push(m);
                continue;
              }
              const open = txns.get(m.txn.txnId);
              if (m.type === MessageType.BeginTxn) {
                if (open === undefined)
                  txns.set(m.txn.txnId, { begin: m, bodies: [], deadline: deadlineOf(m) });
              } else if (m.type === MessageType.CommitTxn) {
                if (open !== undefined) {
                  txns.delete(m.txn.txnId);
                  out.push(buildTxnMessage(open.begin, open.bodies, m));
                }
              } else if (m.type === MessageType.RollbackTxn) {
                txns.delete(m.txn.txnId);
              } else if (open !== undefined) {
                open.bodies.push(m);
                open.deadline = deadlineOf(m);
              }
            }
            for (const [txnId, open] of txns) {
              if (open.deadline !== undefined && open.deadline <= tick.timeTick) txns.delete(txnId);
            }
            out.push(tick);
            return { pending, lastTick: tick.timeTick, txns, out };
          },
          { pending: [], lastTick: 0n, txns: new Map<bigint, NaiveTxn>(), out: [] },
        ),
        concatMap((state) => from(state.out)),
      ),
    );
}
