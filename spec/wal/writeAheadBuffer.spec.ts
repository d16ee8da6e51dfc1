import { VirtualTimeScheduler } from 'rxjs';

import { ClosedError, ConfigError, EvictedError, WalError } from '../../lib/errors.js';
import { MessageType, type WalMessage } from '../../lib/message/message.js';
import { parseWalMessage } from '../../lib/testing/notation.js';
import {
  DEFAULT_WAB_CAPACITY,
  DEFAULT_WAB_KEEPALIVE_MS,
  MemoryWriteAheadBuffer,
  resolveWabOptions,
  type WabReader,
} from '../../lib/wal/writeAheadBuffer.js';
import { settle } from '../../lib/testing/index.js';
import { seededRandom } from '../support/random.js';
import { watch } from '../support/promises.js';

function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

let nextId = 1;
/** A message in rxwal's notation with a fresh id. */
function m(text: string): WalMessage {
  return parseWalMessage(text, nextId++);
}

function insert(tt: number | bigint, size = 1): WalMessage {
  return m(`ins v1 @${tt} size=${size}`);
}

function tick(
  tt: number | bigint,
  options: { persisted?: boolean; size?: number } = {},
): WalMessage {
  return m(`tt @${tt}${options.persisted === false ? ' np' : ''} size=${options.size ?? 0}`);
}

/** Time under the test's control: only `now()` matters to the buffer. */
function virtualTime(start = 0): VirtualTimeScheduler {
  const scheduler = new VirtualTimeScheduler();
  scheduler.frame = start;
  return scheduler;
}

type SnapshotView = 'wait' | 'evicted' | bigint[];

/** The reference's snapshotFromOffset: the ticks of the snapshot, or why there is none. */
function fromOffset(wab: MemoryWriteAheadBuffer, offset: number, lastRead: bigint): SnapshotView {
  const snapshot = wab.snapshotFrom(offset, lastRead);
  if (snapshot.kind === 'entries') return snapshot.entries.map((e) => e.message.timeTick);
  return snapshot.kind;
}

async function readN(reader: WabReader, n: number): Promise<WalMessage[]> {
  const out: WalMessage[] = [];
  for (let i = 0; i < n; i++) out.push(await reader.next());
  return out;
}

/** Reads what the reader's snapshot and the buffer hold, then checks the next read waits; closes the reader. */
async function readUntilWaiting(reader: WabReader): Promise<bigint[]> {
  const ticks: bigint[] = [];
  for (;;) {
    if (ticks.length > 10_000) throw new Error('the reader never waits');
    const next = reader.next();
    const outcome = watch(next);
    await settle();
    if (outcome.state === 'resolved') {
      ticks.push((outcome.value as WalMessage).timeTick);
      continue;
    }
    if (outcome.state === 'rejected') throw outcome.error;
    reader.close();
    await expect(next).rejects.toBeInstanceOf(ClosedError);
    return ticks;
  }
}

/** Resolves to the joined reader's ticks, or the reason a join failed/waits. */
async function fromExclusive(
  wab: MemoryWriteAheadBuffer,
  tt: bigint,
): Promise<'wait' | 'evicted' | bigint[]> {
  const abort = new AbortController();
  const joining = watch(wab.readFromExclusiveTimeTick(tt, { signal: abort.signal }));
  await settle();
  if (joining.state === 'pending') {
    abort.abort(new Error('test gave up waiting'));
    await settle();
    return 'wait';
  }
  if (joining.state === 'rejected') {
    if (joining.error instanceof EvictedError) return 'evicted';
    throw joining.error;
  }
  return readUntilWaiting(joining.value as WabReader);
}

/** Rejects when `ms` of virtual time pass first: the reference's context deadline. */
function withDeadline<T>(
  promise: Promise<T>,
  scheduler: VirtualTimeScheduler,
  ms: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = scheduler.schedule(() => reject(new Error('deadline exceeded')), ms);
    promise.then(
      (value) => {
        timer.unsubscribe();
        resolve(value);
      },
      (error: unknown) => {
        timer.unsubscribe();
        reject(error);
      },
    );
  });
}

function advance(scheduler: VirtualTimeScheduler, ms: number): void {
  const target = scheduler.frame + ms;
  scheduler.maxFrames = target;
  scheduler.flush();
  scheduler.frame = target;
}

describe('MemoryWriteAheadBuffer', () => {
  describe('reference § 8.5 (wab/pending_queue_test.go)', () => {
    // Capacity 100, keepalive 5 s, initial entry TT 99 (size 0, offset 0).
    let time: VirtualTimeScheduler;
    let wab: MemoryWriteAheadBuffer;
    beforeEach(() => {
      time = virtualTime(1_000);
      wab = new MemoryWriteAheadBuffer(tick(99), {
        capacity: 100,
        keepalive: '5s',
        scheduler: time,
      });
    });

    /** Step 3: push 100[10], 101[20], 103[30], 104[40] as one round ending in a persisted tick. */
    function pushFour(): void {
      wab.append([insert(100, 10), insert(101, 20), insert(103, 30)], tick(104, { size: 40 }));
    }

    it('step 1: snapshotFromOffset(0) holds the initial time tick', () => {
      expect(fromOffset(wab, 0, 0n)).toEqual([99n]);
      expect(wab.length).toBe(1);
      expect(wab.newestOffset).toBe(0);
      expect(wab.bytes).toBe(0);
    });

    it('step 2: fromExclusiveTimeTick(100) on the initial buffer is end-of-buffer (waits)', async () => {
      expect(await fromExclusive(wab, 100n)).toBe('wait');
    });

    it('step 3: four pushes reach the capacity exactly and nothing is evicted', () => {
      pushFour();
      expect(wab.newestOffset).toBe(4);
      expect(wab.length).toBe(5);
      expect(wab.bytes).toBe(100);
    });

    it('step 4: fromExclusiveTimeTick(100) reads 101, 103, 104', async () => {
      pushFour();
      expect(await fromExclusive(wab, 100n)).toEqual([101n, 103n, 104n]);
    });

    it('step 5: fromExclusiveTimeTick(98) is evicted (98 < oldest 99)', async () => {
      pushFour();
      expect(await fromExclusive(wab, 98n)).toBe('evicted');
      await expect(wab.readFromExclusiveTimeTick(98n)).rejects.toBeInstanceOf(EvictedError);
    });

    it('step 5 (boundary): fromExclusiveTimeTick(99), the oldest tick itself, is fine', async () => {
      pushFour();
      expect(await fromExclusive(wab, 99n)).toEqual([100n, 101n, 103n, 104n]);
    });

    it('step 6: fromExclusiveTimeTick(102) reads 103, 104', async () => {
      pushFour();
      expect(await fromExclusive(wab, 102n)).toEqual([103n, 104n]);
    });

    it('step 7: fromExclusiveTimeTick(104) and (105) are end-of-buffer', async () => {
      pushFour();
      expect(await fromExclusive(wab, 104n)).toEqual([]);
      expect(await fromExclusive(wab, 105n)).toBe('wait');
    });

    it('step 8: snapshotFromOffset(1) / (3) / (4) / (5)', () => {
      pushFour();
      expect(fromOffset(wab, 1, 99n)).toEqual([100n, 101n, 103n, 104n]);
      expect(fromOffset(wab, 3, 101n)).toEqual([103n, 104n]);
      expect(fromOffset(wab, 4, 103n)).toEqual([104n]);
      expect(fromOffset(wab, 5, 104n)).toBe('wait');
    });

    it('step 9: a push beyond the capacity evicts TT 99, 100, 101, 103 and keeps [104, 105]', () => {
      pushFour();
      wab.append([], tick(105, { size: 60 }));
      expect(wab.newestOffset).toBe(5);
      expect(wab.length).toBe(2);
      expect(wab.bytes).toBe(100); // 160 − (0 + 10 + 20 + 30)
      expect(fromOffset(wab, 4, 103n)).toEqual([104n, 105n]);
    });

    it('step 10: a snapshot taken before the eviction is a copy and still holds [100, 101, 103, 104]', () => {
      pushFour();
      const before = wab.snapshotFrom(1, 99n);
      wab.append([], tick(105, { size: 60 }));
      expect(before.kind).toBe('entries');
      if (before.kind !== 'entries') return;
      expect(before.entries.map((e) => e.message.timeTick)).toEqual([100n, 101n, 103n, 104n]);
      expect(before.entries.map((e) => e.offset)).toEqual([1, 2, 3, 4]);
    });

    it('step 11: after the eviction snapshotFromOffset(3) is evicted and (4) is [104, 105]', () => {
      pushFour();
      wab.append([], tick(105, { size: 60 }));
      expect(fromOffset(wab, 3, 101n)).toBe('evicted');
      expect(fromOffset(wab, 4, 103n)).toEqual([104n, 105n]);
    });

    it('step 12: a new buffer with a 10 ms keepalive holds two entries after one push', () => {
      const short = new MemoryWriteAheadBuffer(tick(99), {
        capacity: 100,
        keepalive: 10,
        scheduler: time,
      });
      short.append([], tick(100, { size: 10 }));
      expect(short.newestOffset).toBe(1);
      expect(short.length).toBe(2);
    });

    it('step 13: after the keepalive passed, eviction keeps the newest entry', () => {
      const short = new MemoryWriteAheadBuffer(tick(99), {
        capacity: 100,
        keepalive: 10,
        scheduler: time,
      });
      short.append([], tick(100, { size: 10 }));
      advance(time, 20);
      short.evict();
      expect(short.length).toBe(1);
      expect(short.bytes).toBe(10);
      expect(fromOffset(short, 1, 99n)).toEqual([100n]);
      expect(fromOffset(short, 0, 0n)).toBe('evicted');
    });

    it('step 13 (boundary): an entry is kept until its keepalive has passed', () => {
      const short = new MemoryWriteAheadBuffer(tick(99), {
        capacity: 100,
        keepalive: 10,
        scheduler: time,
      });
      short.append([], tick(100, { size: 10 }));
      advance(time, 10);
      short.evict(); // deadline = push time + 10 is not after now any more: evicted
      expect(short.length).toBe(1);
      const fresh = new MemoryWriteAheadBuffer(tick(99), {
        capacity: 100,
        keepalive: 10,
        scheduler: time,
      });
      fresh.append([], tick(100, { size: 10 }));
      advance(time, 9);
      fresh.evict();
      expect(fresh.length).toBe(2);
    });

    it('step 14: pushing a time tick that does not increase is a programming error (WalError)', () => {
      const short = new MemoryWriteAheadBuffer(tick(99), {
        capacity: 100,
        keepalive: 10,
        scheduler: time,
      });
      short.append([], tick(100, { size: 10 }));
      expect(() => short.append([], tick(99, { size: 10 }))).toThrow(WalError);
      expect(() => short.append([], tick(100))).toThrow(WalError);
      expect(() => short.append([insert(99, 10)], tick(101))).toThrow(WalError);
      expect(() => short.append([insert(100, 10)], tick(101))).toThrow(WalError);
      // nothing of a rejected round was pushed
      expect(short.newestOffset).toBe(1);
      expect(short.length).toBe(2);
    });

    it('derived: snapshotFromOffset(latestOffset + 2) is a programming error (non-contiguous offset)', () => {
      pushFour();
      expect(() => wab.snapshotFrom(6, 104n)).toThrow(WalError);
    });
  });

  describe('reference § 8.6 (wab/write_ahead_buffer_test.go)', () => {
    it('T-WAB-1 only trivial (not persisted) time ticks', async () => {
      const time = virtualTime();
      const random = seededRandom(8_6_1);
      const wab = new MemoryWriteAheadBuffer(tick(0), {
        capacity: '5mb',
        keepalive: '30s',
        scheduler: time,
      });

      // 1. nothing newer than 100 exists: the join runs into its 1 ms deadline
      const abort = new AbortController();
      time.schedule(() => abort.abort(new Error('deadline exceeded')), 1);
      const timedOut = wab.readFromExclusiveTimeTick(100n, { signal: abort.signal });
      const timedOutOutcome = watch(timedOut);
      await settle();
      expect(timedOutOutcome.state).toBe('pending');
      advance(time, 1);
      await expect(timedOut).rejects.toThrow('deadline exceeded');

      // 2. a background reader joins after 100 and reads until it passes 10000
      const seen: bigint[] = [];
      const background = (async () => {
        const reader = await wab.readFromExclusiveTimeTick(100n);
        for (;;) {
          const message = await reader.next();
          expect(message.type).toBe(MessageType.TimeTick);
          const previous = seen[seen.length - 1];
          if (previous !== undefined) expect(message.timeTick).toBeGreaterThan(previous);
          seen.push(message.timeTick);
          if (message.timeTick > 10_000n) return reader;
        }
      })();
      const backgroundOutcome = watch(background);

      // 3. a not-persisted tick 100 is not newer than 100: the reader still waits
      wab.append([], tick(100, { persisted: false }));
      await settle();
      expect(backgroundOutcome.state).toBe('pending');
      expect(seen).toEqual([]);

      // 4. not-persisted ticks with random increments until past 10000; the writer sometimes
      // yields a macrotask, sometimes a microtask, sometimes nothing
      let last = 100;
      const appended: bigint[] = [];
      while (last <= 10_000) {
        last += randomInt(random, 1, 1000);
        wab.append([], tick(last, { persisted: false }));
        appended.push(BigInt(last));
        const pause = random();
        if (pause < 0.4) await settle();
        else if (pause < 0.7) await Promise.resolve();
      }
      const reader = await background;
      expect(seen.length).toBeGreaterThan(0);
      expect(seen[seen.length - 1]).toBe(BigInt(last));
      for (const tt of seen) expect(appended).toContain(tt); // it skips ticks, never invents them
      expect(wab.length).toBe(1); // not-persisted ticks are never entries

      // a further next() runs into a 5 ms deadline
      const further = reader.next();
      const late = withDeadline(further, time, 5);
      await settle();
      advance(time, 5);
      await expect(late).rejects.toThrow('deadline exceeded');
      reader.close();
      await expect(further).rejects.toBeInstanceOf(ClosedError);

      // 5. joining at the only persisted entry (TT 0) yields the latest not-persisted tick
      const latest = await wab.readFromExclusiveTimeTick(0n);
      const message = await latest.next();
      expect(message.type).toBe(MessageType.TimeTick);
      expect(message.persisted).toBe(false);
      expect(message.timeTick).toBe(BigInt(last));
      latest.close();
    });

    it('T-WAB-2 concurrent writer, two readers', async () => {
      const time = virtualTime();
      const random = seededRandom(8_6_2);
      const wab = new MemoryWriteAheadBuffer(tick(1), {
        capacity: '5mb',
        keepalive: '30s',
        scheduler: time,
      });

      // the writer's rounds, generated up front: 1..10 inserts, then a persisted tick equal to the last
      const rounds: { inserts: WalMessage[]; tick: WalMessage }[] = [];
      let tt = 100;
      while (tt <= 10_000) {
        const inserts: WalMessage[] = [];
        const count = randomInt(random, 1, 10);
        for (let i = 0; i < count; i++) {
          tt += randomInt(random, 1, 100);
          inserts.push(insert(tt));
        }
        rounds.push({ inserts, tick: tick(tt) });
      }
      const expected = rounds.flatMap((r) => [...r.inserts, r.tick]);
      const lastTick = BigInt(tt);

      // X: a tick near the middle, moved to the last of its run of equal ticks
      let xIndex = Math.floor(expected.length / 2);
      while (expected[xIndex + 1]?.timeTick === expected[xIndex]?.timeTick) xIndex++;
      const x = (expected[xIndex] as WalMessage).timeTick;

      const yieldRandomly = async (): Promise<void> => {
        const pause = random();
        if (pause < 0.3) await settle();
        else if (pause < 0.7) await Promise.resolve();
      };
      const writer = (async () => {
        for (const round of rounds) {
          wab.append(round.inserts, round.tick);
          await yieldRandomly();
        }
      })();
      const readAll = async (from: bigint): Promise<{ reader: WabReader; read: WalMessage[] }> => {
        const reader = await wab.readFromExclusiveTimeTick(from);
        const read: WalMessage[] = [];
        for (;;) {
          const message = await reader.next();
          read.push(message);
          if (message.type === MessageType.TimeTick && message.timeTick === lastTick)
            return { reader, read };
        }
      };
      const [, r1, r2] = await Promise.all([writer, readAll(1n), readAll(x)]);

      // r1 reads everything: inserts strictly increasing, ticks ≥ previous, inserts + round ticks in all
      expect(r1.read).toEqual(expected);
      let previous = 0n;
      let previousInsert = 0n;
      for (const message of r1.read) {
        expect(message.timeTick).toBeGreaterThanOrEqual(previous);
        previous = message.timeTick;
        if (message.type === MessageType.Insert) {
          expect(message.timeTick).toBeGreaterThan(previousInsert);
          previousInsert = message.timeTick;
        }
      }
      const firstPast = r1.read.findIndex((message) => message.timeTick > 10_000n);
      expect(r1.read[firstPast]?.type).toBe(MessageType.Insert);
      expect(r1.read[r1.read.length - 1]?.type).toBe(MessageType.TimeTick);
      // r2 reads exactly r1's suffix after X, ending in a time tick
      expect(r2.read).toEqual(r1.read.slice(xIndex + 1));
      expect(r2.read.every((message) => message.timeTick > x)).toBe(true);

      await expect(wab.readFromExclusiveTimeTick(0n)).rejects.toBeInstanceOf(EvictedError);

      // both caught up: next() runs into a 20 ms deadline; a not-persisted tick wakes them both
      const n1 = r1.reader.next();
      const n2 = r2.reader.next();
      const late1 = withDeadline(n1, time, 20);
      const late2 = withDeadline(n2, time, 20);
      await settle();
      advance(time, 20);
      await expect(late1).rejects.toThrow('deadline exceeded');
      await expect(late2).rejects.toThrow('deadline exceeded');
      wab.append([], tick(lastTick + 1n, { persisted: false }));
      const [t1, t2] = await Promise.all([n1, n2]);
      expect(t1.type).toBe(MessageType.TimeTick);
      expect(t1.timeTick).toBe(lastTick + 1n);
      expect(t2).toBe(t1);
    });

    it('T-WAB-3 eviction', async () => {
      const time = virtualTime();
      const wab = new MemoryWriteAheadBuffer(tick(0), { keepalive: 50, scheduler: time });
      const range = (from: number, to: number): WalMessage[] => {
        const out: WalMessage[] = [];
        for (let tt = from; tt <= to; tt++) out.push(insert(tt));
        return out;
      };

      // 1.
      wab.append(range(1, 99), tick(99));
      const reader = await wab.readFromExclusiveTimeTick(0n);
      expect((await reader.next()).timeTick).toBe(1n);

      // 2.
      wab.append(range(100, 199), tick(199));
      advance(time, 60);
      wab.append([], tick(200, { persisted: false }));
      expect(wab.length).toBe(1);
      expect(fromOffset(wab, wab.newestOffset, 198n)).toEqual([199n]);

      // 3. the reader's snapshot survives: inserts 2..99 then TT 99, then evicted
      const rest = await readN(reader, 99);
      expect(rest.map((message) => message.timeTick)).toEqual([
        ...range(2, 99).map((i) => i.timeTick),
        99n,
      ]);
      expect(rest.slice(0, 98).every((message) => message.type === MessageType.Insert)).toBe(true);
      expect(rest[98]?.type).toBe(MessageType.TimeTick);
      await expect(reader.next()).rejects.toBeInstanceOf(EvictedError);
    });
  });

  describe('appending rounds', () => {
    it('pushes the messages of a round and then its time tick, offsets consecutive from 0', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(10), { scheduler: virtualTime() });
      wab.append([insert(11, 3), insert(12, 4)], tick(12, { size: 2 }));
      expect(wab.newestOffset).toBe(3);
      expect(wab.bytes).toBe(9);
      expect(fromOffset(wab, 0, 0n)).toEqual([10n, 11n, 12n, 12n]);
      expect(await fromExclusive(wab, 10n)).toEqual([11n, 12n, 12n]);
    });

    it('pushes a persisted time tick appended with no messages as an entry (rxwal difference from § 3.7.2)', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(10), { scheduler: virtualTime() });
      wab.append([], tick(20, { persisted: true }));
      expect(wab.length).toBe(2);
      expect(wab.newestOffset).toBe(1);
      // a reader joining at the forced tick does not wait for the next round
      expect(await fromExclusive(wab, 20n)).toEqual([]);
      expect(await fromExclusive(wab, 15n)).toEqual([20n]);
    });

    it('does not push a not-persisted time tick; readers see it as the latest tick only', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(10), { scheduler: virtualTime() });
      wab.append([], tick(20, { persisted: false }));
      wab.append([], tick(30, { persisted: false }));
      expect(wab.length).toBe(1);
      expect(wab.newestOffset).toBe(0);
      expect(fromOffset(wab, 0, 0n)).toEqual([10n]);
      // joining before the latest not-persisted tick yields just that tick (intermediate 20 skipped)
      expect(await fromExclusive(wab, 10n)).toEqual([30n]);
      expect(await fromExclusive(wab, 25n)).toEqual([30n]);
      expect(await fromExclusive(wab, 30n)).toBe('wait');
      const reader = await wab.readFromExclusiveTimeTick(12n);
      const latest = await reader.next();
      expect(latest.persisted).toBe(false);
      expect(latest.timeTick).toBe(30n);
      reader.close();
    });

    it('rejects a round that does not end in a time tick, or whose messages pass its tick', () => {
      const wab = new MemoryWriteAheadBuffer(tick(10), { scheduler: virtualTime() });
      expect(() => wab.append([], insert(20))).toThrow(WalError);
      expect(() => wab.append([insert(21)], tick(20))).toThrow(WalError);
      expect(() => wab.append([insert(12), insert(12)], tick(20))).toThrow(WalError);
      expect(wab.newestOffset).toBe(0);
    });

    it('must start with a time tick', () => {
      expect(() => new MemoryWriteAheadBuffer(insert(1))).toThrow(WalError);
    });

    it('evicts by capacity only down to the newest entry, and compacts a long evicted prefix', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(0), { capacity: 10, scheduler: virtualTime() });
      const reader = await wab.readFromExclusiveTimeTick(0n);
      const read: bigint[] = [];
      for (let tt = 1; tt <= 3000; tt++) {
        wab.append([insert(tt * 2 - 1, 4)], tick(tt * 2, { size: 4 }));
        expect(wab.bytes).toBeLessThanOrEqual(10);
        read.push((await reader.next()).timeTick, (await reader.next()).timeTick);
      }
      expect(read).toEqual(Array.from({ length: 6000 }, (_, i) => BigInt(i + 1)));
      expect(wab.length).toBe(2);
      expect(wab.newestOffset).toBe(6000);
      expect(fromOffset(wab, 5999, 5998n)).toEqual([5999n, 6000n]);
      expect(fromOffset(wab, 5998, 5997n)).toBe('evicted');
      expect(await fromExclusive(wab, 5999n)).toEqual([6000n]);
      // one entry larger than the capacity is still kept: it is the newest
      wab.append([], tick(7000, { size: 1000 }));
      expect(wab.length).toBe(1);
      expect(wab.bytes).toBe(1000);
    });
  });

  describe('joining with readFromExclusiveTimeTick', () => {
    it('waits until an append brings something newer', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(10), { scheduler: virtualTime() });
      const joining = wab.readFromExclusiveTimeTick(10n);
      const reader = await joining; // exactly caught up: an empty snapshot, no wait
      const next = watch(reader.next());
      const later = wab.readFromExclusiveTimeTick(15n);
      const laterOutcome = watch(later);
      await settle();
      expect(next.state).toBe('pending');
      expect(laterOutcome.state).toBe('pending');
      wab.append([insert(11)], tick(16));
      await settle();
      expect(next.state).toBe('resolved');
      expect(next.value?.timeTick).toBe(11n);
      expect(laterOutcome.state).toBe('resolved');
      expect((await (await later).next()).timeTick).toBe(16n);
    });

    it('keeps waiting through appends that bring nothing newer than the tick', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(10), { scheduler: virtualTime() });
      const joining = watch(wab.readFromExclusiveTimeTick(50n));
      wab.append([insert(11)], tick(20));
      wab.append([], tick(50, { persisted: false }));
      await settle();
      expect(joining.state).toBe('pending');
      wab.append([], tick(51, { persisted: false }));
      await settle();
      expect(joining.state).toBe('resolved');
      expect((await (joining.value as WabReader).next()).timeTick).toBe(51n);
    });

    it('is aborted through its AbortSignal with the signal’s reason, and leaves no waiter behind', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(10), { scheduler: virtualTime() });
      const abort = new AbortController();
      const joining = wab.readFromExclusiveTimeTick(10n + 5n, { signal: abort.signal });
      await settle();
      const reason = new Error('stop');
      abort.abort(reason);
      await expect(joining).rejects.toBe(reason);
      // an append afterwards is harmless and a fresh join still works
      wab.append([insert(11)], tick(16));
      expect(await fromExclusive(wab, 15n)).toEqual([16n]);
    });

    it('rejects at once for an already aborted signal', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(10), { scheduler: virtualTime() });
      const reason = new Error('already');
      await expect(
        wab.readFromExclusiveTimeTick(20n, { signal: AbortSignal.abort(reason) }),
      ).rejects.toBe(reason);
    });

    it('rejects EvictedError for a tick older than the oldest entry', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(10), { scheduler: virtualTime() });
      await expect(wab.readFromExclusiveTimeTick(9n)).rejects.toBeInstanceOf(EvictedError);
    });
  });

  describe('readers', () => {
    it('EvictedError when a reader falls behind the buffer', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(0), { capacity: 5, scheduler: virtualTime() });
      const reader = await wab.readFromExclusiveTimeTick(0n); // empty snapshot at offset 1
      wab.append([insert(1, 5)], tick(1));
      wab.append([insert(2, 5)], tick(2));
      wab.append([insert(3, 5)], tick(3));
      await expect(reader.next()).rejects.toBeInstanceOf(EvictedError);
    });

    it('a data message is read once; between persisted entries only the latest not-persisted tick', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(0), { scheduler: virtualTime() });
      const reader = await wab.readFromExclusiveTimeTick(0n);
      wab.append([insert(1)], tick(2));
      wab.append([], tick(3, { persisted: false }));
      wab.append([], tick(4, { persisted: false }));
      expect((await readN(reader, 3)).map((message) => message.timeTick)).toEqual([1n, 2n, 4n]);
      wab.append([insert(5)], tick(5));
      expect((await readN(reader, 2)).map((message) => message.timeTick)).toEqual([5n, 5n]);
      expect(await readUntilWaiting(reader)).toEqual([]);
    });

    it('readBuffered takes what the current snapshot holds, in order, without waiting', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(0), { scheduler: virtualTime() });
      const reader = await wab.readFromExclusiveTimeTick(0n);
      expect(reader.readBuffered?.(10)).toEqual([]); // nothing at hand yet: no snapshot taken
      wab.append([insert(1), insert(2), insert(3)], tick(4));
      expect((await reader.next()).timeTick).toBe(1n); // takes the round as a snapshot
      expect(reader.readBuffered?.(2).map((message) => message.timeTick)).toEqual([2n, 3n]);
      expect(reader.readBuffered?.(5).map((message) => message.timeTick)).toEqual([4n]);
      expect(reader.readBuffered?.(5)).toEqual([]);
      wab.append([insert(5)], tick(6));
      expect((await readN(reader, 2)).map((message) => message.timeTick)).toEqual([5n, 6n]);
      reader.close();
      expect(reader.readBuffered?.(5)).toEqual([]);
    });

    it('reader.close() rejects its pending next() with ClosedError, and every later next()', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(0), { scheduler: virtualTime() });
      const reader = await wab.readFromExclusiveTimeTick(0n);
      const pending = reader.next();
      await settle();
      reader.close();
      reader.close(); // idempotent
      await expect(pending).rejects.toBeInstanceOf(ClosedError);
      wab.append([insert(1)], tick(1));
      await expect(reader.next()).rejects.toBeInstanceOf(ClosedError);
    });

    it('close() rejects joiners and readers with ClosedError; append becomes a no-op', async () => {
      const wab = new MemoryWriteAheadBuffer(tick(0), { scheduler: virtualTime() });
      const reader = await wab.readFromExclusiveTimeTick(0n);
      wab.append([insert(1)], tick(1));
      expect((await readN(reader, 2)).map((message) => message.timeTick)).toEqual([1n, 1n]);
      const waitingNext = reader.next();
      const joining = wab.readFromExclusiveTimeTick(5n);
      await settle();
      wab.close();
      wab.close(); // idempotent
      await expect(joining).rejects.toBeInstanceOf(ClosedError);
      await expect(waitingNext).rejects.toBeInstanceOf(ClosedError);
      await expect(reader.next()).rejects.toBeInstanceOf(ClosedError);
      await expect(wab.readFromExclusiveTimeTick(0n)).rejects.toBeInstanceOf(ClosedError);
      wab.append([insert(2)], tick(2));
      expect(wab.newestOffset).toBe(2);
      expect(wab.length).toBe(3);
    });
  });

  describe('options', () => {
    it('defaults to 64 MiB and 30 s (reference § 3.7.1)', () => {
      expect(resolveWabOptions()).toEqual({ capacity: 64 * 1024 * 1024, keepaliveMs: 30_000 });
      expect(DEFAULT_WAB_CAPACITY).toBe(64 * 1024 * 1024);
      expect(DEFAULT_WAB_KEEPALIVE_MS).toBe(30_000);
      expect(resolveWabOptions({ capacity: '512kb', keepalive: '2s' })).toEqual({
        capacity: 512 * 1024,
        keepaliveMs: 2000,
      });
    });

    it.each([
      [{ capacity: '-1' }, 'writeAheadBuffer.capacity'],
      [{ capacity: 'lots' }, 'writeAheadBuffer.capacity'],
      [{ capacity: -1 }, 'writeAheadBuffer.capacity'],
      [{ keepalive: '5 parsecs' }, 'writeAheadBuffer.keepalive'],
      [{ keepalive: -5 }, 'writeAheadBuffer.keepalive'],
    ])('ConfigError for %p', (options, option) => {
      expect(() => new MemoryWriteAheadBuffer(tick(0), options)).toThrow(ConfigError);
      try {
        resolveWabOptions(options);
        throw new Error('expected a ConfigError');
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).option).toBe(option);
      }
    });
  });
});
