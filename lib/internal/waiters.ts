/**
 * Callbacks waiting for one event (a write, an append, room in a queue): each is called once, on
 * the next `wakeAll()`, unless it was `delete`d first (a reader closed meanwhile).
 */
export class Waiters {
  private waiting = new Set<() => void>();

  get size(): number {
    return this.waiting.size;
  }

  add(wake: () => void): void {
    this.waiting.add(wake);
  }

  delete(wake: () => void): void {
    this.waiting.delete(wake);
  }

  /** A promise that resolves on the next `wakeAll()`. */
  next(): Promise<void> {
    return new Promise((resolve) => this.waiting.add(resolve));
  }

  /** Calls every waiting callback once; those added while it runs wait for the next call. */
  wakeAll(): void {
    if (this.waiting.size === 0) return; // called per message on hot paths: allocate nothing
    const waiting = this.waiting;
    this.waiting = new Set();
    for (const wake of waiting) wake();
  }
}
