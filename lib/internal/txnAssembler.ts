import { MessageType, type WalMessage } from '../message/message.js';
import { LOGICAL_BITS, type TimeTick } from '../message/tso.js';
import { buildTxnMessage } from '../message/txnMessage.js';
import type { TxnOutcome } from '../observability/metrics.js';
import { StableHeap } from './heap.js';

/** Module constants: compared per message, so no property loads (bench/README.md). */
const BEGIN_TXN = MessageType.BeginTxn;
const COMMIT_TXN = MessageType.CommitTxn;
const ROLLBACK_TXN = MessageType.RollbackTxn;

/** What the assembler reports besides its output: outcomes and the anomalies worth a warning. */
export interface TxnAssemblerEvents {
  outcome(outcome: TxnOutcome, txnId: bigint | undefined): void;
  anomaly(reason: string, m: WalMessage): void;
}

interface Builder<P> {
  readonly txnId: bigint;
  readonly begin: WalMessage<P>;
  readonly bodies: WalMessage<P>[];
  /** The keepalive as a tick offset (its ms on the physical part); undefined never expires. */
  readonly keepalive: TimeTick | undefined;
  size: number;
  /** Expired once a time tick ≥ this arrives; undefined never expires. */
  deadline: TimeTick | undefined;
  /** The key of its live entry in the deadline heap (≤ `deadline`). */
  armedAt: TimeTick | undefined;
}

/**
 * The txn buffer of reference § 4.5 as a plain class: turns begin/body/commit into one Txn
 * message, drops rollbacks, bodies without a begin and repeated commits, and expires
 * transactions whose keepalive passed. Deadlines are indexed in a heap, so a time tick costs
 * O(expired · log n), not O(open transactions).
 */
export class TxnAssembler<P = unknown> {
  private readonly open = new Map<bigint, Builder<P>>();
  /** Deadlines with lazy deletion: an entry is live iff its builder is open with that deadline. */
  private deadlines = new StableHeap<Builder<P>>();
  private finiteOpen = 0;
  private totalBytes = 0;

  constructor(private readonly events: TxnAssemblerEvents) {}

  /** Open transactions. */
  get openCount(): number {
    return this.open.size;
  }

  /** Σ size of the begins and bodies held. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Handles one released message; returns what to emit now (the message or its Txn), if anything. */
  handle(m: WalMessage<P>): WalMessage<P> | undefined {
    const txn = m.txn;
    if (txn === undefined) {
      this.events.outcome('autocommit', undefined);
      return m;
    }
    const builder = this.open.get(txn.txnId);
    switch (m.type) {
      case BEGIN_TXN:
        if (builder !== undefined) {
          this.events.anomaly('duplicate begin ignored', m);
          return undefined;
        }
        this.begin(m, txn.txnId, txn.keepaliveMs);
        return undefined;
      case COMMIT_TXN:
        if (builder === undefined) {
          this.events.anomaly(
            'commit without an open transaction ignored (may be a repeated commit)',
            m,
          );
          return undefined;
        }
        this.remove(builder);
        return this.build(builder, m);
      case ROLLBACK_TXN:
        if (builder !== undefined) {
          this.remove(builder);
          this.events.outcome('rolledBack', txn.txnId);
        }
        return undefined;
      default:
        if (builder === undefined) {
          this.events.anomaly('body without an open transaction dropped', m);
          return undefined;
        }
        builder.bodies.push(m);
        builder.size += m.size;
        this.totalBytes += m.size;
        this.setDeadline(builder, m.timeTick);
        return undefined;
    }
  }

  /** Expires every transaction whose deadline is ≤ `tt`; returns how many. */
  expire(tt: TimeTick): number {
    let expired = 0;
    const deadlines = this.deadlines;
    for (let key = deadlines.peekKey(); key !== undefined && key <= tt; key = deadlines.peekKey()) {
      const builder = deadlines.pop() as Builder<P>;
      if (builder.armedAt !== key || this.open.get(builder.txnId) !== builder) continue; // stale
      const deadline = builder.deadline as TimeTick;
      if (deadline > tt) {
        this.arm(builder, deadline); // its bodies slid the deadline on: wait for the new one
        continue;
      }
      this.remove(builder);
      this.events.outcome('expired', builder.txnId);
      expired++;
    }
    return expired;
  }

  /** Drops every open transaction; returns the bytes they held. */
  clear(): number {
    const bytes = this.totalBytes;
    this.open.clear();
    this.deadlines.clear();
    this.finiteOpen = 0;
    this.totalBytes = 0;
    return bytes;
  }

  private begin(m: WalMessage<P>, txnId: bigint, keepaliveMs: number): void {
    const finite = Number.isFinite(keepaliveMs);
    const builder: Builder<P> = {
      txnId,
      begin: m,
      bodies: [],
      keepalive: finite ? BigInt(Math.trunc(keepaliveMs)) << LOGICAL_BITS : undefined,
      size: m.size,
      deadline: undefined,
      armedAt: undefined,
    };
    this.open.set(txnId, builder);
    this.totalBytes += m.size;
    if (finite) this.finiteOpen++;
    this.setDeadline(builder, m.timeTick);
  }

  /** The deadline slides with each body: last body's (or the begin's) tick + keepalive. */
  private setDeadline(builder: Builder<P>, from: TimeTick): void {
    const keepalive = builder.keepalive;
    if (keepalive === undefined) return;
    const deadline = from + keepalive; // the offset was made a tick once, at the begin
    builder.deadline = deadline;
    // A later deadline needs no heap work now: the armed entry re-arms itself when it comes due.
    // That keeps a body O(1), however many transactions are open.
    if (builder.armedAt === undefined || deadline < builder.armedAt) this.arm(builder, deadline);
  }

  /** Puts one heap entry for `builder` at `deadline`; older entries of it become stale. */
  private arm(builder: Builder<P>, deadline: TimeTick): void {
    builder.armedAt = deadline;
    this.deadlines.push(deadline, builder);
    // Stale entries (finished or re-armed transactions) pile up; rebuild once they dominate.
    if (this.deadlines.size > 2 * this.finiteOpen + 64) this.compactDeadlines();
  }

  private compactDeadlines(): void {
    const live = new StableHeap<Builder<P>>();
    for (const builder of this.open.values()) {
      if (builder.armedAt !== undefined) live.push(builder.armedAt, builder);
    }
    this.deadlines = live;
  }

  private remove(builder: Builder<P>): void {
    this.open.delete(builder.txnId);
    this.totalBytes -= builder.size;
    if (builder.deadline !== undefined) this.finiteOpen--;
  }

  private build(builder: Builder<P>, commit: WalMessage<P>): WalMessage<P> | undefined {
    let txn: WalMessage<P>;
    try {
      txn = buildTxnMessage(builder.begin, builder.bodies, commit);
    } catch (err) {
      this.events.anomaly(`transaction could not be assembled: ${String(err)}`, commit);
      this.events.outcome('error', builder.txnId);
      return undefined;
    }
    // Outside the try: a throwing metrics sink is the caller's error, not a failed assembly.
    this.events.outcome('committed', builder.txnId);
    return txn;
  }
}
