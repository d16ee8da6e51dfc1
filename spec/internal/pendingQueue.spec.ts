import type { WalMessage } from '../../lib/message/message.js';
import { PendingQueue } from '../../lib/internal/pendingQueue.js';
import { parseWalMessage } from '../../lib/testing/notation.js';

function message(id: number, size: number): WalMessage {
  return parseWalMessage(`ins v1 @${100 + id} size=${size}`, id);
}

describe('PendingQueue', () => {
  describe('reference § 8.4 (utility/pending_queue_test.go)', () => {
    const m1 = message(1, 1);
    const m2 = message(2, 2);
    const m3 = message(3, 3);

    it('step 1: a new queue holds 0 bytes', () => {
      const queue = new PendingQueue();
      expect(queue.bytes).toBe(0);
      expect(queue.length).toBe(0);
      expect(queue.next()).toBeUndefined();
    });

    it('steps 2–4: addOne(m1), add([m2, m3]), advance() give 1, 6, 5 bytes', () => {
      const queue = new PendingQueue();
      queue.addOne(m1);
      expect(queue.bytes).toBe(1);
      queue.add([m2, m3]);
      expect(queue.bytes).toBe(6);
      expect(queue.advance()).toBe(m1);
      expect(queue.bytes).toBe(5);
    });

    it('derived: next() order is m1, m2, m3; length 1 → 3 → 2; add([]) changes nothing', () => {
      const queue = new PendingQueue();
      queue.addOne(m1);
      expect(queue.length).toBe(1);
      queue.add([m2, m3]);
      expect(queue.length).toBe(3);
      queue.add([]);
      expect(queue.length).toBe(3);
      expect(queue.bytes).toBe(6);
      const order: WalMessage[] = [];
      expect(queue.next()).toBe(m1);
      order.push(queue.advance() as WalMessage);
      expect(queue.length).toBe(2);
      expect(queue.next()).toBe(m2);
      order.push(queue.advance() as WalMessage);
      expect(queue.next()).toBe(m3);
      order.push(queue.advance() as WalMessage);
      expect(order).toEqual([m1, m2, m3]);
      expect(queue.length).toBe(0);
      expect(queue.bytes).toBe(0);
      expect(queue.next()).toBeUndefined();
    });
  });

  it('advance() on an empty queue returns undefined and changes nothing', () => {
    const queue = new PendingQueue();
    expect(queue.advance()).toBeUndefined();
    expect(queue.length).toBe(0);
    expect(queue.bytes).toBe(0);
  });

  it('keeps first-in-first-out order and the byte count across many adds and advances (compaction)', () => {
    const queue = new PendingQueue();
    const all = Array.from({ length: 5000 }, (_, i) => message(i + 1, (i % 7) + 1));
    const sizeOf = (ms: readonly WalMessage[]): number => ms.reduce((sum, m) => sum + m.size, 0);
    queue.add(all.slice(0, 3000));
    const taken: WalMessage[] = [];
    for (let i = 0; i < 2500; i++) taken.push(queue.advance() as WalMessage);
    expect(queue.length).toBe(500);
    expect(queue.bytes).toBe(sizeOf(all.slice(2500, 3000)));
    queue.add(all.slice(3000));
    expect(queue.length).toBe(2500);
    while (queue.next() !== undefined) taken.push(queue.advance() as WalMessage);
    expect(taken).toEqual(all);
    expect(queue.bytes).toBe(0);
  });

  it('clear() drops everything and returns the bytes it held', () => {
    const queue = new PendingQueue();
    queue.add([message(1, 4), message(2, 5)]);
    queue.advance();
    expect(queue.clear()).toBe(5);
    expect(queue.length).toBe(0);
    expect(queue.bytes).toBe(0);
    expect(queue.next()).toBeUndefined();
    queue.addOne(message(3, 2));
    expect(queue.next()?.id.key).toBe('3');
  });
});
