/**
 * rxwal/sqlite — a durable, embedded WAL in one SQLite file (better-sqlite3 `^12.0.0 || ^13.0.0`,
 * an optional peer dependency; 13 needs Node 22 or later).
 *
 * @example
 * ```ts
 * import { scanWal } from 'rxwal';
 * import { openSqliteWal } from 'rxwal/sqlite';
 *
 * const wal = await openSqliteWal('./data/p0.db', { channel: 'p0' });
 * await wal.append({ type: 'Insert', vchannel: 'v1', payload: Buffer.from('row') });
 * scanWal(wal, { vchannel: 'v1' }).subscribe((m) => console.log(m.id.key, m.type));
 * ```
 * @packageDocumentation
 */
export { openSqliteWal, DEFAULT_SQLITE_READ_BATCH } from './sqliteWal.js';
export type { SqliteWal, SqliteWalOptions } from './sqliteWal.js';
export { sqliteWalStats } from './stats.js';
export type { SqliteWalStats, OpenTransaction } from './stats.js';
export { SQLITE_SCHEMA_VERSION } from './schema.js';
export { FileAccessError } from './fileErrors.js';
export type { FileAccessProblem } from './fileErrors.js';
export { rawPayloadCodec, jsonPayloadCodec } from '../wire/payloadCodec.js';
export type { PayloadCodec } from '../wire/payloadCodec.js';
export type { RawMessageInit } from '../wal/memoryWal.js';
export { sqliteCheckpointStore, SQLITE_CHECKPOINT_TABLE } from './checkpointStore.js';
export type {
  SqliteCheckpointDatabase,
  SqliteCheckpointStore,
  SqliteCheckpointStoreOptions,
} from './checkpointStore.js';
