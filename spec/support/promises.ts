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
