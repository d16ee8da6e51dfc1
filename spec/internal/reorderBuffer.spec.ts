import { ReorderBuffer } from '../../lib/internal/reorderBuffer.js';
import { createMessage } from '../../lib/message/createMessage.js';
import type { WalMessage } from '../../lib/message/message.js';
import { MAX_TIME_TICK } from '../../lib/message/tso.js';

function insert(id: number, timeTick: bigint | number, size = 1): WalMessage {
  return createMessage({ id, type: 'Insert', timeTick, vchannel: 'v1', size });
}

/** A deterministic permutation of 1..n (Fisher–Yates driven by a small LCG), so failures replay. */
function permutation(n: number, seed: number): number[] {
  const values = Array.from({ length: n }, (_, i) => i + 1);
  let state = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    const a = values[i] as number;
    values[i] = values[j] as number;
    values[j] = a;
  }
  return values;
}

/**
 * The reference's PopUntil (§ 4.4): a time tick `tt` arrives, and every message with tick ≤ `tt`
 * comes out in tick order — how reorderUntilTick drives the buffer, as one call.
 */
function popUntil(buffer: ReorderBuffer, tt: bigint): WalMessage[] {
  buffer.release(tt);
  const released: WalMessage[] = [];
  for (let m = buffer.popAtMost(tt); m !== undefined; m = buffer.popAtMost(tt)) released.push(m);
  return released;
}

const ticksOf = (ms: readonly WalMessage[]): bigint[] => ms.map((m) => m.timeTick);
const idsOf = (ms: readonly WalMessage[]): string[] => ms.map((m) => m.id.key);

describe('ReorderBuffer', () => {
  describe('reference § 8.2 reorder_buffer_test (upstream)', () => {
    it.each([1, 7, 42, 2024, 0xdeadbeef])(
      'releases a random permutation of ticks 1..25 as 0, {1}, 2..10, 11..25 (seed %i)',
      (seed) => {
        const buffer = new ReorderBuffer();
        const ticks = permutation(25, seed);
        expect([...ticks].sort((a, b) => a - b)).toEqual(
          Array.from({ length: 25 }, (_, i) => i + 1),
        );
        ticks.forEach((tt, i) => {
          expect(buffer.push(insert(i, tt))).toBeUndefined();
          expect(buffer.length).toBe(i + 1);
        });
        expect(buffer.bytes).toBe(25);

        expect(popUntil(buffer, 0n)).toHaveLength(0);
        expect(buffer.length).toBe(25);

        const one = popUntil(buffer, 1n);
        expect(ticksOf(one)).toEqual([1n]);
        expect(buffer.length).toBe(24);

        const upToTen = popUntil(buffer, 10n);
        expect(upToTen).toHaveLength(9);
        expect(ticksOf(upToTen)).toEqual([2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
        expect(buffer.length).toBe(15);

        const rest = popUntil(buffer, 25n);
        expect(rest).toHaveLength(15);
        expect(ticksOf(rest)).toEqual(Array.from({ length: 15 }, (_, i) => BigInt(i + 11)));
        expect(buffer.length).toBe(0);
        expect(buffer.bytes).toBe(0);
        expect(buffer.lastPopTimeTick).toBe(25n);
      },
    );
  });

  describe('reference § 8.2 [derived] extra reorder cases', () => {
    it('follows the derived table step by step (len, bytes, lastPop, results)', () => {
      const buffer = new ReorderBuffer();
      const id1 = insert(1, 5, 4);

      // step 1
      expect(buffer.push(id1)).toBeUndefined();
      expect([buffer.length, buffer.bytes, buffer.lastPopTimeTick]).toEqual([1, 4, 0n]);
      // step 2: the same id again is a duplicate, not a violation
      expect(buffer.push(insert(1, 5, 4))).toBe('duplicate');
      expect([buffer.length, buffer.bytes, buffer.lastPopTimeTick]).toEqual([1, 4, 0n]);
      // step 3
      expect(buffer.push(insert(2, 3, 2))).toBeUndefined();
      expect([buffer.length, buffer.bytes, buffer.lastPopTimeTick]).toEqual([2, 6, 0n]);
      // step 4
      expect(idsOf(popUntil(buffer, 4n))).toEqual(['2']);
      expect([buffer.length, buffer.bytes, buffer.lastPopTimeTick]).toEqual([1, 4, 4n]);
      // step 5: 3 < 4
      expect(buffer.push(insert(3, 3, 8))).toBe('violation');
      expect([buffer.length, buffer.bytes, buffer.lastPopTimeTick]).toEqual([1, 4, 4n]);
      // step 6: equal to lastPop is allowed
      expect(buffer.push(insert(4, 4, 1))).toBeUndefined();
      expect([buffer.length, buffer.bytes, buffer.lastPopTimeTick]).toEqual([2, 5, 4n]);
      // step 7
      const released = popUntil(buffer, 5n);
      expect(idsOf(released)).toEqual(['4', '1']);
      expect(ticksOf(released)).toEqual([4n, 5n]);
      expect([buffer.length, buffer.bytes, buffer.lastPopTimeTick]).toEqual([0, 0, 5n]);
      expect(released[1]).toBe(id1);
    });
  });

  describe('lastPopTimeTick never moves backwards (DESIGN decision 2, unlike reference § 4.4 / Q6)', () => {
    it('keeps lastPopTimeTick when popUntil is called with a smaller tick', () => {
      const buffer = new ReorderBuffer();
      popUntil(buffer, 10n);
      expect(buffer.lastPopTimeTick).toBe(10n);
      expect(popUntil(buffer, 3n)).toHaveLength(0);
      expect(buffer.lastPopTimeTick).toBe(10n);
      // the old tick does not re-open the buffer to old messages
      expect(buffer.push(insert(1, 5))).toBe('violation');
      expect(buffer.length).toBe(0);
    });

    it('a smaller popUntil after a larger one releases nothing and leaves the waiting messages', () => {
      const buffer = new ReorderBuffer();
      popUntil(buffer, 10n);
      buffer.push(insert(1, 12));
      buffer.push(insert(2, 20));
      expect(idsOf(popUntil(buffer, 15n))).toEqual(['1']);
      expect(buffer.lastPopTimeTick).toBe(15n);
      expect(popUntil(buffer, 11n)).toHaveLength(0);
      expect(buffer.lastPopTimeTick).toBe(15n);
      expect(buffer.length).toBe(1);
    });
  });

  it('starts empty with lastPopTimeTick 0 and accepts a message at tick 0', () => {
    const buffer = new ReorderBuffer();
    expect([buffer.length, buffer.bytes, buffer.lastPopTimeTick]).toEqual([0, 0, 0n]);
    expect(buffer.push(insert(1, 0, 3))).toBeUndefined();
    expect(idsOf(popUntil(buffer, 0n))).toEqual(['1']);
  });

  it('releases equal ticks in arrival order (stable, DESIGN decision 3)', () => {
    const buffer = new ReorderBuffer();
    for (const id of [9, 3, 7, 1, 5, 2]) buffer.push(insert(id, 4));
    buffer.push(insert(100, 2));
    buffer.push(insert(101, 6));
    buffer.push(insert(102, 4));
    expect(idsOf(popUntil(buffer, 6n))).toEqual([
      '100',
      '9',
      '3',
      '7',
      '1',
      '5',
      '2',
      '102',
      '101',
    ]);
  });

  it('forgets released ids, so the same id may be buffered again at a tick ≥ lastPop', () => {
    const buffer = new ReorderBuffer();
    buffer.push(insert(1, 4));
    expect(idsOf(popUntil(buffer, 4n))).toEqual(['1']);
    // the reference's edge case Q6(c): equal to lastPop is accepted again
    expect(buffer.push(insert(1, 4))).toBeUndefined();
    expect(buffer.length).toBe(1);
  });

  it('returns nothing and keeps every message when the lowest tick is above the pop tick', () => {
    const buffer = new ReorderBuffer();
    buffer.push(insert(1, 8, 2));
    buffer.push(insert(2, 9, 3));
    const released = popUntil(buffer, 7n);
    expect(released).toHaveLength(0);
    expect([buffer.length, buffer.bytes, buffer.lastPopTimeTick]).toEqual([2, 5, 7n]);
  });

  it('clear() drops everything, returns the bytes held and forgets the ids', () => {
    const buffer = new ReorderBuffer();
    buffer.push(insert(1, 8, 2));
    buffer.push(insert(2, 9, 3));
    expect(buffer.clear()).toBe(5);
    expect([buffer.length, buffer.bytes]).toEqual([0, 0]);
    expect(popUntil(buffer, 100n)).toHaveLength(0);
    expect(buffer.push(insert(1, 200))).toBeUndefined();
    expect(buffer.clear()).toBe(1);
    expect(buffer.clear()).toBe(0);
  });

  it('orders bigint ticks near 2^64 exactly (no precision lost to number)', () => {
    const buffer = new ReorderBuffer();
    const max = MAX_TIME_TICK;
    // as numbers these three ticks are all 18446744073709552000
    expect(Number(max - 1n)).toBe(Number(max));
    buffer.push(insert(1, max));
    buffer.push(insert(2, max - 2n));
    buffer.push(insert(3, max - 1n));
    expect(idsOf(popUntil(buffer, max - 1n))).toEqual(['2', '3']);
    expect(buffer.lastPopTimeTick).toBe(max - 1n);
    expect(buffer.push(insert(4, max - 2n))).toBe('violation');
    expect(idsOf(popUntil(buffer, max))).toEqual(['1']);
    expect(buffer.lastPopTimeTick).toBe(max);
  });
});
