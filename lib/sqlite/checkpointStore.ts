import type BetterSqlite3 from 'better-sqlite3';

import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../checkpoint/checkpoint.js';
import type { CheckpointStore } from '../checkpoint/checkpointStore.js';
import { ConfigError } from '../errors.js';
import { connectDatabase, DEFAULT_BUSY_TIMEOUT_MS, switchToWal } from './schema.js';

/**
 * The table {@link sqliteCheckpointStore} keeps checkpoints in: one row per consumer name
 * (`name TEXT PRIMARY KEY, checkpoint TEXT` holding {@link encodeCheckpoint}'s text).
 *
 * @example
 * ```ts
 * db.prepare(`SELECT name, checkpoint FROM ${SQLITE_CHECKPOINT_TABLE}`).all();
 * ```
 */
export const SQLITE_CHECKPOINT_TABLE = 'rxwal_checkpoint';

/**
 * Options of {@link sqliteCheckpointStore}.
 *
 * @example
 * ```ts
 * sqliteCheckpointStore('./app.db', { name: 'indexer' });
 * ```
 */
export interface SqliteCheckpointStoreOptions {
  /** The consumer's name: its row in the table. Several consumers can share one database. */
  name: string;
}

/**
 * What {@link sqliteCheckpointStore} needs of a database: any better-sqlite3 `Database` fits
 * (declared structurally, so TypeScript users need no better-sqlite3 types from rxwal).
 *
 * @example
 * ```ts
 * const db: SqliteCheckpointDatabase = new Database('app.db'); // better-sqlite3
 * ```
 */
export interface SqliteCheckpointDatabase {
  /** better-sqlite3's `Database.prepare`. */
  prepare(source: string): unknown;
  /** better-sqlite3's `Database.exec`. */
  exec(source: string): unknown;
}

/**
 * A {@link CheckpointStore} in a SQLite table, with synchronous calls for use in a transaction.
 *
 * @example
 * ```ts
 * const store: SqliteCheckpointStore = sqliteCheckpointStore(db, { name: 'indexer' });
 * db.transaction(() => { writeRows(m); store.saveSync(checkpointOf(m)); })();
 * ```
 */
export interface SqliteCheckpointStore extends CheckpointStore {
  /** Writes the checkpoint now; inside `db.transaction(...)` it commits or rolls back with it. */
  saveSync(cp: Checkpoint): void;
  /** Reads the checkpoint now. */
  loadSync(): Checkpoint | undefined;
  /** Closes the connection when the store opened it (given a path); otherwise does nothing. */
  close(): void;
}

/**
 * A checkpoint store in a table (`rxwal_checkpoint`, created when missing) of any better-sqlite3
 * database: the consumer's own, so `db.transaction(() => { applyMyWrites(m); store.saveSync(cp) })`
 * commits the effects of a message and its position together — exactly-once effects across
 * crashes. Given a path, the store opens (and `close()` closes) its own connection.
 *
 * @param db an open better-sqlite3 `Database`, or the path of a database file
 * @param options `name`: the consumer's row
 * @returns the store
 * @throws ConfigError for a bad database or name
 *
 * @example
 * ```ts
 * const db = new Database('app.db');
 * const store = sqliteCheckpointStore(db, { name: 'indexer' });
 * const resumeFrom = store.loadSync();
 * const apply = db.transaction((m: WalMessage) => {
 *   db.prepare('INSERT INTO rows (id, body) VALUES (?, ?)').run(m.id.key, String(m.payload));
 *   store.saveSync(checkpointOf(m));
 * });
 * scanWal(wal, { vchannel: 'v1', ...(resumeFrom ? { resumeFrom } : {}) }).subscribe(apply);
 * ```
 */
export function sqliteCheckpointStore(
  db: SqliteCheckpointDatabase | string,
  options: SqliteCheckpointStoreOptions,
): SqliteCheckpointStore {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', options, 'must be an object { name }');
  }
  const { name } = options;
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError('name', name, 'must be a non-empty string');
  }
  let owned = false;
  let database: BetterSqlite3.Database;
  if (typeof db === 'string') {
    if (db === '') throw new ConfigError('db', db, 'must be a Database or a file path');
    database = connectDatabase(db);
    switchToWal(database, DEFAULT_BUSY_TIMEOUT_MS); // a file being created by another process
    owned = true;
  } else if (
    typeof db === 'object' &&
    db !== null &&
    typeof (db as BetterSqlite3.Database).prepare === 'function'
  ) {
    database = db as BetterSqlite3.Database;
  } else {
    throw new ConfigError('db', db, 'must be a better-sqlite3 Database or a file path');
  }
  database.exec(
    `CREATE TABLE IF NOT EXISTS ${SQLITE_CHECKPOINT_TABLE} (
       name TEXT PRIMARY KEY NOT NULL,
       checkpoint TEXT NOT NULL
     ) WITHOUT ROWID`,
  );
  const select = database.prepare<[string], { checkpoint: string }>(
    `SELECT checkpoint FROM ${SQLITE_CHECKPOINT_TABLE} WHERE name = ?`,
  );
  const upsert = database.prepare<[string, string]>(
    `INSERT INTO ${SQLITE_CHECKPOINT_TABLE} (name, checkpoint) VALUES (?, ?)
     ON CONFLICT (name) DO UPDATE SET checkpoint = excluded.checkpoint`,
  );
  const loadSync = (): Checkpoint | undefined => {
    const row = select.get(name);
    return row === undefined ? undefined : decodeCheckpoint(row.checkpoint);
  };
  const saveSync = (cp: Checkpoint): void => {
    upsert.run(name, encodeCheckpoint(cp));
  };
  const later = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return {
    load: () => later(loadSync),
    save: (cp) => later(() => saveSync(cp)),
    loadSync,
    saveSync,
    close: () => {
      if (owned && database.open) database.close();
    },
  };
}
