import type { KV } from '@nats-io/kv';

import { ConfigError } from '../errors.js';

/**
 * How a checkpoint becomes the text stored under the key. Once `lib/checkpoint` lands this is
 * `{ encode: encodeCheckpoint, decode: decodeCheckpoint }` and becomes the default.
 */
export interface CheckpointTextCodec<C> {
  encode(checkpoint: C): string;
  decode(text: string): C;
}

/** What {@link kvCheckpointStore} returns: API.md's `CheckpointStore`. */
export interface KvCheckpointStore<C> {
  /** The checkpoint under the key, or `undefined` when the key is absent, deleted or purged. */
  load(): Promise<C | undefined>;
  /** Stores the checkpoint's text under the key (one KV put, replicated like the bucket). */
  save(checkpoint: C): Promise<void>;
}

/**
 * A checkpoint store on a JetStream KV key: `save` puts the checkpoint's versioned text, `load`
 * reads it back (a deleted or purged key means "no checkpoint"), so a consumer resumes where it
 * stopped on any machine of the cluster.
 *
 * @example
 * ```ts
 * import { Kvm } from '@nats-io/kv';
 * import { kvCheckpointStore } from 'rxwal/nats';
 *
 * const kv = await new Kvm(connection).create('rxwal_checkpoints');
 * const store = kvCheckpointStore(kv, 'orders-consumer', { encode: encodeCheckpoint, decode: decodeCheckpoint });
 * scanWal(wal, { checkpoint: { store, every: { messages: 100 } } }).subscribe(apply);
 * ```
 */
export function kvCheckpointStore<C>(
  kv: Pick<KV, 'get' | 'put'>,
  key: string,
  codec: CheckpointTextCodec<C>,
): KvCheckpointStore<C> {
  if (typeof kv !== 'object' || kv === null || typeof kv.get !== 'function') {
    throw new ConfigError('kv', kv, 'must be a KV bucket from @nats-io/kv');
  }
  if (
    typeof key !== 'string' ||
    !/^[-/=.\w]+$/.test(key) ||
    key.startsWith('.') ||
    key.endsWith('.')
  ) {
    throw new ConfigError('key', key, 'must be a KV key (letters, digits, -/_=.)');
  }
  if (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new ConfigError('codec', codec, 'must have encode and decode');
  }
  return {
    async load() {
      const entry = await kv.get(key);
      if (entry === null || entry.operation !== 'PUT') return undefined;
      return codec.decode(entry.string());
    },
    async save(checkpoint) {
      await kv.put(key, codec.encode(checkpoint));
    },
  };
}
