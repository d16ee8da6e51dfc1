/**
 * rxwal/nats — the distributed log: a WAL on a NATS JetStream stream per pchannel, a cluster-wide
 * pause switch on a KV key, and a checkpoint store on a KV key. The official clients
 * `@nats-io/transport-node`, `@nats-io/jetstream` and `@nats-io/kv` 3.x are optional peer
 * dependencies.
 *
 * @example
 * ```ts
 * import { scanWal } from 'rxwal';
 * import { openJetStreamWal, pauseFromKv } from 'rxwal/nats';
 *
 * const servers = 'nats://127.0.0.1:4222';
 * const wal = await openJetStreamWal({ channel: 'p0', servers });
 * const pause$ = await pauseFromKv({ servers, bucket: 'rxwal', key: 'pause' });
 * scanWal(wal, { vchannel: 'v1', pause$ }).subscribe((m) => console.log(m.id.key, m.type));
 * ```
 * @packageDocumentation
 */
export { openJetStreamWal } from './jetStreamWal.js';
export type { JetStreamWal, JetStreamWalOptions } from './jetStreamWal.js';
export { pauseFromKv, PauseKvSubject } from './pauseFromKv.js';
export type { PauseFromKvOptions } from './pauseFromKv.js';
export type { NatsConnectionOptions } from './connection.js';
export { DEFAULT_CONNECT_TIMEOUT_MS } from './connection.js';
export { escapeSubjectToken, channelSubjects } from './subjects.js';
export type { ChannelSubjects } from './subjects.js';
export { NATS_INSTALL_HINT } from './modules.js';
export { FencedError } from '../errors.js';
export { rawPayloadCodec, jsonPayloadCodec } from '../wire/payloadCodec.js';
export type { PayloadCodec } from '../wire/payloadCodec.js';
export { kvCheckpointStore } from './kvCheckpointStore.js';
