/**
 * Resolves on the next turn of the event loop (after pending I/O and timers), so a long run of
 * promise continuations — a catch-up reading an in-memory log — does not starve everything else.
 * Not a timer: it does not depend on the clock.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => nextTurn(resolve));
}

/** Node's `setImmediate`; in a browser, which has none, a zero-delay timeout. */
const nextTurn: (callback: () => void) => void =
  typeof globalThis.setImmediate === 'function'
    ? (callback) => setImmediate(callback)
    : (callback) => setTimeout(callback, 0);

/** How long a scanner may run promise continuations back to back before yielding, in ms. */
export const YIELD_EVERY_MS = 10;
