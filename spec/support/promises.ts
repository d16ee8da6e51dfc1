/** What {@link watch} has seen of a promise so far. */
export interface Watched<T> {
  state: 'pending' | 'resolved' | 'rejected';
  value?: T;
  error?: unknown;
}

/** Observes a promise without awaiting it, so a test can ask whether it has settled yet. */
export function watch<T>(promise: Promise<T>): Watched<T> {
  const outcome: Watched<T> = { state: 'pending' };
  promise.then(
    (value) => {
      outcome.state = 'resolved';
      outcome.value = value;
    },
    (error: unknown) => {
      outcome.state = 'rejected';
      outcome.error = error;
    },
  );
  return outcome;
}

/**
 * Waits until `condition` holds, checking every few milliseconds of real time; fails after
 * `timeoutMs`. For specs that run real timers: the wait ends on the event, not on a guessed delay.
 */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
