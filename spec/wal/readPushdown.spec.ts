/**
 * Read pushdown (issue 13): a reader hinted at a vchannel returns exactly that vchannel's
 * messages, the '' broadcasts and every time tick, in log order with their own ids, for the
 * memory WAL and the write-ahead buffer.
 */
import fc from 'fast-check';
import { VirtualTimeScheduler } from 'rxjs';

import { ConfigError, EvictedError } from '../../lib/errors.js';
import { createMessage } from '../../lib/message/createMessage.js';
import { MessageType, type WalMessage } from '../../lib/message/message.js';
import { messageId } from '../../lib/message/messageId.js';
import { parseWalMessage } from '../../lib/testing/notation.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import {
  takenFromFirst,
  createMemoryWal,
  MergedPositions,
  WALK_SPAN_PER_MESSAGE,
} from '../../lib/wal/memoryWal.js';
import { hintedVChannel } from '../../lib/wal/wal.js';
import { matchesHint } from '../support/readHint.js';
import { MemoryWriteAheadBuffer, type WabReader } from '../../lib/wal/writeAheadBuffer.js';
import { watch } from '../support/promises.js';
import { seededRandom } from '../support/random.js';
import { settle, VirtualClock } from '../../lib/testing/index.js';

const VCHANNELS = ['v1', 'v2', 'v3', ''];
const ids = (ms: readonly WalMessage[]): string[] => ms.map((m) => m.id.key);

/** A random raw log: inserts over v1..v3 and '' broadcasts, a time tick now and then. */
function randomInits(
  seed: number,
  n: number,
): { type: string; timeTick: number; vchannel: string }[] {
  const random = seededRandom(seed);
  const inits = [];
  for (let i = 0; i < n; i++) {
    const isTick = random() < 0.2;
    inits.push({
      type: isTick ? MessageType.TimeTick : MessageType.Insert,
      timeTick: 100 + i,
      // a raw time tick may even carry a vchannel: every hinted reader still returns it
      vchannel: isTick && random() < 0.8 ? '' : (VCHANNELS[Math.floor(random() * 4)] as string),
    });
  }
  return inits;
}

describe('read hints', () => {
  it('hintedVChannel takes a missing hint or vchannel as everything and rejects a bad one', () => {
    expect(hintedVChannel(undefined)).toBe('');
    expect(hintedVChannel({})).toBe('');
    expect(hintedVChannel({ vchannel: 'v7' })).toBe('v7');
    expect(() => hintedVChannel(null as never)).toThrow(ConfigError);
    expect(() => hintedVChannel({ vchannel: 7 } as never)).toThrow(/hint\.vchannel/);
  });

  it("matchesHint keeps the vchannel's messages, the broadcasts and every time tick", () => {
    expect(matchesHint(parseWalMessage('ins v1 @1', 1), 'v1')).toBe(true);
    expect(matchesHint(parseWalMessage('ins v2 @1', 1), 'v1')).toBe(false);
    expect(matchesHint(parseWalMessage('ins v2 @1', 1), '')).toBe(true);
    expect(matchesHint(parseWalMessage('ins @1', 1), 'v1')).toBe(true);
    expect(matchesHint(parseWalMessage('tt @1', 1), 'v1')).toBe(true);
  });
});

describe('memory WAL read pushdown', () => {
  it.each([1, 2, 3, 4, 5])(
    'seed %i: a hinted reader returns exactly the filtered log from every start, in batches',
    async (seed) => {
      const wal = createMemoryWal({ channel: 'p0', scheduler: new VirtualClock().scheduler });
      for (const init of randomInits(seed, 300)) wal.appendRaw(init);
      const all = await wal.read(DeliverPolicy.all()).next(10_000);
      for (const vchannel of ['v1', 'v2', 'nobody']) {
        for (const start of [1, 37, 150, 300, 301]) {
          const expected = all.filter((m) => Number(m.id.key) >= start && matchesHint(m, vchannel));
          const reader = wal.read(DeliverPolicy.startFrom(messageId(start)), { vchannel });
          const got: WalMessage[] = [];
          while (got.length < expected.length) got.push(...(await reader.next(7)));
          expect(ids(got)).toEqual(ids(expected));
          reader.close();
        }
      }
      await wal.close();
    },
  );

  it.each([1, 2, 3, 5, 8])(
    'batches of %i split the filtered log exactly, also while both position lists grow between reads',
    async (size) => {
      const wal = createMemoryWal({ channel: 'p0', scheduler: new VirtualClock().scheduler });
      const inits = randomInits(size + 10, 200);
      const reader = wal.read(DeliverPolicy.all(), { vchannel: 'v1' });
      const got: WalMessage[] = [];
      let pending = watch(reader.next(size));
      for (let written = 0; written < inits.length;) {
        // a few appends at a time: a batch may end inside a write, at its end, or wait for one
        const chunk = 1 + (written % 4);
        for (const init of inits.slice(written, written + chunk)) wal.appendRaw(init);
        written += chunk;
        await settle();
        while (pending.state === 'resolved') {
          const batch = pending.value ?? [];
          expect(batch.length).toBeGreaterThan(0);
          expect(batch.length).toBeLessThanOrEqual(size);
          got.push(...batch);
          pending = watch(reader.next(size));
          await settle();
        }
        expect(pending.state).toBe('pending');
      }
      const all = await wal.read(DeliverPolicy.all()).next(10_000);
      expect(ids(got)).toEqual(ids(all.filter((m) => matchesHint(m, 'v1'))));
      reader.close();
      await settle();
      expect(pending.state).toBe('rejected');
      await wal.close();
    },
  );

  it('a tailing hinted reader is woken by its vchannel and by common messages, not by others', async () => {
    const wal = createMemoryWal({ channel: 'p0', scheduler: new VirtualClock().scheduler });
    const reader = wal.read(DeliverPolicy.latest(), { vchannel: 'v1' });
    const first = watch(reader.next());
    wal.appendRaw({ type: 'Insert', timeTick: 1, vchannel: 'v2' });
    await settle();
    expect(first.state).toBe('pending');
    wal.appendRaw({ type: 'Insert', timeTick: 2, vchannel: 'v1' });
    await settle();
    expect(ids(first.value ?? [])).toEqual(['2']);
    const second = watch(reader.next());
    wal.appendRaw({ type: 'Insert', timeTick: 3, vchannel: 'v3' });
    wal.appendRaw({ type: 'TimeTick', timeTick: 4 });
    await settle();
    expect(ids(second.value ?? [])).toEqual(['4']);
    // a closed reader leaves nothing behind; a closed WAL ends a waiting one
    const third = reader.next();
    reader.close();
    await expect(third).rejects.toThrow(/closed/);
    const other = wal.read(DeliverPolicy.latest(), { vchannel: 'v9' });
    const waiting = other.next();
    await wal.close();
    await expect(waiting).rejects.toThrow(/closed/);
  });

  it("'' as the hint, or no hint, reads everything; the read-only view takes the hint too", async () => {
    const wal = createMemoryWal({ channel: 'p0', scheduler: new VirtualClock().scheduler });
    for (const init of randomInits(9, 50)) wal.appendRaw(init);
    const all = ids(await wal.read(DeliverPolicy.all()).next(1000));
    expect(ids(await wal.read(DeliverPolicy.all(), { vchannel: '' }).next(1000))).toEqual(all);
    const hinted = ids(await wal.read(DeliverPolicy.all(), { vchannel: 'v1' }).next(1000));
    expect(
      ids(await wal.readOnly().read(DeliverPolicy.all(), { vchannel: 'v1' }).next(1000)),
    ).toEqual(hinted);
    expect(hinted.length).toBeLessThan(all.length);
    expect(() => wal.read(DeliverPolicy.all(), { vchannel: 1 } as never)).toThrow(ConfigError);
    await wal.close();
  });
});

describe('MergedPositions: walking a dense vchannel, jumping in a sparse one', () => {
  /** A log and its position lists, built by the rule of MemoryLog.write. */
  const logOf = (
    inits: readonly { type: string; timeTick: number; vchannel: string }[],
    vchannel: string,
  ): { messages: WalMessage[]; own: number[]; common: number[] } => {
    const messages = inits.map((init, i) => createMessage({ id: i + 1, ...init }));
    const own: number[] = [];
    const common: number[] = [];
    messages.forEach((m, position) => {
      if (m.type === MessageType.TimeTick || m.vchannel === '') common.push(position);
      else if (m.vchannel === vchannel) own.push(position);
    });
    return { messages, own, common };
  };
  // A seed and the log's shape; the messages come from a uniform generator (fast-check's own
  // arrays and doubles favour tiny logs and extreme values).
  const arbitraryLog = fc
    .record({
      seed: fc.integer(),
      length: fc.integer({ min: 0, max: 400 }),
      vchannels: fc.integer({ min: 1, max: 40 }),
      tickRate: fc.double({ min: 0, max: 0.5, noNaN: true }),
      broadcastRate: fc.double({ min: 0, max: 0.2, noNaN: true }),
    })
    .map(({ seed, length, vchannels, tickRate, broadcastRate }) => {
      const random = seededRandom(seed);
      return Array.from({ length }, (_, i) => {
        const kind = random();
        return {
          type: kind < tickRate ? MessageType.TimeTick : MessageType.Insert,
          timeTick: 100 + i,
          vchannel:
            kind >= tickRate && kind < tickRate + broadcastRate
              ? ''
              : `v${Math.floor(random() * vchannels)}`,
        };
      });
    });

  it('returns exactly the filtered log from any start, walked, jumped or chosen per batch, while the lists grow', () => {
    fc.assert(
      fc.property(
        arbitraryLog,
        fc.nat(),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        fc.constantFrom(0, WALK_SPAN_PER_MESSAGE, Infinity),
        (inits, startSeed, batchSizes, walkSpanPerMessage) => {
          // v1 among v0…v39: v10…v19 start like it, so the walk's test must be exact
          const { messages, own, common } = logOf(inits, 'v1');
          const start = inits.length === 0 ? 0 : startSeed % (inits.length + 1);
          const expected = messages.filter((m, i) => i >= start && matchesHint(m, 'v1'));
          // the log grows between batches: the reader sees a prefix of the lists at first
          const visible = {
            messages: [] as WalMessage[],
            own: [] as number[],
            common: [] as number[],
          };
          const reveal = (upTo: number): void => {
            for (let i = visible.messages.length; i < upTo; i++) {
              visible.messages.push(messages[i] as WalMessage);
              if (own.includes(i)) visible.own.push(i);
              if (common.includes(i)) visible.common.push(i);
            }
          };
          reveal(Math.min(start, inits.length));
          const positions = new MergedPositions(
            'v1',
            visible.own,
            visible.common,
            start,
            walkSpanPerMessage,
          );
          const got: WalMessage[] = [];
          // every round reveals at least one more message: this many rounds read the whole log
          for (let round = 0; round <= inits.length + 1; round++) {
            reveal(Math.min(inits.length, visible.messages.length + 1 + (round % 17)));
            const size = batchSizes[round % batchSizes.length] as number;
            const batch = positions.take(visible.messages, size);
            expect(batch.length).toBeLessThanOrEqual(size);
            got.push(...batch);
          }
          expect(ids(got)).toEqual(ids(expected));
          expect(positions.take(visible.messages, 10)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts how many of a batch come from the first list as a merge would', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat({ max: 500 }), { maxLength: 120 }),
        fc.array(fc.boolean(), { minLength: 120, maxLength: 120 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (entries, inA, aSeed, bSeed, countSeed) => {
          const sorted = [...entries].sort((x, y) => x - y);
          const a = sorted.filter((_, i) => inA[i]);
          const b = sorted.filter((_, i) => !inA[i]);
          const ai = aSeed % (a.length + 1);
          const bi = bSeed % (b.length + 1);
          const merged = [...a.slice(ai), ...b.slice(bi)].sort((x, y) => x - y);
          fc.pre(merged.length > 0);
          const count = 1 + (countSeed % merged.length);
          const batch = new Set(merged.slice(0, count));
          const fromA = a.slice(ai).filter((x) => batch.has(x)).length;
          expect(takenFromFirst(a, ai, b, bi, count)).toBe(fromA);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('walks a dense stretch, then jumps through a sparse one from exactly where the walk stopped', () => {
    // positions 0–199: v1 every other message; 200–999: v1 one in eighty; a tick every 50
    const inits = Array.from({ length: 1000 }, (_, i) => ({
      type: i % 50 === 49 ? MessageType.TimeTick : MessageType.Insert,
      timeTick: 100 + i,
      vchannel:
        i % 50 === 49 ? '' : (i < 200 ? i % 2 === 0 : i % 80 === 0) ? 'v1' : `v${2 + (i % 3)}`,
    }));
    const { messages, own, common } = logOf(inits, 'v1');
    const lookedAt = new Set<number>();
    const watched = messages.map(
      (m, position) =>
        new Proxy(m, {
          get(target, key, receiver) {
            lookedAt.add(position);
            return Reflect.get(target, key, receiver) as unknown;
          },
        }),
    );
    const reader = new MergedPositions('v1', own, common, 0);
    const read: WalMessage[] = [];
    // bounded: a reader that returned a message twice must fail here, not loop for ever
    for (let round = 0; round <= messages.length; round++) read.push(...reader.take(watched, 10));
    const expected = messages.filter((m) => matchesHint(m, 'v1'));
    expect(ids(read)).toEqual(ids(expected));
    const others = [...lookedAt].filter(
      (position) => !own.includes(position) && !common.includes(position),
    );
    expect(others.some((position) => position < 200)).toBe(true); // the dense stretch was walked
    // the batch that crosses into the sparse stretch may still walk; the batches after it jump
    expect(others.filter((position) => position >= 500)).toEqual([]);
  });

  it("a sparse vchannel's batches are jumped, reading no other vchannel's message; a dense one walks the few between its own", () => {
    const touched = new Set<string>();
    const watched = (m: WalMessage): WalMessage =>
      new Proxy(m, {
        get(target, key, receiver) {
          touched.add(target.vchannel);
          return Reflect.get(target, key, receiver) as unknown;
        },
      });
    // 100 vchannels, a time tick every 50 messages: one vchannel is 1 % of the log
    const inits = Array.from({ length: 5000 }, (_, i) => ({
      type: i % 50 === 49 ? MessageType.TimeTick : MessageType.Insert,
      timeTick: 100 + i,
      vchannel: i % 50 === 49 ? '' : `v${(i * 37) % 100}`,
    }));
    const sparse = logOf(inits, 'v7');
    const reader = new MergedPositions('v7', sparse.own, sparse.common, 0);
    const read: WalMessage[] = [];
    for (let batch = reader.take(sparse.messages.map(watched), 64); batch.length > 0;) {
      for (const m of batch) read.push(m);
      batch = reader.take(sparse.messages.map(watched), 64);
    }
    expect(read.length).toBe(sparse.own.length + sparse.common.length);
    expect([...touched]).toEqual([]); // jumped: nothing was even looked at

    // four vchannels: v1 is a quarter of the log, walked, so its neighbours are looked at
    const dense = logOf(
      inits.map((init, i) => ({ ...init, vchannel: init.vchannel === '' ? '' : `v${i % 4}` })),
      'v1',
    );
    const walked = new MergedPositions('v1', dense.own, dense.common, 0).take(
      dense.messages.map(watched),
      64,
    );
    const lookedAt = [...touched].sort(); // before the checks below read the messages too
    expect(ids(walked)).toEqual(
      ids(dense.messages.filter((m) => matchesHint(m, 'v1')).slice(0, 64)),
    );
    expect(lookedAt).toEqual(['', 'v0', 'v1', 'v2', 'v3']);
  });
});

describe('write-ahead buffer read pushdown', () => {
  let nextId = 1;
  const at = (text: string): WalMessage => parseWalMessage(text, nextId++);

  /** Reads whatever the reader returns until it would wait; closes it. */
  async function drain(reader: WabReader): Promise<WalMessage[]> {
    const got: WalMessage[] = [];
    for (;;) {
      const next = watch(reader.next());
      await settle();
      if (next.state === 'rejected') throw next.error;
      if (next.state === 'pending') {
        reader.close();
        return got;
      }
      got.push(next.value as WalMessage);
    }
  }

  async function join(
    wab: MemoryWriteAheadBuffer,
    tt: bigint,
    vchannel: string,
  ): Promise<WalMessage[] | 'evicted'> {
    try {
      return await drain(await wab.readFromExclusiveTimeTick(tt, { vchannel }));
    } catch (err) {
      if (err instanceof EvictedError) return 'evicted';
      throw err;
    }
  }

  it.each([11, 12, 13])(
    'seed %i: through rounds, evictions and compactions, a hinted reader returns the filtered unhinted one',
    async (seed) => {
      const random = seededRandom(seed);
      const scheduler = new VirtualTimeScheduler();
      // a small capacity evicts, and thousands of entries make the buffer compact its array
      const wab = new MemoryWriteAheadBuffer(at('tt @100 size=0'), { capacity: 1500, scheduler });
      const readers = new Map<string, Promise<WabReader>>();
      for (const v of ['', 'v1', 'v2'])
        readers.set(v, wab.readFromExclusiveTimeTick(100n, { vchannel: v }));
      let tt = 100;
      const ticks: bigint[] = [100n];
      for (let round = 0; round < 400; round++) {
        const messages: WalMessage[] = [];
        const n = Math.floor(random() * 12);
        for (let i = 0; i < n; i++) {
          const v = VCHANNELS[Math.floor(random() * 4)] as string;
          messages.push(at(`ins ${v} @${++tt} size=1`.replace('  ', ' ')));
        }
        const persisted = n > 0 || random() < 0.5;
        wab.append(messages, at(`tt @${++tt}${persisted ? '' : ' np'} size=0`));
        ticks.push(BigInt(tt));
        if (round % 50 !== 0) continue;
        // joins at a few recent ticks: the hinted view is the unhinted one, filtered
        for (const from of ticks.slice(-30, -1).filter((_, i) => i % 7 === 0)) {
          const everything = await join(wab, from, '');
          for (const v of ['v1', 'v2', 'v3']) {
            const hinted = await join(wab, from, v);
            if (everything === 'evicted') expect(hinted).toBe('evicted');
            else
              expect(hinted === 'evicted' ? hinted : ids(hinted)).toEqual(
                ids(everything.filter((m) => matchesHint(m, v))),
              );
          }
        }
      }
      // the readers that joined at the start fell behind the small buffer: all of them evicted alike
      for (const joined of readers.values()) {
        const reader = await joined;
        const outcome = await drain(reader).catch((err: unknown) => err);
        expect(outcome).toBeInstanceOf(EvictedError);
      }
      wab.close();
    },
  );

  it('a tailing hinted reader gets its entries and every time tick of each round', async () => {
    const wab = new MemoryWriteAheadBuffer(at('tt @100 size=0'), {
      scheduler: new VirtualTimeScheduler(),
    });
    const reader = await wab.readFromExclusiveTimeTick(100n, { vchannel: 'v1' });
    const ticks = (ms: readonly WalMessage[]): string[] =>
      ms.map((m) => `${m.type} ${m.vchannel} ${m.timeTick}`);
    wab.append([at('ins v2 @101'), at('ins v1 @102'), at('ins @103')], at('tt @104'));
    expect(ticks([await reader.next(), ...(reader.readBuffered?.(10) ?? [])])).toEqual([
      'Insert v1 102',
      'Insert  103',
      'TimeTick  104',
    ]);
    wab.append([at('ins v3 @105')], at('tt @106'));
    expect(ticks([await reader.next()])).toEqual(['TimeTick  106']);
    // a not-persisted tick alone becomes the latest tick a waiting reader sees
    wab.append([], at('tt @107 np'));
    expect(ticks([await reader.next()])).toEqual(['TimeTick  107']);
    reader.close();
    wab.close();
  });
});
