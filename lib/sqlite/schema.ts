import type BetterSqlite3 from 'better-sqlite3';

import { loadPeer } from '../internal/loadPeer.js';
import { peerRequire } from '../internal/peerRequire.js';

import { ConfigError, WalError } from '../errors.js';
import { WIRE_FORMAT_VERSION } from '../wire/record.js';
import {
  BETTER_SQLITE3_RANGE,
  betterSqlite3RuntimeProblem,
  corruptionOf,
  openFailure,
} from './fileErrors.js';
import { migrateToVersion2 } from './vchannelIndex.js';

/** The schema version this rxwal writes and reads (`PRAGMA user_version`). */
export const SQLITE_SCHEMA_VERSION = 2;

/** The oldest schema a read-only open still scans (without the version-2 indexes). */
export const SQLITE_OLDEST_READABLE_VERSION = 1;

/** @internal A better-sqlite3 connection (its types stay out of the public declarations). */
export type SqliteDatabase = BetterSqlite3.Database;

/** better-sqlite3, loaded when `rxwal/sqlite` is: a missing peer fails with what to install. */
const Database = loadPeer<typeof BetterSqlite3>({
  name: 'better-sqlite3',
  range: BETTER_SQLITE3_RANGE,
  neededBy: 'rxwal/sqlite',
});
const runtimeProblem = betterSqlite3RuntimeProblem(installedVersion(), process.version);
if (runtimeProblem !== undefined) throw new WalError('MISSING_PEER', runtimeProblem);

/** The version of the better-sqlite3 loaded above, or '' when its package.json is out of reach. */
function installedVersion(): string {
  try {
    return String((peerRequire('better-sqlite3/package.json') as { version?: unknown }).version);
  } catch {
    return ''; // a bundled copy: nothing to check against
  }
}

/** @internal A new connection to the file at `path`, with the peer loaded above. */
export function connectDatabase(path: string): SqliteDatabase {
  return new Database(path);
}

/**
 * Schema version 1:
 * - `rxwal_log`: one row per message. `id` is the message id (the row sequence). `record` is the
 *   wire record (docs/wire-format.md), the only source of truth; `time_tick` (20-digit zero-padded
 *   decimal, so it sorts as text and holds ticks up to 2^64 − 1), `type`, `vchannel` and `txn_id`
 *   are copies for `stats` and ad-hoc SQL.
 * - `rxwal_meta`: key/value facts about the log (see {@link MetaKey}).
 */
const MIGRATIONS: readonly ((db: SqliteDatabase) => void)[] = [
  // 0 → 1
  (db) => {
    db.exec(`
      CREATE TABLE rxwal_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE rxwal_log (
        id INTEGER PRIMARY KEY,
        time_tick TEXT NOT NULL,
        type TEXT NOT NULL,
        vchannel TEXT NOT NULL,
        txn_id INTEGER,
        record BLOB NOT NULL
      );
    `);
  },
  // 1 → 2: the (vchannel, id) index of read pushdown
  migrateToVersion2,
];

/** Keys of `rxwal_meta`. */
export type MetaKey =
  /** Always `'rxwal'`: marks the file as an rxwal log. */
  | 'format'
  /** The pchannel name. */
  | 'channel'
  /** The payload codec name the log was created with. */
  | 'payload_codec'
  /** The wire format version of the records (informative; each record carries its own). */
  | 'wire_format_version'
  /** The highest time tick written, in decimal: a reopened writer's clock starts past it. */
  | 'last_time_tick'
  /** `'writer'` or `'raw'`, once the log was first written: the two never mix. */
  | 'written_by';

/** @internal What {@link openDatabase} found in the file. */
export interface OpenedDatabase {
  readonly db: SqliteDatabase;
  readonly meta: Map<string, string>;
}

/** Renders a time tick for the `time_tick` column. */
export function timeTickColumn(tt: bigint): string {
  return tt.toString().padStart(20, '0');
}

/** @internal default of `busyTimeout`: how long a busy database is waited for before an open or write fails. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * @internal Opens (and, read-write, creates or migrates) an rxwal SQLite file. A file rxwal refuses is left
 * exactly as it was: every check reads, and only a file found to be an rxwal log (or empty) is
 * changed (schema, WAL journal mode).
 *
 * @throws ConfigError naming `path` for a file that is not an SQLite database or not an rxwal
 * log, or has a newer schema; {@link FileAccessError} for a path that cannot be opened
 * (permissions, missing directory, …); CorruptRecordError for a damaged file
 */
export function openDatabase(
  path: string,
  options: {
    readOnly: boolean;
    synchronous: 'full' | 'normal';
    create: Record<string, string>;
    busyTimeoutMs?: number;
  },
): OpenedDatabase {
  const { readOnly } = options;
  let db: SqliteDatabase;
  try {
    db = new Database(path, {
      readonly: readOnly,
      fileMustExist: readOnly,
      timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    });
  } catch (err) {
    throw openFailure(path, readOnly, err);
  }
  try {
    const version = inspectSchema(db, path, readOnly);
    if (version < SQLITE_SCHEMA_VERSION && !readOnly) createOrMigrate(db, path, options.create);
    const meta = readRxwalMeta(db, path);
    if (!readOnly) {
      try {
        switchToWal(db, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
        db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      } catch (err) {
        throw openFailure(path, readOnly, err);
      }
    }
    return { db, meta };
  } catch (err) {
    db.close();
    throw corruptionOf(err, path, 'the schema');
  }
}

/**
 * @internal `PRAGMA journal_mode = WAL`, retried while the file is busy, up to `timeoutMs`. The switch
 * needs the file to itself, and while another connection holds its write lock SQLite answers
 * SQLITE_BUSY at once, without waiting in the busy handler (waiting could deadlock). The first
 * open of a new file meets that when other processes are creating it at the same moment: one of
 * them is still in its creating transaction. So this waits the way the busy handler would.
 */
export function switchToWal(db: SqliteDatabase, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (let pauseMs = 1; ; pauseMs = Math.min(pauseMs * 2, 50)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      const busy = String((err as { code?: unknown }).code).startsWith('SQLITE_BUSY');
      const left = deadline - Date.now();
      if (!busy || left <= 0) throw err;
      sleepSync(Math.min(pauseMs, left));
    }
  }
}

/** Blocks the thread for `ms`: an open is synchronous, as the busy handler's wait is. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * @internal The schema version of the file open in `db`, once the file is known to be an rxwal log
 * (or empty): refuses a newer schema, a foreign database and, read-only, a file without a schema.
 * Reads only, all in one read transaction, so the version and the tables it checks come from the
 * same state of the file: a process creating the log at that moment commits either before or after
 * all of them, never between (a new file is half-seen otherwise: version 0, yet rxwal tables, and
 * refused as another application's database).
 */
export function inspectSchema(db: SqliteDatabase, path: string, readOnly: boolean): number {
  return db
    .transaction(() => {
      let version: number;
      try {
        version = db.pragma('user_version', { simple: true }) as number;
      } catch (err) {
        throw openFailure(path, readOnly, err);
      }
      if (version > SQLITE_SCHEMA_VERSION) {
        throw new ConfigError(
          'path',
          path,
          `has schema version ${version}, newer than this rxwal supports (${SQLITE_SCHEMA_VERSION})`,
        );
      }
      // a read-only open scans an older schema as it is (it cannot migrate it), back to version 1
      if (version < SQLITE_OLDEST_READABLE_VERSION && readOnly) {
        throw new ConfigError('path', path, 'is not an rxwal log (no rxwal schema)');
      }
      if (version === 0) refuseForeignTables(db, path);
      else readRxwalMeta(db, path); // before any migration changes the file
      return version;
    })
    .deferred();
}

/** Refuses a schema-less file that holds tables: another application's database. */
function refuseForeignTables(db: SqliteDatabase, path: string): void {
  const tables = db
    .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
    .pluck()
    .get() as number;
  if (tables > 0) throw new ConfigError('path', path, 'is an SQLite database of something else');
}

/**
 * Creates the schema of a new file, or migrates an older one, in one IMMEDIATE transaction. Two
 * processes creating the same file at once queue on the write lock (busy timeout); the second
 * finds the schema the first committed and changes nothing.
 */
function createOrMigrate(db: SqliteDatabase, path: string, create: Record<string, string>): void {
  db.transaction(() => {
    // Read again under the write lock: another process may have created it meanwhile.
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version >= SQLITE_SCHEMA_VERSION) return;
    if (version === 0) refuseForeignTables(db, path);
    for (let v = version; v < SQLITE_SCHEMA_VERSION; v++)
      (MIGRATIONS[v] as (d: SqliteDatabase) => void)(db);
    if (version === 0) {
      const insert = db.prepare('INSERT INTO rxwal_meta (key, value) VALUES (?, ?)');
      insert.run('format', 'rxwal');
      insert.run('wire_format_version', String(WIRE_FORMAT_VERSION));
      for (const [key, value] of Object.entries(create)) insert.run(key, value);
    }
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  }).immediate();
}

/** The `rxwal_meta` table; refuses a file without one, or whose `format` is not `'rxwal'`. */
function readRxwalMeta(db: SqliteDatabase, path: string): Map<string, string> {
  const meta = new Map<string, string>();
  try {
    for (const row of db.prepare('SELECT key, value FROM rxwal_meta').all() as {
      key: string;
      value: string;
    }[])
      meta.set(row.key, row.value);
  } catch (err) {
    if (!/no such table/.test(String(err))) throw err;
    throw new ConfigError('path', path, 'is not an rxwal log (no rxwal_meta table)', {
      cause: err,
    });
  }
  if (meta.get('format') !== 'rxwal') throw new ConfigError('path', path, 'is not an rxwal log');
  return meta;
}
