import { TestScheduler } from 'rxjs/testing';

import { isMessageId } from '../message/messageId.js';
import type { WalMessage } from '../message/message.js';
import { formatWalMessage } from './notation.js';

function isWalMessage(value: unknown): value is WalMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as WalMessage).type === 'string' &&
    typeof (value as WalMessage).timeTick === 'bigint' &&
    isMessageId((value as WalMessage).id)
  );
}

/** Replaces every message inside `value` (frames, notifications, arrays) by its canonical text. */
export function normalizeWalValues(value: unknown): unknown {
  if (isWalMessage(value)) return formatWalMessage(value);
  if (Array.isArray(value)) return value.map(normalizeWalValues);
  if (
    typeof value === 'object' &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = normalizeWalValues(v);
    return out;
  }
  return value;
}

/**
 * A `TestScheduler` for WAL pipelines: before comparing, every message in the actual and the
 * expected frames is replaced by its canonical text ({@link formatWalMessage}), so expected
 * values may be messages or notation strings, and a failing test shows readable diffs.
 *
 * @param assertDeepEqual your framework's deep equality, e.g. `(a, e) => expect(a).toEqual(e)`
 *
 * @example
 * ```ts
 * const scheduler = createWalTestScheduler((a, e) => expect(a).toEqual(e));
 * scheduler.run(({ cold, expectObservable }) => {
 *   const m = walMessages({ a: 'ins v1 @3', b: 'ins v1 @2', t: 'tt @4' });
 *   expectObservable(cold('a-b-t|', m).pipe(reorderUntilTick()))
 *     .toBe('----(bat|)', { b: 'Insert v1 @2 #2', a: m.a, t: m.t });
 * });
 * ```
 */
export function createWalTestScheduler(
  assertDeepEqual: (actual: unknown, expected: unknown) => boolean | void,
): TestScheduler {
  return new TestScheduler((actual, expected) =>
    assertDeepEqual(normalizeWalValues(actual), normalizeWalValues(expected)),
  );
}
