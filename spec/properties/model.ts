/**
 * A deliberately simple reference model of a whole scan (reference § 2.2, § 4.3–4.5), written
 * for obviousness, not speed: arrays, `filter` and a stable `sort`. It reads the log once, in log
 * order, as one fault-free catch-up pass would, and says which data messages the consumer gets.
 */
import type { WalMessage } from '../../lib/message/message.js';

/** What the consumer asked for: its vchannel and its deliver filters (AND-ed). */
export interface ModelQuery {
  readonly vchannel: string;
  readonly timeTickGT?: bigint;
  readonly timeTickGTE?: bigint;
  readonly messageTypes?: readonly string[];
}

/** The model's answer. */
export interface ModelResult {
  /** Delivered data messages, described by {@link describe}, in delivery order. */
  readonly delivered: readonly string[];
  /** The ticks of the delivered data messages, in delivery order. */
  readonly deliveredTicks: readonly bigint[];
  /** Distinct ticks of the (persisted) time ticks the consumer receives. */
  readonly timeTicks: readonly bigint[];
  /** Σ size of the begins and bodies of transactions still open at the end of the log. */
  readonly openTxnBytes: number;
  /** Data messages dropped for a tick below the highest released time tick. */
  readonly violations: number;
}

const SYSTEM_TYPES = ['TimeTick', 'BeginTxn', 'CommitTxn', 'RollbackTxn', 'Txn'];

/** A data message as the tests compare it: `Insert#3@12`, `Txn#9@20[4,6]` (body ids). */
export function describe(m: WalMessage): string {
  const head = `${m.type}#${m.id.key}@${m.timeTick}`;
  const body = (m as { body?: readonly WalMessage[] }).body;
  return body === undefined ? head : `${head}[${body.map((b) => b.id.key).join(',')}]`;
}

/** Reference § 2.2: the commit alone decides by tick whether a transaction is in. */
function passesFilters(m: WalMessage, q: ModelQuery): boolean {
  const judgedByTick = m.txn === undefined || m.type === 'CommitTxn';
  if (judgedByTick && q.timeTickGT !== undefined && !(m.timeTick > q.timeTickGT)) return false;
  if (judgedByTick && q.timeTickGTE !== undefined && !(m.timeTick >= q.timeTickGTE)) return false;
  if (q.messageTypes !== undefined && !SYSTEM_TYPES.includes(m.type))
    return q.messageTypes.includes(m.type);
  return true;
}

interface OpenTxn {
  readonly begin: WalMessage;
  readonly bodies: WalMessage[];
  lastTick: bigint;
}

/** The expected output of scanning `log` (in log order) for `query`. */
export function scanModel(log: readonly WalMessage[], query: ModelQuery): ModelResult {
  let waiting: WalMessage[] = []; // arrival order
  let highestReleased = 0n;
  let violations = 0;
  const open = new Map<bigint, OpenTxn>();
  const delivered: WalMessage[] = [];
  const timeTicks = new Set<bigint>();

  const assemble = (m: WalMessage): void => {
    if (m.txn === undefined) return void delivered.push(m);
    const txn = open.get(m.txn.txnId);
    if (m.type === 'BeginTxn') {
      if (txn === undefined) open.set(m.txn.txnId, { begin: m, bodies: [], lastTick: m.timeTick });
    } else if (m.type === 'CommitTxn') {
      if (txn !== undefined) delivered.push({ ...m, type: 'Txn', body: txn.bodies } as WalMessage);
      open.delete(m.txn.txnId);
    } else if (m.type === 'RollbackTxn') {
      open.delete(m.txn.txnId);
    } else if (txn !== undefined) {
      txn.bodies.push(m);
      txn.lastTick = m.timeTick;
    }
  };

  for (const logged of log) {
    let m = logged;
    if (!passesFilters(m, query)) {
      // A rejected commit rolls its transaction back for this consumer: discarded whole, not held
      // until its keepalive (issue 9 item 6). Anything else rejected is gone; a filtered time tick
      // releases nothing.
      if (m.type !== 'CommitTxn') continue;
      m = { ...m, type: 'RollbackTxn' };
    }
    if (m.type !== 'TimeTick') {
      const otherVChannel =
        query.vchannel !== '' && m.vchannel !== '' && m.vchannel !== query.vchannel;
      if (otherVChannel) continue;
      if (m.timeTick < highestReleased) {
        violations++;
        continue;
      }
      if (waiting.some((w) => w.id.key === m.id.key)) continue; // duplicate of a waiting one
      waiting.push(m);
      continue;
    }
    if (m.timeTick < highestReleased) continue; // an older time tick carries no news
    highestReleased = m.timeTick;
    const released = waiting.filter((w) => w.timeTick <= m.timeTick);
    waiting = waiting.filter((w) => w.timeTick > m.timeTick);
    released.sort((a, b) => (a.timeTick < b.timeTick ? -1 : a.timeTick > b.timeTick ? 1 : 0));
    released.forEach(assemble);
    for (const [txnId, txn] of open) {
      const keepaliveMs = txn.begin.txn?.keepaliveMs ?? Infinity;
      if (keepaliveMs === Infinity) continue;
      const deadline = txn.lastTick + (BigInt(keepaliveMs) << 18n);
      if (deadline <= m.timeTick) open.delete(txnId);
    }
    timeTicks.add(m.timeTick);
  }

  let openTxnBytes = 0;
  for (const txn of open.values())
    openTxnBytes += txn.begin.size + txn.bodies.reduce((sum, b) => sum + b.size, 0);
  return {
    delivered: delivered.map(describe),
    deliveredTicks: delivered.map((m) => m.timeTick),
    timeTicks: [...timeTicks],
    openTxnBytes,
    violations,
  };
}
