import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../checkpoint/checkpoint.js';
import type { CheckpointStore } from '../checkpoint/checkpointStore.js';
import { ConfigError } from '../errors.js';

/**
 * The checkpoint store of `rxwal scan --checkpoint FILE`: the file holds one encoded checkpoint.
 * Saves are synchronous (write a temporary file, rename it over the old one), so the flush when
 * the scan stops is on disk before the command exits, and a crash never leaves half a file.
 */
export function fileCheckpointStore(path: string): CheckpointStore {
  const temporary = `${path}.tmp`;
  const load = (): Checkpoint | undefined => {
    if (!existsSync(path)) return undefined;
    const text = readFileSync(path, 'utf8');
    try {
      return decodeCheckpoint(text.trim());
    } catch (err) {
      const reason = err instanceof ConfigError ? err.message : String(err);
      throw new ConfigError(`--checkpoint ${path}`, text, `is not a checkpoint file: ${reason}`, {
        cause: err,
      });
    }
  };
  const save = (cp: Checkpoint): void => {
    writeFileSync(temporary, `${encodeCheckpoint(cp)}\n`);
    renameSync(temporary, path);
  };
  const later = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return { load: () => later(load), save: (cp) => later(() => save(cp)) };
}
