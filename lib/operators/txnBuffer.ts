import { Observable, type MonoTypeOperatorFunction, type Subscriber } from 'rxjs';

import { MessageType, type WalMessage } from '../message/message.js';
import { LinkedSubscriber } from '../internal/linkedObserver.js';
import { TxnAssembler } from '../internal/txnAssembler.js';
import type { ObservedOptions } from '../observability/observed.js';
import type { ScannerMetrics } from '../observability/metrics.js';
import { logFields, resolveObserved } from '../observability/resolve.js';

/** A module constant: compared per message, so no property load (bench/README.md). */
const TIME_TICK = MessageType.TimeTick;

/** Options of {@link txnBuffer}. */
export interface TxnBufferOptions extends ObservedOptions {}

/**
 * Turns transactions into single messages (reference § 4.5, § 1.12). Expects messages in tick
 * order, as {@link reorderUntilTick} releases them.
 *
 * - A message without a transaction passes at once (an auto-commit).
 * - `BeginTxn` opens a transaction (a repeated begin is ignored: the first wins); bodies join it
 *   (a body without an open transaction is dropped); `CommitTxn` emits one `Txn` message — the
 *   commit's id, tick and last-confirmed id, the begin's vchannel, bodies re-stamped with the
 *   commit's tick — at the commit's position; a commit without an open transaction is ignored.
 * - `RollbackTxn` drops the transaction.
 * - On each time tick `T`, after the messages it released, every transaction whose deadline (last
 *   body's tick, or the begin's, plus the keepalive) is ≤ `T` expires and is dropped; a keepalive
 *   of `Infinity` never expires. Then `T` passes.
 * - Transactions still open when the subscription ends are dropped; the txn byte counter
 *   returns to 0.
 *
 * ```
 * source:  --B(begin 7)--x(ins 7)--C(commit 7)--T(tt)--|
 * txnBuffer()
 * result:  ------------------------X(Txn 7 [x])--T(tt)--|
 * ```
 *
 * @param options logger, metrics (`observeTxn`, `addTxnBufferBytes`)
 * @returns an operator that emits `TxnMessage`s on commit and drops rolled-back or expired ones
 *
 * @example
 * ```ts
 * wal$.pipe(reorderUntilTick(), txnBuffer()).subscribe((m) => {
 *   if (isTxnMessage(m)) applyAll(m.body); else apply(m);
 * });
 * ```
 * @see reorderUntilTick
 */
export function txnBuffer<M extends WalMessage>(
  options?: TxnBufferOptions,
): MonoTypeOperatorFunction<M> {
  const { logger, metrics, activeMetrics } = resolveObserved(options, 'txnBuffer');
  return (source) =>
    new Observable<M>((subscriber) => {
      const assembler = new TxnAssembler<unknown>({
        outcome: (outcome, txnId) => {
          metrics.observeTxn(outcome);
          if (outcome === 'expired')
            logger.info({ txnId: String(txnId) }, 'transaction expired and dropped');
        },
        anomaly: (reason, m) => logger.warn(logFields(m), reason),
      });
      let reportedBytes = 0;
      const reportBytes = (): void => {
        const bytes = assembler.bytes;
        if (bytes !== reportedBytes) {
          metrics.addTxnBufferBytes(bytes - reportedBytes);
          reportedBytes = bytes;
        }
      };
      subscriber.add(() => {
        assembler.clear();
        reportBytes();
      });
      new TxnBufferSubscriber(subscriber, assembler, reportBytes, activeMetrics).linkTo(source);
    });
}

/** One subscription of {@link txnBuffer}: its own `next`, see {@link LinkedSubscriber}. */
class TxnBufferSubscriber<M extends WalMessage> extends LinkedSubscriber<M> {
  constructor(
    destination: Subscriber<M>,
    private readonly assembler: TxnAssembler<unknown>,
    private readonly reportBytes: () => void,
    /** Undefined when nothing counts: see `Observed.activeMetrics`. */
    private readonly metrics: ScannerMetrics | undefined,
  ) {
    super(destination);
  }

  next(m: M): void {
    if (this.closed) return;
    try {
      if (m.type === TIME_TICK) {
        this.assembler.expire(m.timeTick);
        this.reportBytes();
        this.destination.next(m);
        return;
      }
      if (m.txn === undefined) {
        // An auto-commit passes as it is and changes no buffered bytes.
        this.metrics?.observeTxn('autocommit');
        this.destination.next(m);
        return;
      }
      const out = this.assembler.handle(m);
      this.reportBytes();
      if (out !== undefined) this.destination.next(out);
    } catch (err) {
      this.error(err);
    }
  }
}
