/**
 * A binary min-heap ordered by a bigint key, stable: equal keys come out in insertion order.
 * Keys and values live in parallel arrays that keep their length while the heap drains, so a
 * heap that fills and empties once per time-tick window allocates nothing in its steady state;
 * arrays longer than 4,096 slots are cut once a quarter of them is in use, so a burst's memory
 * goes even while an entry outlives it.
 */
export class StableHeap<T> {
  private keys: bigint[] = [];
  private seqs: number[] = [];
  private values: (T | undefined)[] = [];
  private count = 0;
  private nextSeq = 0;

  get size(): number {
    return this.count;
  }

  /** The smallest key, or undefined when empty. */
  peekKey(): bigint | undefined {
    return this.count === 0 ? undefined : this.keys[0];
  }

  /** The value with the smallest key, or undefined when empty. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.values[0];
  }

  push(key: bigint, value: T): void {
    const keys = this.keys;
    const seqs = this.seqs;
    const values = this.values;
    const seq = this.nextSeq++;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentKey = keys[parent] as bigint;
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

  /** Removes and returns the value with the smallest key (the oldest among equals). */
  pop(): T | undefined {
    if (this.count === 0) return undefined;
    const keys = this.keys;
    const seqs = this.seqs;
    const values = this.values;
    const top = values[0] as T;
    const size = --this.count;
    const lastKey = keys[size] as bigint;
    const lastSeq = seqs[size] as number;
    const lastValue = values[size];
    values[size] = undefined; // the heap no longer holds it
    if (keys.length > SHRINK_ABOVE && size * 4 < keys.length) {
      // a burst is over: let its slots (and the stale keys in them) go
      keys.length = size;
      seqs.length = size;
      values.length = size;
    }
    if (size === 0) {
      this.nextSeq = 0; // sequences only need to order what is in the heap together
      return top;
    }
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size) {
        const leftKey = keys[child] as bigint;
        const rightKey = keys[right] as bigint;
        if (
          rightKey < leftKey ||
          (rightKey === leftKey && (seqs[right] as number) < (seqs[child] as number))
        ) {
          child = right;
        }
      }
      const childKey = keys[child] as bigint;
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

  /** Every value, in no particular order. */
  toArray(): T[] {
    return this.values.slice(0, this.count) as T[];
  }

  clear(): void {
    this.keys = [];
    this.seqs = [];
    this.values = [];
    this.count = 0;
    this.nextSeq = 0;
  }
}

/** Arrays up to this length stay as they are while the heap drains; longer ones are cut down. */
const SHRINK_ABOVE = 4096;
