import type { WalMessage } from '../message/message.js';

/**
 * The pending queue of reference § 4.6: messages waiting for the consumer, first in first out,
 * with their total size. Batches are appended whole; the head is taken one message at a time.
 */
export class PendingQueue<M extends WalMessage = WalMessage> {
  private items: (M | undefined)[] = [];
  private head = 0;
  private totalBytes = 0;

  /** Messages waiting. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Σ size of the messages waiting. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Appends a batch (an empty one changes nothing). */
  add(batch: readonly M[]): void {
    for (const m of batch) this.addOne(m);
  }

  addOne(m: M): void {
    this.items.push(m);
    this.totalBytes += m.size;
  }

  /** The head, or undefined when empty. */
  next(): M | undefined {
    return this.items[this.head];
  }

  /** Removes the head and returns it (undefined when empty). */
  advance(): M | undefined {
    const m = this.items[this.head];
    if (m === undefined) return undefined;
    this.items[this.head] = undefined; // release the reference
    this.head++;
    this.totalBytes -= m.size;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return m;
  }

  /** Drops everything; returns the bytes it held. */
  clear(): number {
    const bytes = this.totalBytes;
    this.items = [];
    this.head = 0;
    this.totalBytes = 0;
    return bytes;
  }
}
