/**
 * Deterministic workloads of the benchmark suite (issue 4): arrays of {@link WalMessage} in log
 * order (ids ascending from 1), built with `createMessage`, with real hybrid ticks from
 * `tso.compose`. The same options and seed always give the same log.
 */
import { createMessage } from '../lib/message/createMessage.js';
import { MessageType, type WalMessage } from '../lib/message/message.js';
import { tso, type TimeTick } from '../lib/message/tso.js';
import { seededRandom } from '../lib/testing/random.js';
import type { RawMessageInit } from '../lib/wal/memoryWal.js';

/** mulberry32, the seeded PRNG of rxwal/testing. */
export const mulberry32 = seededRandom;

/** An integer in [min, max]. */
function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Fisher–Yates, in place. */
function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
}

/** Unix ms of the first window: 2024-12-24, so ticks look like real ones (≈ 4.5·10^17). */
export const BASE_PHYSICAL_MS = 1_735_000_000_000;
/** Physical time one window (one time-tick interval) spans. */
export const WINDOW_MS = 200;
/** The four vchannels of every workload. */
export const VCHANNELS: readonly string[] = ['v0', 'v1', 'v2', 'v3'];

/** Options of {@link generateW1}. */
export interface W1Options {
  /** Total messages, time ticks included (default 1,000,000). */
  messages?: number;
  seed?: number;
  /** Messages per window, the closing time tick included (default 100). */
  windowSize?: number;
  /** Probability that a data slot begins a transaction (default 0.02 ≈ 10 % txn messages). */
  txnStartRate?: number;
  /** Of the transactions: rolled back (default 0.02) and abandoned (default 0.02). */
  rollbackRate?: number;
  abandonRate?: number;
  /** Keepalive of abandoned transactions, short so that they expire (default 1000 ms). */
  abandonedKeepaliveMs?: number;
  /** Probability that an auto-commit message is for every vchannel (`''`) (default 0.005). */
  broadcastRate?: number;
}

/** A data message before its id and last-confirmed id are known (true write order). */
interface Draft {
  type: string;
  timeTick: TimeTick;
  vchannel: string;
  txn: { txnId: bigint; keepalive: number } | undefined;
  /** The transaction this message begins, continues or ends. */
  txnState: TxnDraft | undefined;
  payload: number;
  size: number;
}

interface TxnDraft {
  readonly txnId: bigint;
  readonly vchannel: string;
  readonly keepaliveMs: number;
  readonly ending: 'commit' | 'rollback' | 'abandon';
  readonly bodies: number;
  /** Steps written so far (begin = 1). */
  written: number;
  beginId: number | undefined;
  /** Tick of the last begin/body: the keepalive counts from it. */
  lastActivity: TimeTick;
  done: boolean;
}

/**
 * W1: `messages` messages in windows of `windowSize` (default 100): four vchannels, ~10 %
 * transaction messages (begin, 3 bodies, commit; ~2 % of the transactions rolled back, ~2 %
 * abandoned with a short keepalive so readers expire them), ticks shuffled within each window,
 * each window closed by a persisted time tick whose tick is ≥ every tick of the window and below
 * every tick of later windows. Transactions may span windows.
 *
 * Last-confirmed ids follow the writer: a data message's is the smaller of its window's first id
 * and the begin id of the oldest transaction open when the window starts; a time tick's is the
 * smaller of its own id and the oldest open begin id (abandoned transactions stop holding ids
 * back once their keepalive passed).
 *
 * The log always ends with a time tick, so everything in it can be released.
 */
export function generateW1(options: W1Options = {}): WalMessage[] {
  const total = options.messages ?? 1_000_000;
  const windowSize = options.windowSize ?? 100;
  if (!Number.isSafeInteger(total) || total < 2)
    throw new RangeError(`messages must be an integer ≥ 2, got ${total}`);
  if (!Number.isSafeInteger(windowSize) || windowSize < 2)
    throw new RangeError(`windowSize must be ≥ 2`);
  const random = mulberry32(options.seed ?? 1);
  const txnStartRate = options.txnStartRate ?? 0.02;
  const rollbackRate = options.rollbackRate ?? 0.02;
  const abandonRate = options.abandonRate ?? 0.02;
  const abandonedKeepaliveMs = options.abandonedKeepaliveMs ?? 1000;
  const broadcastRate = options.broadcastRate ?? 0.005;

  const out: WalMessage[] = new Array<WalMessage>(total);
  let nextId = 1;
  let slot = 0; // data slots over the whole log, for scheduling transaction steps
  /** Transaction steps that are due, in the order they became due (keeps each txn's order). */
  const backlog: TxnDraft[] = [];
  let backlogHead = 0;
  const due = new Map<number, TxnDraft[]>();
  /** Open transactions (begun and not ended or expired), for last-confirmed ids. */
  const open = new Set<TxnDraft>();

  const schedule = (txn: TxnDraft): void => {
    const at = slot + between(random, 1, 40);
    const list = due.get(at);
    if (list === undefined) due.set(at, [txn]);
    else list.push(txn);
  };

  for (let window = 0; nextId <= total; window++) {
    const remaining = total - nextId + 1;
    const dataCount = Math.min(windowSize, remaining) - 1;
    const windowStartMs = BASE_PHYSICAL_MS + window * WINDOW_MS;
    const drafts: Draft[] = new Array<Draft>(dataCount);
    for (let i = 0; i < dataCount; i++, slot++) {
      const list = due.get(slot);
      if (list !== undefined) {
        due.delete(slot);
        for (const txn of list) backlog.push(txn);
      }
      // Distinct, increasing ticks in write order; the logical part keeps them apart.
      const timeTick = tso.compose(
        windowStartMs + Math.floor((i * (WINDOW_MS - 10)) / dataCount),
        i,
      );
      const payload = between(random, 0, 1_000_000);
      const size = between(random, 64, 512);
      let txn: TxnDraft | undefined;
      while (backlogHead < backlog.length && txn === undefined) {
        const candidate = backlog[backlogHead++] as TxnDraft;
        if (!candidate.done) txn = candidate; // an abandoned txn may have expired meanwhile
      }
      if (backlogHead > 1024 && backlogHead * 2 > backlog.length) {
        backlog.splice(0, backlogHead);
        backlogHead = 0;
      }
      if (txn !== undefined) {
        const step = txn.written++;
        let type: string;
        if (step <= txn.bodies) type = random() < 0.8 ? MessageType.Insert : MessageType.Delete;
        else type = txn.ending === 'rollback' ? MessageType.RollbackTxn : MessageType.CommitTxn;
        drafts[i] = {
          type,
          timeTick,
          vchannel: txn.vchannel,
          txn: { txnId: txn.txnId, keepalive: txn.keepaliveMs },
          txnState: txn,
          payload,
          size,
        };
        if (step <= txn.bodies) txn.lastActivity = timeTick;
        const last = txn.ending === 'abandon' ? step === txn.bodies : step === txn.bodies + 1;
        if (!last) schedule(txn);
        continue;
      }
      if (random() < txnStartRate) {
        const roll = random();
        const ending =
          roll < rollbackRate
            ? 'rollback'
            : roll < rollbackRate + abandonRate
              ? 'abandon'
              : 'commit';
        const txnDraft: TxnDraft = {
          txnId: timeTick, // as the writer does: a transaction is named by its begin's tick
          vchannel: VCHANNELS[between(random, 0, VCHANNELS.length - 1)] as string,
          keepaliveMs: ending === 'abandon' ? abandonedKeepaliveMs : 10_000,
          ending,
          bodies: ending === 'abandon' ? between(random, 0, 3) : 3,
          written: 1,
          beginId: undefined,
          lastActivity: timeTick,
          done: false,
        };
        drafts[i] = {
          type: MessageType.BeginTxn,
          timeTick,
          vchannel: txnDraft.vchannel,
          txn: { txnId: txnDraft.txnId, keepalive: txnDraft.keepaliveMs },
          txnState: txnDraft,
          payload,
          size,
        };
        if (!(ending === 'abandon' && txnDraft.bodies === 0)) schedule(txnDraft);
        continue;
      }
      const broadcast = random() < broadcastRate;
      drafts[i] = {
        type: broadcast
          ? MessageType.Flush
          : random() < 0.75
            ? MessageType.Insert
            : MessageType.Delete,
        timeTick,
        vchannel: broadcast ? '' : (VCHANNELS[between(random, 0, VCHANNELS.length - 1)] as string),
        txn: undefined,
        txnState: undefined,
        payload,
        size,
      };
    }

    // The window lands in the log in a shuffled order: concurrent writes.
    shuffle(drafts, random);
    const firstId = nextId;
    let heldBack = firstId;
    for (const txn of open)
      if (txn.beginId !== undefined && txn.beginId < heldBack) heldBack = txn.beginId;
    for (const d of drafts) {
      const id = nextId++;
      const state = d.txnState;
      if (state !== undefined) {
        if (d.type === MessageType.BeginTxn) {
          state.beginId = id;
          open.add(state);
        } else if (d.type === MessageType.CommitTxn || d.type === MessageType.RollbackTxn) {
          state.done = true;
          open.delete(state);
        }
      }
      out[id - 1] = createMessage({
        id,
        type: d.type,
        timeTick: d.timeTick,
        vchannel: d.vchannel,
        lastConfirmedId: heldBack,
        ...(d.txn === undefined ? {} : { txn: d.txn }),
        payload: d.payload,
        size: d.size,
      });
    }
    const tick = tso.compose(windowStartMs + WINDOW_MS - 1);
    // Abandoned transactions whose keepalive passed by this tick are expired by the writer too.
    for (const txn of open) {
      if (txn.ending === 'abandon' && txn.lastActivity + (BigInt(txn.keepaliveMs) << 18n) <= tick) {
        txn.done = true;
        open.delete(txn);
      }
    }
    const tickId = nextId++;
    let tickLc = tickId;
    for (const txn of open)
      if (txn.beginId !== undefined && txn.beginId < tickLc) tickLc = txn.beginId;
    out[tickId - 1] = createMessage({
      id: tickId,
      type: MessageType.TimeTick,
      timeTick: tick,
      lastConfirmedId: tickLc,
      size: 0,
    });
  }
  return out;
}

/** Options of {@link generateW3}. */
export interface W3Options {
  /** Transactions open at once (default 100,000). */
  openTxns?: number;
  /** Windows after the transactions are open, each `windowSize − 1` data messages and a time tick. */
  windows?: number;
  windowSize?: number;
  seed?: number;
  /** Share of the window data that are bodies of open transactions (default 0.7); the rest auto-commit. */
  bodyRate?: number;
}

/** W3 and where its measured part starts. */
export interface W3Workload {
  messages: WalMessage[];
  /** `messages[0 .. setupLength)`: a time tick, the begins, and the time tick that releases them. */
  setupLength: number;
  windowSize: number;
  windows: number;
}

/**
 * W3: `openTxns` transactions begun at once (keepalive 1 h, so none expires), released by one
 * time tick; then `windows` windows of `windowSize − 1` data messages (bodies of random open
 * transactions and auto-commit inserts, ticks shuffled within the window) each closed by a time
 * tick. Measures what one time tick costs while many transactions are open.
 */
export function generateW3(options: W3Options = {}): W3Workload {
  const openTxns = options.openTxns ?? 100_000;
  const windows = options.windows ?? 1000;
  const windowSize = options.windowSize ?? 100;
  const bodyRate = options.bodyRate ?? 0.7;
  const random = mulberry32(options.seed ?? 3);
  const messages: WalMessage[] = [];
  let nextId = 1;
  let physical = BASE_PHYSICAL_MS;
  messages.push(
    createMessage({
      id: nextId++,
      type: MessageType.TimeTick,
      timeTick: tso.compose(physical++),
      size: 0,
    }),
  );
  const txnIds: bigint[] = new Array<bigint>(openTxns);
  const beginIds: number[] = new Array<number>(openTxns);
  // Begins: 1000 per millisecond, as a busy writer would allocate them.
  for (let i = 0; i < openTxns; i++) {
    const timeTick = tso.compose(physical + Math.floor(i / 1000), i % 1000);
    txnIds[i] = timeTick;
    beginIds[i] = nextId;
    messages.push(
      createMessage({
        id: nextId++,
        type: MessageType.BeginTxn,
        timeTick,
        vchannel: VCHANNELS[i % VCHANNELS.length] as string,
        txn: { txnId: timeTick, keepalive: 3_600_000 },
        size: between(random, 64, 512),
      }),
    );
  }
  physical += Math.ceil(openTxns / 1000) + 1;
  const oldestBegin = openTxns > 0 ? (beginIds[0] as number) : undefined;
  const tickLc = (own: number): number =>
    oldestBegin !== undefined && oldestBegin < own ? oldestBegin : own;
  messages.push(
    createMessage({
      id: nextId,
      type: MessageType.TimeTick,
      timeTick: tso.compose(physical++),
      lastConfirmedId: tickLc(nextId),
      size: 0,
    }),
  );
  nextId++;
  const setupLength = messages.length;
  const dataCount = windowSize - 1;
  for (let w = 0; w < windows; w++) {
    const windowStart = physical + w * WINDOW_MS;
    const drafts: { timeTick: TimeTick; txnIndex: number }[] = new Array<{
      timeTick: TimeTick;
      txnIndex: number;
    }>(dataCount);
    for (let i = 0; i < dataCount; i++) {
      const txnIndex = openTxns > 0 && random() < bodyRate ? between(random, 0, openTxns - 1) : -1;
      drafts[i] = {
        timeTick: tso.compose(windowStart + Math.floor((i * (WINDOW_MS - 10)) / dataCount), i),
        txnIndex,
      };
    }
    shuffle(drafts, random);
    const firstId = nextId;
    for (const d of drafts) {
      const id = nextId++;
      const lastConfirmedId =
        oldestBegin !== undefined && oldestBegin < firstId ? oldestBegin : firstId;
      if (d.txnIndex < 0) {
        messages.push(
          createMessage({
            id,
            type: MessageType.Insert,
            timeTick: d.timeTick,
            vchannel: VCHANNELS[id % VCHANNELS.length] as string,
            lastConfirmedId,
            payload: id,
            size: between(random, 64, 512),
          }),
        );
      } else {
        messages.push(
          createMessage({
            id,
            type: MessageType.Insert,
            timeTick: d.timeTick,
            vchannel: VCHANNELS[d.txnIndex % VCHANNELS.length] as string,
            lastConfirmedId,
            txn: { txnId: txnIds[d.txnIndex] as bigint, keepalive: 3_600_000 },
            payload: id,
            size: between(random, 64, 512),
          }),
        );
      }
    }
    const tickId = nextId++;
    messages.push(
      createMessage({
        id: tickId,
        type: MessageType.TimeTick,
        timeTick: tso.compose(windowStart + WINDOW_MS - 1),
        lastConfirmedId: tickLc(tickId),
        size: 0,
      }),
    );
  }
  return { messages, setupLength, windowSize, windows };
}

/**
 * W4: a time tick, `count` data messages (four vchannels, ticks shuffled, all above the first
 * tick), then a time tick above them all: the reorder buffer holds all `count` until the last.
 */
export function generateW4(count = 1_000_000, seed = 4): WalMessage[] {
  const random = mulberry32(seed);
  const messages: WalMessage[] = new Array<WalMessage>(count + 2);
  messages[0] = createMessage({
    id: 1,
    type: MessageType.TimeTick,
    timeTick: tso.compose(BASE_PHYSICAL_MS),
    size: 0,
  });
  // 1000 messages per millisecond of physical time, distinct ticks.
  const ticks: TimeTick[] = new Array<TimeTick>(count);
  for (let i = 0; i < count; i++)
    ticks[i] = tso.compose(BASE_PHYSICAL_MS + 1 + Math.floor(i / 1000), i % 1000);
  shuffle(ticks, random);
  for (let i = 0; i < count; i++) {
    const id = i + 2;
    messages[i + 1] = createMessage({
      id,
      type: random() < 0.75 ? MessageType.Insert : MessageType.Delete,
      timeTick: ticks[i] as TimeTick,
      vchannel: VCHANNELS[i % VCHANNELS.length] as string,
      lastConfirmedId: 2,
      payload: i,
      size: between(random, 64, 512),
    });
  }
  messages[count + 1] = createMessage({
    id: count + 2,
    type: MessageType.TimeTick,
    timeTick: tso.compose(BASE_PHYSICAL_MS + 2 + Math.ceil(count / 1000)),
    size: 0,
  });
  return messages;
}

/** Counts of a log by kind, for the report. */
export function describeLog(messages: readonly WalMessage[]): {
  total: number;
  timeTicks: number;
  txnMessages: number;
  vchannelV1: number;
} {
  let timeTicks = 0;
  let txnMessages = 0;
  let vchannelV1 = 0;
  for (const m of messages) {
    if (m.type === MessageType.TimeTick) timeTicks++;
    if (m.txn !== undefined) txnMessages++;
    if (m.vchannel === 'v1') vchannelV1++;
  }
  return { total: messages.length, timeTicks, txnMessages, vchannelV1 };
}

/** `m` as a raw record for `appendRaw`, so a memory WAL stores its own copy of a generated log. */
export function rawRecordOf(m: WalMessage): RawMessageInit {
  return {
    id: m.id,
    type: m.type,
    timeTick: m.timeTick,
    vchannel: m.vchannel,
    lastConfirmedId: m.lastConfirmedId,
    ...(m.txn === undefined ? {} : { txn: { txnId: m.txn.txnId, keepalive: m.txn.keepaliveMs } }),
    payload: m.payload,
    size: m.size,
  };
}
