import { checkCheckpoint, type Checkpoint } from './checkpoint.js';

/**
 * Where a consumer keeps its checkpoint between runs. `scanWal(wal, { checkpoint: { store } })`
 * loads it when subscribed and saves as the consumer goes.
 *
 * @example
 * ```ts
 * const store = memoryCheckpointStore();
 * await store.save(checkpointOf(m));
 * const cp = await store.load(); // the last saved, or undefined
 * ```
 */
export interface CheckpointStore {
  /** The last checkpoint saved, or `undefined` when none was. */
  load(): Promise<Checkpoint | undefined>;
  /** Replaces the stored checkpoint. */
  save(cp: Checkpoint): Promise<void>;
}

/**
 * A {@link CheckpointStore} in memory: for tests and for consumers that restart a scanner
 * inside one process (after an error, a rebalance).
 *
 * @returns an empty store
 *
 * @example
 * ```ts
 * const store = memoryCheckpointStore();
 * scanWal(wal, { checkpoint: { store } }).subscribe(apply);
 * ```
 */
export function memoryCheckpointStore(): CheckpointStore {
  let stored: Checkpoint | undefined;
  return {
    load: () => Promise.resolve(stored),
    save: (cp) => {
      try {
        stored = checkCheckpoint(cp, 'checkpoint');
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
  };
}
