/**
 * fast-check arbitraries for the scanner properties: logs (hand-made raw logs and logs written by
 * the writer) and fault schedules (reader errors and ended streams, write-ahead-buffer evictions,
 * slow pull consumers, pause toggles, checkpoint resumes). Everything generated is plain data, so
 * a counterexample prints readably and replays from its seed and path.
 */
import fc from 'fast-check';

import type { WalMessage } from '../../lib/message/message.js';
import { MAX_TIME_TICK } from '../../lib/message/tso.js';
import type { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import type { RawMessageInit } from '../../lib/wal/memoryWal.js';
import type { ReadableWal, ReadHint, WalReader } from '../../lib/wal/wal.js';
import type { WriteAheadBuffer } from '../../lib/wal/writeAheadBuffer.js';
import type { ModelQuery } from './model.js';

// ---------------------------------------------------------------------------------------------
// Raw logs (appendRaw): no writer, so scanners stay in catch-up.

/** vchannel by index: 0 is `''` (every vchannel). */
export const VCHANNELS = ['', 'v1', 'v2', 'v3'] as const;
const vchannelOf = (i: number): string => VCHANNELS[i] as string;

/** One step of a raw log, interpreted by {@link buildRawLog}. */
export type RawItem =
  /** A data message at `at` quarter-milliseconds into the current time-tick window (0..8). */
  | {
      readonly k: 'data';
      readonly vch: number;
      readonly type: string;
      readonly at: number;
      readonly size: number;
    }
  /** Closes the window: a time tick 2 ms after the previous one. */
  | { readonly k: 'tick' }
  /** A data message with a tick below the previous time tick: a violation when that tick was released. */
  | { readonly k: 'late'; readonly vch: number; readonly back: number }
  /** Begins a new transaction in `slot`; `keepaliveMs` null is Infinity. */
  | {
      readonly k: 'begin';
      readonly slot: number;
      readonly vch: number;
      readonly at: number;
      readonly keepaliveMs: number | null;
    }
  /** A body of the slot's transaction (or of one that never began). */
  | { readonly k: 'body'; readonly slot: number; readonly at: number; readonly size: number }
  | { readonly k: 'commit'; readonly slot: number; readonly at: number }
  | { readonly k: 'rollback'; readonly slot: number; readonly at: number }
  /** The previous record again, same id: a duplicate append. */
  | { readonly k: 'dup' };

export interface RawLogSpec {
  /** Ticks just below 2^64 instead of near 1 s. */
  readonly high: boolean;
  readonly items: readonly RawItem[];
}

/** Quarter of a millisecond, in tick units (the physical part starts at bit 18). */
const UNIT = 1n << 16n;
/** A time-tick window: 2 ms. */
const WINDOW = 8n * UNIT;

export interface RawLogOptions {
  /** Every tick distinct (no data tick equal to another tick) and no late messages. */
  readonly distinctTicks?: boolean;
  /**
   * Data may carry the tick of the time tick just before it in the log (`at` 0): a reorder buffer
   * accepts it (equal to the last released tick is no violation), but no writer produces it
   * (reference § 3.7.2: a data entry is strictly newer than the last time tick). Otherwise `at` 0
   * means one tick unit above the previous time tick.
   */
  readonly equalToPreviousTimeTick?: boolean;
  /** Transactions that commit never expire (keepalive Infinity); the others keep theirs. */
  readonly committedNeverExpire?: boolean;
  /**
   * No body, commit or rollback after a transaction ended (a repeated commit is ignored by a scan
   * that saw the first one, but accepted by one that resumed past it and re-read the begin).
   */
  readonly noRepeatedEnds?: boolean;
}

const rawItem = (options: RawLogOptions): fc.Arbitrary<RawItem> => {
  const slot = fc.integer({ min: 0, max: 2 });
  const at = fc.integer({ min: 0, max: 8 });
  const items: fc.WeightedArbitrary<RawItem>[] = [
    {
      weight: 6,
      arbitrary: fc.record({
        k: fc.constant('data' as const),
        vch: fc.integer({ min: 0, max: 3 }),
        type: fc.constantFrom('Insert', 'Delete'),
        at,
        size: fc.integer({ min: 0, max: 12 }),
      }),
    },
    { weight: 3, arbitrary: fc.constant({ k: 'tick' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('begin' as const),
        slot,
        vch: fc.integer({ min: 0, max: 3 }),
        at,
        keepaliveMs: fc.option(fc.integer({ min: 0, max: 8 }), { nil: null }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        k: fc.constant('body' as const),
        slot,
        at,
        size: fc.integer({ min: 0, max: 12 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('commit' as const), slot, at }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('rollback' as const), slot, at }) },
    { weight: 1, arbitrary: fc.constant({ k: 'dup' as const }) },
  ];
  if (options.distinctTicks !== true)
    items.push({
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('late' as const),
        vch: fc.integer({ min: 0, max: 3 }),
        back: fc.integer({ min: 0, max: 12 }),
      }),
    });
  return fc.oneof(...items);
};

/** Raw logs: out-of-order ticks within windows, interleaved transactions, duplicates, bigints. */
export function rawLogSpec(options: RawLogOptions = {}): fc.Arbitrary<RawLogSpec> {
  return fc.record({
    high: fc.boolean(),
    items: fc.array(rawItem(options), { maxLength: 60, size: 'medium' }),
  });
}

/** A raw log, ready for `appendRaw` (explicit ids), ending with a sentinel time tick above all. */
export interface RawLog {
  readonly inits: readonly RawMessageInit[];
  /** The sentinel's tick: once the consumer has it, the whole log was scanned. */
  readonly sentinel: bigint;
  /** The tick every window counts from. */
  readonly base: bigint;
}

/**
 * Interprets a {@link RawLogSpec}. Data ticks lie in [previous time tick, next time tick] (both
 * ends included unless `distinctTicks`); last-confirmed ids are honest: a data message points at
 * its window's first record (messages before it in the window may have greater ticks), and
 * everything points no later than the begin of the oldest transaction still open.
 */
export function buildRawLog(spec: RawLogSpec, options: RawLogOptions = {}): RawLog {
  const distinct = options.distinctTicks === true;
  const ticks = BigInt(spec.items.filter((i) => i.k === 'tick').length + 2);
  const base = spec.high ? MAX_TIME_TICK - ticks * WINDOW - UNIT : 1000n << 18n;
  const inits: RawMessageInit[] = [];
  let id = 0n;
  let previousTick = base;
  let windowStart = 1n;
  let inWindow = 0n;
  let nextTxnId = 1n;
  const slots = new Map<number, { txnId: bigint; vchannel: string; keepalive: number }>();
  const openBegins = new Map<bigint, bigint>(); // txnId → begin id, in begin order
  // A transaction that ended in this window still holds back ids until the window's time tick:
  // a message of the window may have a lower tick than the commit (the writer does the same).
  const endedInWindow: bigint[] = [];

  const commitsLater = (index: number, slot: number): boolean => {
    for (const item of spec.items.slice(index + 1)) {
      if (item.k === 'begin' && item.slot === slot) return false;
      if (item.k === 'commit' && item.slot === slot) return true;
    }
    return false;
  };
  const tickAt = (at: number): bigint => {
    if (!distinct) {
      if (at === 0 && options.equalToPreviousTimeTick !== true) return previousTick + 1n;
      return previousTick + BigInt(at) * UNIT;
    }
    inWindow++;
    return previousTick + BigInt(Math.min(at, 7)) * UNIT + inWindow;
  };
  const oldestOpen = (): bigint | undefined => openBegins.values().next().value;
  const push = (init: Omit<RawMessageInit, 'id' | 'lastConfirmedId'>, dataLike: boolean): void => {
    id++;
    let lcid = dataLike ? windowStart : id;
    const open = oldestOpen();
    if (open !== undefined && open < lcid) lcid = open;
    inits.push({ ...init, id, lastConfirmedId: lcid });
  };
  const timeTick = (): void => {
    for (const txnId of endedInWindow.splice(0)) openBegins.delete(txnId);
    previousTick += WINDOW;
    push({ type: 'TimeTick', timeTick: previousTick }, false);
    windowStart = id + 1n;
    inWindow = 0n;
  };

  spec.items.forEach((item, index) => {
    switch (item.k) {
      case 'data':
        push(
          {
            type: item.type,
            timeTick: tickAt(item.at),
            vchannel: vchannelOf(item.vch),
            payload: 'x'.repeat(item.size),
          },
          true,
        );
        return;
      case 'tick':
        timeTick();
        return;
      case 'late': {
        const tt = previousTick - BigInt(item.back) * UNIT - 1n;
        push(
          { type: 'Insert', timeTick: tt, vchannel: vchannelOf(item.vch), payload: 'late' },
          true,
        );
        return;
      }
      case 'begin': {
        const keepalive =
          item.keepaliveMs === null ||
          (options.committedNeverExpire === true && commitsLater(index, item.slot))
            ? Infinity
            : item.keepaliveMs;
        const txn = { txnId: nextTxnId++, vchannel: vchannelOf(item.vch), keepalive };
        slots.set(item.slot, txn);
        push(
          {
            type: 'BeginTxn',
            timeTick: tickAt(item.at),
            vchannel: txn.vchannel,
            txn: { txnId: txn.txnId, keepalive },
            payload: 'begin',
          },
          true,
        );
        openBegins.set(txn.txnId, id);
        return;
      }
      case 'body':
      case 'commit':
      case 'rollback': {
        // a slot that never began gets a transaction id no begin carries
        const txn = slots.get(item.slot) ?? {
          txnId: 1000n + BigInt(item.slot),
          vchannel: 'v1',
          keepalive: 5,
        };
        const type =
          item.k === 'body' ? 'Insert' : item.k === 'commit' ? 'CommitTxn' : 'RollbackTxn';
        push(
          {
            type,
            timeTick: tickAt(item.at),
            vchannel: txn.vchannel,
            txn: { txnId: txn.txnId, keepalive: txn.keepalive },
            payload: item.k === 'body' ? 'b'.repeat(item.size + 1) : undefined,
          },
          true,
        );
        if (item.k !== 'body') {
          endedInWindow.push(txn.txnId);
          if (options.noRepeatedEnds === true) slots.delete(item.slot);
        }
        return;
      }
      case 'dup': {
        const last = inits[inits.length - 1];
        if (last !== undefined) inits.push({ ...last });
        return;
      }
    }
  });
  timeTick();
  return { inits, sentinel: previousTick, base };
}

/** A consumer's query; tick bounds in windows from the log's base (resolved by {@link resolveQuery}). */
export interface QuerySpec {
  readonly vchannel: number;
  readonly gtWindows?: number;
  readonly gteWindows?: number;
  readonly types?: readonly string[];
}

/** Absent most of the time (weight 3 : 1). */
const rarely = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

/** Which deliver filters a query may carry besides its vchannel. */
export interface QueryOptions {
  readonly tickFilters: boolean;
  readonly typeFilters: boolean;
}

export function querySpec(options: QueryOptions): fc.Arbitrary<QuerySpec> {
  const bound = options.tickFilters
    ? rarely(fc.integer({ min: 0, max: 12 }))
    : fc.constant(undefined);
  const types = options.typeFilters
    ? rarely(fc.constantFrom(['Insert'], ['Delete'], ['Insert', 'Delete']))
    : fc.constant(undefined);
  return fc
    .record({
      vchannel: fc.integer({ min: 0, max: 2 }),
      gtWindows: bound,
      gteWindows: bound,
      types,
    })
    .map(({ vchannel, gtWindows, gteWindows, types }) => ({
      vchannel,
      ...(gtWindows === undefined ? {} : { gtWindows }),
      ...(gteWindows === undefined ? {} : { gteWindows }),
      ...(types === undefined ? {} : { types }),
    }));
}

/**
 * The model's query for a log that counts from `base` (bounds fall on a tick or between), kept
 * below `end` so the log's last time tick always passes.
 */
export function resolveQuery(spec: QuerySpec, base: bigint, end: bigint): ModelQuery {
  const at = (windows: number): bigint => {
    const bound = base + (BigInt(windows) * WINDOW) / 2n;
    return bound < end ? bound : end - 1n;
  };
  return {
    vchannel: vchannelOf(spec.vchannel),
    ...(spec.gtWindows === undefined ? {} : { timeTickGT: at(spec.gtWindows) }),
    ...(spec.gteWindows === undefined ? {} : { timeTickGTE: at(spec.gteWindows) }),
    ...(spec.types === undefined ? {} : { messageTypes: spec.types }),
  };
}

// ---------------------------------------------------------------------------------------------
// Writer logs (append / beginTxn / syncTimeTick): scanners tail the write-ahead buffer.

/** One step of a writer script, interpreted by the spec's `runWriterScript`. */
export type WriterOp =
  /** Appends issued in one turn (concurrent): inserts on a vchannel, or bodies of a slot's txn. */
  | {
      readonly op: 'burst';
      readonly parts: readonly (
        { readonly vch: number; readonly type: string } | { readonly slot: number }
      )[];
    }
  | {
      readonly op: 'begin';
      readonly slot: number;
      readonly vch: number;
      readonly keepaliveMs: number | null;
    }
  | { readonly op: 'commit'; readonly slot: number }
  | { readonly op: 'rollback'; readonly slot: number }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'sync'; readonly persisted: boolean };

const writerOp: fc.Arbitrary<WriterOp> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('burst' as const),
      parts: fc.array(
        fc.oneof(
          fc.record({
            vch: fc.integer({ min: 0, max: 3 }),
            type: fc.constantFrom('Insert', 'Delete'),
          }),
          fc.record({ slot: fc.integer({ min: 0, max: 2 }) }),
        ),
        { minLength: 1, maxLength: 5 },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('begin' as const),
      slot: fc.integer({ min: 0, max: 2 }),
      vch: fc.integer({ min: 0, max: 3 }),
      keepaliveMs: fc.option(fc.integer({ min: 1, max: 60 }), { nil: null }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('commit' as const),
      slot: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('rollback' as const),
      slot: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 40 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('sync' as const), persisted: fc.boolean() }),
  },
);

export interface WriterLogSpec {
  /** Seeds the writer's reordering of concurrent appends and the backoff jitter. */
  readonly seed: number;
  readonly ops: readonly WriterOp[];
  readonly timeTickIntervalMs: number;
  /** A tiny write-ahead buffer (bytes, keepalive ms) forces evictions; null keeps the defaults. */
  readonly writeAheadBuffer: { readonly capacity: number; readonly keepaliveMs: number } | null;
  /** The scanner subscribes before this op, in percent of the script. */
  readonly subscribeAt: number;
}

export const writerLogSpec: fc.Arbitrary<WriterLogSpec> = fc.record({
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  ops: fc.array(writerOp, { minLength: 3, maxLength: 40, size: 'medium' }),
  timeTickIntervalMs: fc.integer({ min: 3, max: 40 }),
  writeAheadBuffer: fc.option(
    fc.record({
      capacity: fc.integer({ min: 0, max: 400 }),
      keepaliveMs: fc.integer({ min: 1, max: 60 }),
    }),
    { nil: null },
  ),
  subscribeAt: fc.integer({ min: 0, max: 100 }),
});

// ---------------------------------------------------------------------------------------------
// Fault schedules.

/** A reader `next()` call (counted over every reader of the scanner) that fails or ends. */
export interface ReaderFault {
  readonly call: number;
  readonly kind: 'fail' | 'end';
}

export type ConsumerSpec =
  | { readonly kind: 'push' }
  /** An async pull consumer: `pendingLimit`, and virtual-ms stalls after some messages. */
  | { readonly kind: 'pull'; readonly pendingLimit: number; readonly stalls: readonly number[] };

/** Pause toggles at virtual times; the switch always ends at `false`. */
export interface PauseSpec {
  readonly mode: 'start' | 'live';
  readonly initial: boolean;
  readonly toggles: readonly { readonly atMs: number; readonly paused: boolean }[];
}

export interface FaultSpec {
  readonly readerFaults: readonly ReaderFault[];
  readonly readBatchSize: number;
  readonly consumer: ConsumerSpec;
  readonly pause: PauseSpec | null;
}

export const faultSpec: fc.Arbitrary<FaultSpec> = fc.record({
  readerFaults: fc.array(
    fc.record({
      call: fc.integer({ min: 1, max: 30 }),
      kind: fc.constantFrom('fail' as const, 'end' as const),
    }),
    { maxLength: 3 },
  ),
  readBatchSize: fc.integer({ min: 1, max: 6 }),
  consumer: fc.oneof(
    fc.constant({ kind: 'push' as const }),
    fc.record({
      kind: fc.constant('pull' as const),
      pendingLimit: fc.integer({ min: 1, max: 4 }),
      stalls: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 })), { maxLength: 6 }),
    }),
  ),
  pause: fc.option(
    fc.record({
      mode: fc.constantFrom('start' as const, 'live' as const),
      initial: fc.boolean(),
      toggles: fc.array(
        fc.record({ atMs: fc.integer({ min: 0, max: 60 }), paused: fc.boolean() }),
        {
          maxLength: 4,
        },
      ),
    }),
    { nil: null },
  ),
});

/** Where a checkpointing consumer stops: after this many delivered messages (any type). */
export const checkpointAfter = fc.integer({ min: 1, max: 30 });

/**
 * Wraps a WAL so that reader `next()` calls fail or end (resolve an empty batch) as scheduled,
 * like `faultyWal` in the switchableSource spec. Calls are counted over all readers.
 */
export function withReaderFaults(
  wal: ReadableWal,
  faults: readonly ReaderFault[],
  pushdown = true,
): ReadableWal & { faultsHit(): number } {
  let calls = 0;
  let hit = 0;
  // without pushdown the readers are asked for everything, as a WAL that ignores the hint
  const read = (policy: DeliverPolicy, hint?: ReadHint): WalReader => {
    const inner = pushdown && hint !== undefined ? wal.read(policy, hint) : wal.read(policy);
    return {
      ...(inner.resolvedPolicy === undefined ? {} : { resolvedPolicy: inner.resolvedPolicy }),
      async next(max?: number): Promise<readonly WalMessage[]> {
        const fault = faults.find((f) => f.call === calls + 1);
        calls++;
        if (fault !== undefined) hit++;
        if (fault?.kind === 'fail') throw new Error(`injected read error at call ${calls}`);
        if (fault?.kind === 'end') return [];
        return inner.next(max);
      },
      close: () => inner.close(),
    };
  };
  const unhinted = (buffer: WriteAheadBuffer): WriteAheadBuffer => ({
    readFromExclusiveTimeTick: (tt, options) =>
      buffer.readFromExclusiveTimeTick(
        tt,
        options?.signal === undefined ? {} : { signal: options.signal },
      ),
  });
  return {
    channel: wal.channel,
    accessMode: wal.accessMode,
    get writeAheadBuffer() {
      const buffer = wal.writeAheadBuffer;
      return buffer === undefined || pushdown ? buffer : unhinted(buffer);
    },
    read,
    ...(wal.requestPersistedTimeTick === undefined
      ? {}
      : { requestPersistedTimeTick: () => wal.requestPersistedTimeTick?.() }),
    faultsHit: () => hit,
  };
}
