/**
 * Resolves on the next turn of the event loop (after pending I/O and timers), so a long run of
 * promise continuations — a catch-up reading an in-memory log — does not starve everything else.
 * Not a timer: it does not depend on the clock.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** How long a scanner may run promise continuations back to back before yielding, in ms. */
export const YIELD_EVERY_MS = 10;
