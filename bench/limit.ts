/**
 * "The limit": the semantics of `filterVChannel(v) → reorderUntilTick() → txnBuffer()` written as
 * one plain `for` loop over an array — no RxJS, no per-message allocation it can avoid. It is the
 * baseline every throughput figure of the benchmark is divided by, and `spec/bench/limit.spec.ts`
 * proves its output equals the operators' output.
 *
 * The rules (reference § 4.3–4.5, as lib/operators implement them):
 * - vchannel: a data message is dropped iff both its vchannel and `vchannel` are non-empty and
 *   differ; time ticks always pass;
 * - reorder: data messages wait in a min-heap by (tick, arrival); a message below the last
 *   released tick is a violation (dropped; equal is allowed); an id already waiting is a duplicate
 *   (dropped); a time tick below the last released one is dropped without effect; a time tick `T`
 *   releases every message with tick ≤ `T` in order, then passes itself;
 * - transactions, on released messages: no txn → delivered; BeginTxn opens (a repeated begin is
 *   ignored); a body joins an open txn (else dropped) and slides its deadline; CommitTxn delivers
 *   the `Txn` message built by `buildTxnMessage` (no open txn → ignored); RollbackTxn drops it;
 *   after the released messages, each time tick expires every txn whose deadline (last begin/body
 *   tick + keepalive) is ≤ `T`; a keepalive of Infinity never expires.
 */
import { MessageType, type WalMessage } from '../lib/message/message.js';
import type { TimeTick } from '../lib/message/tso.js';
import { buildTxnMessage } from '../lib/message/txnMessage.js';

const TIME_TICK = MessageType.TimeTick;
const BEGIN = MessageType.BeginTxn;
const COMMIT = MessageType.CommitTxn;
const ROLLBACK = MessageType.RollbackTxn;

/**
 * A binary min-heap by (bigint key, arrival sequence) over parallel arrays. The arrays never
 * shrink: a pop only moves `size`, so a steady state allocates nothing.
 */
class KeyHeap<T> {
  keys: TimeTick[] = [];
  seqs: number[] = [];
  values: (T | undefined)[] = [];
  size = 0;
  private nextSeq = 0;

  push(key: TimeTick, value: T): void {
    const keys = this.keys;
    const seqs = this.seqs;
    const values = this.values;
    const seq = this.nextSeq++;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentKey = keys[parent] as TimeTick;
      if (parentKey < key || (parentKey === key && (seqs[parent] as number) < seq)) break;
      keys[i] = parentKey;
      seqs[i] = seqs[parent] as number;
      values[i] = values[parent];
      i = parent;
    }
    keys[i] = key;
    seqs[i] = seq;
    values[i] = value;
  }

  /** Removes and returns the smallest; the caller checks `size > 0` first. */
  pop(): T {
    const keys = this.keys;
    const seqs = this.seqs;
    const values = this.values;
    const top = values[0] as T;
    const size = --this.size;
    const lastKey = keys[size] as TimeTick;
    const lastSeq = seqs[size] as number;
    const lastValue = values[size];
    values[size] = undefined; // let the message go
    if (size === 0) {
      this.nextSeq = 0;
      return top;
    }
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size) {
        const leftKey = keys[child] as TimeTick;
        const rightKey = keys[right] as TimeTick;
        if (
          rightKey < leftKey ||
          (rightKey === leftKey && (seqs[right] as number) < (seqs[child] as number))
        )
          child = right;
      }
      const childKey = keys[child] as TimeTick;
      if (lastKey < childKey || (lastKey === childKey && lastSeq < (seqs[child] as number))) break;
      keys[i] = childKey;
      seqs[i] = seqs[child] as number;
      values[i] = values[child];
      i = child;
    }
    keys[i] = lastKey;
    seqs[i] = lastSeq;
    values[i] = lastValue;
    return top;
  }

  reset(): void {
    this.keys = [];
    this.seqs = [];
    this.values = [];
    this.size = 0;
    this.nextSeq = 0;
  }
}

/** An open transaction. */
interface OpenTxn {
  readonly txnId: bigint;
  readonly begin: WalMessage;
  readonly bodies: WalMessage[];
  /** keepalive as a tick offset (`ms << 18`); undefined never expires. */
  readonly keepalive: TimeTick | undefined;
  deadline: TimeTick | undefined;
}

/**
 * Runs the limit over `messages` for a consumer of `vchannel` (`''`: every vchannel); returns how
 * many messages it delivered. With `out`, the delivered messages are also pushed onto it (tests).
 *
 * `warmEvery` > 0 makes a reference, not the limit: before each stretch of that many messages, a
 * tight loop reads the id key and time tick of those the consumer keeps, as scanWal's source does
 * with each batch (lib/internal/warmMessages.ts). 0, the default, is the plain loop every figure
 * is divided by; it runs the stretch loop once, over the whole array.
 */
export function runLimit(
  messages: readonly WalMessage[],
  vchannel: string,
  out?: WalMessage[],
  warmEvery = 0,
): number {
  const heap = new KeyHeap<WalMessage>();
  const waitingIds = new Set<string>();
  let lastPop: TimeTick = 0n;
  const open = new Map<bigint, OpenTxn>();
  let deadlines = new KeyHeap<OpenTxn>();
  let finiteOpen = 0;
  let delivered = 0;
  const filterAll = vchannel === '';

  const n = messages.length;
  const stretch = warmEvery > 0 ? warmEvery : n;
  for (let start = 0; start < n; start += stretch) {
    const end = Math.min(n, start + stretch);
    if (warmEvery > 0) warmth += warmKept(messages, start, end, filterAll, vchannel);
    for (let i = start; i < end; i++) {
      const m = messages[i] as WalMessage;
      if (m.type !== TIME_TICK) {
        const v = m.vchannel;
        if (!filterAll && v !== '' && v !== vchannel) continue;
        const tick = m.timeTick;
        if (tick < lastPop) continue; // time-tick violation
        const key = m.id.key;
        if (waitingIds.has(key)) continue; // duplicate of a waiting message
        waitingIds.add(key);
        heap.push(tick, m);
        continue;
      }

      const tt = m.timeTick;
      if (tt < lastPop) continue; // no news: released ticks never go backwards
      lastPop = tt;
      while (heap.size > 0 && (heap.keys[0] as TimeTick) <= tt) {
        const r = heap.pop();
        waitingIds.delete(r.id.key);
        const txn = r.txn;
        if (txn === undefined) {
          delivered++;
          if (out !== undefined) out.push(r);
          continue;
        }
        const txnId = txn.txnId;
        const state = open.get(txnId);
        const type = r.type;
        if (type === BEGIN) {
          if (state !== undefined) continue; // the first begin wins
          const keepaliveMs = txn.keepaliveMs;
          const finite = Number.isFinite(keepaliveMs);
          const keepalive = finite ? BigInt(Math.trunc(keepaliveMs)) << 18n : undefined;
          const opened: OpenTxn = { txnId, begin: r, bodies: [], keepalive, deadline: undefined };
          open.set(txnId, opened);
          if (keepalive !== undefined) {
            finiteOpen++;
            const deadline = r.timeTick + keepalive;
            opened.deadline = deadline;
            deadlines.push(deadline, opened);
          }
        } else if (type === COMMIT) {
          if (state === undefined) continue; // a repeated or late commit
          open.delete(txnId);
          if (state.keepalive !== undefined) finiteOpen--;
          const built = buildTxnMessage(state.begin, state.bodies, r);
          delivered++;
          if (out !== undefined) out.push(built);
        } else if (type === ROLLBACK) {
          if (state === undefined) continue;
          open.delete(txnId);
          if (state.keepalive !== undefined) finiteOpen--;
        } else {
          if (state === undefined) continue; // a body without an open transaction
          state.bodies.push(r);
          const keepalive = state.keepalive;
          if (keepalive !== undefined) {
            const deadline = r.timeTick + keepalive;
            state.deadline = deadline;
            deadlines.push(deadline, state);
            // Stale deadline entries pile up as bodies slide deadlines: rebuild once they dominate.
            if (deadlines.size > 2 * finiteOpen + 64) {
              deadlines = new KeyHeap<OpenTxn>();
              for (const live of open.values())
                if (live.deadline !== undefined) deadlines.push(live.deadline, live);
            }
          }
        }
      }
      // Expiry, after what this tick released: lazy deletion, an entry is live iff it is the
      // transaction's current deadline and the transaction is still open.
      while (deadlines.size > 0 && (deadlines.keys[0] as TimeTick) <= tt) {
        const key = deadlines.keys[0] as TimeTick;
        const state = deadlines.pop();
        if (state.deadline !== key || open.get(state.txnId) !== state) continue;
        open.delete(state.txnId);
        finiteOpen--;
      }
      delivered++;
      if (out !== undefined) out.push(m);
    }
  }
  heap.reset();
  return delivered;
}

/** What the warmed reference read, kept so that its reads are not dropped as unused. */
export let warmth = 0;

/** Reads the id key and time tick of the messages in `[start, end)` that the consumer keeps. */
function warmKept(
  messages: readonly WalMessage[],
  start: number,
  end: number,
  filterAll: boolean,
  vchannel: string,
): number {
  let sum = 0;
  for (let i = start; i < end; i++) {
    const m = messages[i] as WalMessage;
    const v = m.vchannel;
    if (!filterAll && v !== '' && v !== vchannel) continue;
    sum += m.id.key.length;
    if (m.timeTick === 0n) sum++;
  }
  return sum;
}
