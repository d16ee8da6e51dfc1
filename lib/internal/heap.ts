/**
 * A binary min-heap ordered by a bigint key, stable: equal keys come out in insertion order.
 * Keys and values live in parallel arrays, so a push allocates nothing beyond array growth.
 */
export class StableHeap<T> {
  private keys: bigint[] = [];
  private seqs: number[] = [];
  private values: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.values.length;
  }

  /** The smallest key, or undefined when empty. */
  peekKey(): bigint | undefined {
    return this.keys[0];
  }

  /** The value with the smallest key, or undefined when empty. */
  peek(): T | undefined {
    return this.values[0];
  }

  push(key: bigint, value: T): void {
    const keys = this.keys;
    const seqs = this.seqs;
    const values = this.values;
    const seq = this.nextSeq++;
    let i = values.length;
    keys.push(key);
    seqs.push(seq);
    values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentKey = keys[parent] as bigint;
      if (parentKey < key || (parentKey === key && (seqs[parent] as number) < seq)) break;
      keys[i] = parentKey;
      seqs[i] = seqs[parent] as number;
      values[i] = values[parent] as T;
      i = parent;
    }
    keys[i] = key;
    seqs[i] = seq;
    values[i] = value;
  }

  /** Removes and returns the value with the smallest key (the oldest among equals). */
  pop(): T | undefined {
    const values = this.values;
    const n = values.length;
    if (n === 0) return undefined;
    const top = values[0] as T;
    const keys = this.keys;
    const seqs = this.seqs;
    const lastKey = keys.pop() as bigint;
    const lastSeq = seqs.pop() as number;
    const lastValue = values.pop() as T;
    const size = n - 1;
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
      values[i] = values[child] as T;
      i = child;
    }
    keys[i] = lastKey;
    seqs[i] = lastSeq;
    values[i] = lastValue;
    return top;
  }

  /** Every value, in no particular order. */
  toArray(): T[] {
    return this.values.slice();
  }

  clear(): void {
    this.keys = [];
    this.seqs = [];
    this.values = [];
    this.nextSeq = 0;
  }
}
