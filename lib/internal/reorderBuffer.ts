import type { WalMessage } from '../message/message.js';
import type { TimeTick } from '../message/tso.js';
import { StableHeap } from './heap.js';

/** Why {@link ReorderBuffer.push} refused a message. */
export type ReorderRejection = 'violation' | 'duplicate';

/**
 * The reorder buffer of reference § 4.4: messages wait in a heap by tick until a time tick
 * releases every message at or below it, in tick order (arrival order among equal ticks).
 * `lastPopTimeTick` never moves backwards (DESIGN decision 2).
 */
export class ReorderBuffer<P = unknown> {
  private readonly heap = new StableHeap<WalMessage<P>>();
  private readonly ids = new Set<string>();
  private lastPop: TimeTick = 0n;

  /** Messages waiting. */
  get length(): number {
    return this.heap.size;
  }

  /**
   * Σ size of the messages waiting, summed when asked (at a teardown, in a test) rather than kept
   * up to date per message: the reorder stage's gauge follows each message's own size.
   */
  get bytes(): number {
    let total = 0;
    for (const m of this.heap.toArray()) total += m.size;
    return total;
  }

  /** The highest time tick released so far (0 before the first). */
  get lastPopTimeTick(): TimeTick {
    return this.lastPop;
  }

  /**
   * Buffers `m`, or says why not: `violation` when its tick is below the last released one
   * (equal is allowed), `duplicate` when a message with the same id is already waiting.
   */
  push(m: WalMessage<P>): ReorderRejection | undefined {
    if (m.timeTick < this.lastPop) return 'violation';
    const key = m.id.key;
    if (this.ids.has(key)) return 'duplicate';
    this.ids.add(key);
    this.heap.push(m.timeTick, m);
    return undefined;
  }

  /**
   * A time tick `tt` arrived: raises `lastPopTimeTick` to it (never lowers it). Then
   * {@link popAtMost}(`tt`) hands out the messages it releases.
   */
  release(tt: TimeTick): void {
    if (tt > this.lastPop) this.lastPop = tt;
  }

  /**
   * Removes and returns the next message with tick ≤ `tt` in tick order, or undefined when none
   * waits: one at a time, so an operator emits each without building an array per time tick.
   */
  popAtMost(tt: TimeTick): WalMessage<P> | undefined {
    const heap = this.heap;
    const top = heap.peekKey();
    if (top === undefined || top > tt) return undefined;
    const m = heap.pop() as WalMessage<P>;
    this.ids.delete(m.id.key);
    return m;
  }

  /** Drops everything waiting; returns the bytes it held. */
  clear(): number {
    const bytes = this.bytes;
    this.heap.clear();
    this.ids.clear();
    return bytes;
  }
}
