import type { SqliteDatabase } from './schema.js';

/**
 * Schema version 1 → 2 (read pushdown, issue 13): an index on `(vchannel, id)`, so a reader of
 * one vchannel walks only its rows and the `''` broadcasts, and a partial index on the time ticks
 * that carry a vchannel (a writer's ticks carry `''`; raw logs may name one), so that the query
 * for a vchannel, the broadcasts and every time tick uses an index for each part.
 */
export function migrateToVersion2(db: SqliteDatabase): void {
  db.exec(`
    CREATE INDEX IF NOT EXISTS ${VCHANNEL_INDEX} ON rxwal_log (vchannel, id);
    CREATE INDEX IF NOT EXISTS rxwal_log_vchannel_ticks ON rxwal_log (id)
      WHERE type = 'TimeTick' AND vchannel <> '';
  `);
}

const VCHANNEL_INDEX = 'rxwal_log_vchannel';

/** Whether the file has the version-2 indexes (a version-1 file opened read-only has not). */
export function hasVChannelIndex(db: SqliteDatabase): boolean {
  return (
    db
      .prepare<[string], number>(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?",
      )
      .pluck()
      .get(VCHANNEL_INDEX) === 1
  );
}

/**
 * Rows after an id of one vchannel, of the broadcasts and the time ticks, in id order: three
 * index range scans merged by SQLite (a compound SELECT ordered by its first column), so a batch
 * costs what it returns, not the rows of other vchannels in between.
 * Named parameters: `vchannel`, `after` (an id), `limit`.
 */
export const SELECT_VCHANNEL_AFTER = `
  SELECT id, record FROM rxwal_log WHERE vchannel = @vchannel AND id > @after
  UNION ALL
  SELECT id, record FROM rxwal_log WHERE vchannel = '' AND id > @after
  UNION ALL
  SELECT id, record FROM rxwal_log
    WHERE type = 'TimeTick' AND vchannel <> '' AND vchannel <> @vchannel AND id > @after
  ORDER BY 1 LIMIT @limit`;
