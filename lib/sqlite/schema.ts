import Database from 'better-sqlite3';

import { ConfigError } from '../errors.js';
import { WIRE_FORMAT_VERSION } from '../wire/record.js';
import { migrateToVersion2 } from './vchannelIndex.js';

/** The schema version this rxwal writes and reads (`PRAGMA user_version`). */
export const SQLITE_SCHEMA_VERSION = 2;

/** The oldest schema a read-only open still scans (without the version-2 indexes). */
export const SQLITE_OLDEST_READABLE_VERSION = 1;

/** A better-sqlite3 connection. */
export type SqliteDatabase = Database.Database;

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

/** What {@link openDatabase} found in the file. */
export interface OpenedDatabase {
  readonly db: SqliteDatabase;
  readonly meta: Map<string, string>;
}

/** Renders a time tick for the `time_tick` column. */
export function timeTickColumn(tt: bigint): string {
  return tt.toString().padStart(20, '0');
}

/**
 * Opens (and, read-write, creates or migrates) an rxwal SQLite file. Throws {@link ConfigError}
 * naming `path` for a file that cannot be opened, is not an rxwal log, or has a newer schema.
 */
export function openDatabase(
  path: string,
  options: { readOnly: boolean; synchronous: 'full' | 'normal'; create: Record<string, string> },
): OpenedDatabase {
  let db: SqliteDatabase;
  try {
    db = new Database(path, { readonly: options.readOnly, fileMustExist: options.readOnly });
  } catch (err) {
    throw new ConfigError(
      'path',
      path,
      options.readOnly ? 'cannot be opened read-only (does the file exist?)' : 'cannot be opened',
      { cause: err },
    );
  }
  try {
    let version: number;
    try {
      version = db.pragma('user_version', { simple: true }) as number;
    } catch (err) {
      throw new ConfigError('path', path, 'is not an SQLite database', { cause: err });
    }
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new ConfigError(
        'path',
        path,
        `has schema version ${version}, newer than this rxwal supports (${SQLITE_SCHEMA_VERSION})`,
      );
    }
    if (!options.readOnly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    }
    // a read-only open scans an older schema as it is: it cannot migrate it
    if (
      version < SQLITE_SCHEMA_VERSION &&
      !(options.readOnly && version >= SQLITE_OLDEST_READABLE_VERSION)
    ) {
      if (options.readOnly) {
        throw new ConfigError(
          'path',
          path,
          version === 0
            ? 'is not an rxwal log (no rxwal schema)'
            : `has schema version ${version}: open it read-write once to migrate it`,
        );
      }
      if (version === 0) {
        const tables = db
          .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
          .pluck()
          .get() as number;
        if (tables > 0)
          throw new ConfigError('path', path, 'is an SQLite database of something else');
      }
      db.transaction(() => {
        for (let v = version; v < SQLITE_SCHEMA_VERSION; v++)
          (MIGRATIONS[v] as (d: SqliteDatabase) => void)(db);
        if (version === 0) {
          const insert = db.prepare('INSERT INTO rxwal_meta (key, value) VALUES (?, ?)');
          insert.run('format', 'rxwal');
          insert.run('wire_format_version', String(WIRE_FORMAT_VERSION));
          for (const [key, value] of Object.entries(options.create)) insert.run(key, value);
        }
        db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
      }).immediate();
    }
    const meta = new Map<string, string>();
    try {
      for (const row of db.prepare('SELECT key, value FROM rxwal_meta').all() as {
        key: string;
        value: string;
      }[])
        meta.set(row.key, row.value);
    } catch (err) {
      throw new ConfigError('path', path, 'is not an rxwal log (no rxwal_meta table)', {
        cause: err,
      });
    }
    if (meta.get('format') !== 'rxwal') throw new ConfigError('path', path, 'is not an rxwal log');
    return { db, meta };
  } catch (err) {
    db.close();
    throw err;
  }
}
