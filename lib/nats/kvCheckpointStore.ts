import type { KV } from '@nats-io/kv';

import { decodeCheckpoint, encodeCheckpoint } from '../checkpoint/checkpoint.js';
import type { CheckpointStore } from '../checkpoint/checkpointStore.js';
import { ConfigError } from '../errors.js';
import { checkKvKey } from './subjects.js';

/**
 * A checkpoint store on a JetStream KV key: `save` puts the checkpoint's versioned text
 * ({@link encodeCheckpoint}), `load` reads it back ({@link decodeCheckpoint}; a deleted or purged
 * key means "no checkpoint"), so a consumer resumes where it stopped on any machine of the
 * cluster. A put is replicated like the bucket.
 *
 * @param kv a KV bucket from `@nats-io/kv` (`new Kvm(connection).create(name)`)
 * @param key the key, in NATS KV key syntax (letters, digits, `-/_=.`)
 * @returns a {@link CheckpointStore}
 * @throws ConfigError for something that is not a bucket, or an invalid key
 * @example
 * ```ts
 * import { Kvm } from '@nats-io/kv';
 * import { kvCheckpointStore } from 'rxwal/nats';
 *
 * const kv = await new Kvm(connection).create('rxwal_checkpoints');
 * const store = kvCheckpointStore(kv, 'orders-consumer');
 * scanWal(wal, { checkpoint: { store, every: { messages: 100 } } }).subscribe(apply);
 * ```
 */
export function kvCheckpointStore(kv: Pick<KV, 'get' | 'put'>, key: string): CheckpointStore {
  if (
    typeof kv !== 'object' ||
    kv === null ||
    typeof kv.get !== 'function' ||
    typeof kv.put !== 'function'
  ) {
    throw new ConfigError('kv', kv, 'must be a KV bucket from @nats-io/kv');
  }
  checkKvKey(key);
  return {
    async load() {
      const entry = await kv.get(key);
      if (entry === null || entry.operation !== 'PUT') return undefined;
      return decodeCheckpoint(entry.string());
    },
    async save(checkpoint) {
      await kv.put(key, encodeCheckpoint(checkpoint));
    },
  };
}
