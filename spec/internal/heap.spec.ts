import fc from 'fast-check';

import { StableHeap } from '../../lib/internal/heap.js';

const MAX = (1n << 64n) - 1n;

interface Entry {
  readonly key: bigint;
  readonly arrival: number;
}

/** A stable sort by key: equal keys keep arrival order (Array.prototype.sort is stable). */
function stableSorted(entries: readonly Entry[]): Entry[] {
  return [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function drain<T>(heap: StableHeap<T>): T[] {
  const out: T[] = [];
  for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
  return out;
}

/** Keys from small and near-2^64 ranges (many duplicates) mixed with any 64-bit value. */
const keyArb = fc.oneof(
  fc.bigInt({ min: 0n, max: 4n }),
  fc.bigInt({ min: MAX - 4n, max: MAX }),
  fc.constantFrom(0n, 2n ** 53n, 2n ** 53n + 1n, MAX - 262_144n, MAX),
  fc.bigInt({ min: 0n, max: MAX }),
);

describe('StableHeap', () => {
  it('is empty at first', () => {
    const heap = new StableHeap<string>();
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
    expect(heap.peekKey()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    expect(heap.toArray()).toEqual([]);
  });

  it('cuts its arrays down after a burst, also while an entry outlives it, and stays correct', () => {
    const heap = new StableHeap<number>();
    /** The heap's parallel arrays (private: their length is what this test is about). */
    const slots = (): number[] => {
      const arrays = heap as unknown as { keys: unknown[]; seqs: unknown[]; values: unknown[] };
      return [arrays.keys.length, arrays.seqs.length, arrays.values.length];
    };
    heap.push(1_000_000n, -1); // a long-lived entry: the heap never empties
    for (let i = 0; i < 100_000; i++) heap.push(BigInt(i % 977), i);
    expect(slots()).toEqual([100_001, 100_001, 100_001]);
    const popped: number[] = [];
    for (let i = 0; i < 100_000; i++) popped.push(heap.pop() as number);
    expect(heap.size).toBe(1);
    expect(Math.max(...slots())).toBeLessThanOrEqual(4_096);
    expect(heap.peek()).toBe(-1);
    // equal keys still in arrival order, keys ascending, across the cuts
    const expected = Array.from({ length: 100_000 }, (_, i) => i).sort(
      (a, b) => (a % 977) - (b % 977) || a - b,
    );
    expect(popped).toEqual(expected);
  });

  it('keeps small arrays at their length while it drains (no allocation per window)', () => {
    const heap = new StableHeap<number>();
    for (let i = 0; i < 100; i++) heap.push(BigInt(i), i);
    drain(heap);
    const arrays = heap as unknown as { keys: unknown[] };
    expect(arrays.keys.length).toBe(100);
  });

  it('pops in key order', () => {
    const heap = new StableHeap<string>();
    for (const [key, value] of [
      [5n, 'e'],
      [1n, 'a'],
      [4n, 'd'],
      [2n, 'b'],
      [3n, 'c'],
    ] as const) {
      heap.push(key, value);
    }
    expect(heap.size).toBe(5);
    expect(heap.peekKey()).toBe(1n);
    expect(heap.peek()).toBe('a');
    expect(drain(heap)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(heap.size).toBe(0);
  });

  it('pops equal keys in insertion order (stable)', () => {
    const heap = new StableHeap<string>();
    heap.push(7n, 'first');
    heap.push(3n, 'x');
    heap.push(7n, 'second');
    heap.push(7n, 'third');
    heap.push(3n, 'y');
    heap.push(7n, 'fourth');
    expect(drain(heap)).toEqual(['x', 'y', 'first', 'second', 'third', 'fourth']);
  });

  it('keeps many equal keys in insertion order', () => {
    const heap = new StableHeap<number>();
    for (let i = 0; i < 100; i++) heap.push(42n, i);
    expect(drain(heap)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('orders keys near 2^64 exactly', () => {
    const heap = new StableHeap<string>();
    heap.push(MAX, 'max');
    heap.push(MAX - 1n, 'max-1');
    heap.push(2n ** 53n + 1n, '2^53+1');
    heap.push(2n ** 53n, '2^53');
    expect(drain(heap)).toEqual(['2^53', '2^53+1', 'max-1', 'max']);
  });

  it('peek does not remove', () => {
    const heap = new StableHeap<string>();
    heap.push(2n, 'b');
    heap.push(1n, 'a');
    expect(heap.peek()).toBe('a');
    expect(heap.peek()).toBe('a');
    expect(heap.size).toBe(2);
  });

  it('stays stable for equal keys pushed after the heap was emptied', () => {
    const heap = new StableHeap<string>();
    heap.push(1n, 'old');
    expect(heap.pop()).toBe('old');
    heap.push(1n, 'a');
    heap.push(1n, 'b');
    heap.push(0n, 'z');
    heap.push(1n, 'c');
    expect(drain(heap)).toEqual(['z', 'a', 'b', 'c']);
  });

  it('stays stable when pushes and pops interleave', () => {
    const heap = new StableHeap<string>();
    heap.push(5n, 'a');
    heap.push(5n, 'b');
    expect(heap.pop()).toBe('a');
    heap.push(5n, 'c');
    heap.push(4n, 'd');
    expect(heap.pop()).toBe('d');
    expect(heap.pop()).toBe('b');
    heap.push(5n, 'e');
    expect(drain(heap)).toEqual(['c', 'e']);
  });

  it('holds falsy values (0, empty string, null)', () => {
    const heap = new StableHeap<number | string | null>();
    heap.push(2n, 0);
    heap.push(1n, '');
    heap.push(3n, null);
    expect(heap.pop()).toBe('');
    expect(heap.pop()).toBe(0);
    expect(heap.pop()).toBeNull();
    expect(heap.pop()).toBeUndefined();
  });

  it('toArray returns a copy of every value', () => {
    const heap = new StableHeap<string>();
    heap.push(2n, 'b');
    heap.push(1n, 'a');
    const values = heap.toArray();
    expect([...values].sort()).toEqual(['a', 'b']);
    values.length = 0;
    expect(heap.size).toBe(2);
  });

  it('clear empties the heap and it works afterwards', () => {
    const heap = new StableHeap<string>();
    heap.push(2n, 'b');
    heap.push(1n, 'a');
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    heap.push(3n, 'x');
    heap.push(3n, 'y');
    expect(drain(heap)).toEqual(['x', 'y']);
  });

  it('property: popping everything yields a stable sort of the pushed (key, arrival) pairs', () => {
    fc.assert(
      fc.property(fc.array(keyArb, { maxLength: 200 }), (keys) => {
        const entries = keys.map((key, arrival): Entry => ({ key, arrival }));
        const heap = new StableHeap<Entry>();
        for (const entry of entries) heap.push(entry.key, entry);
        expect(heap.size).toBe(entries.length);
        const popped = drain(heap);
        expect(popped).toEqual(stableSorted(entries));
        expect(heap.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('property: with pushes and pops interleaved, every pop is the stable minimum of what is held', () => {
    const opArb = fc.oneof(
      { weight: 3, arbitrary: keyArb.map((key) => ({ push: key })) },
      { weight: 2, arbitrary: fc.constant({ push: undefined }) },
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const heap = new StableHeap<Entry>();
        let model: Entry[] = []; // kept stably sorted
        ops.forEach((op, arrival) => {
          if (op.push !== undefined) {
            const entry: Entry = { key: op.push, arrival };
            heap.push(entry.key, entry);
            model = stableSorted([...model, entry]);
          } else {
            const expected = model.shift();
            expect(heap.peekKey()).toBe(expected?.key);
            expect(heap.pop()).toBe(expected);
          }
          expect(heap.size).toBe(model.length);
        });
        expect(drain(heap)).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });
});
