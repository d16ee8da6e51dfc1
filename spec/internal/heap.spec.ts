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
