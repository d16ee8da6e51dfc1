import { statSync } from 'node:fs';

import { MessageType } from '../message/message.js';
import { messageId, type MessageId } from '../message/messageId.js';
import type { TimeTick } from '../message/tso.js';
import { corruptionOf } from './fileErrors.js';
import { openDatabase, SQLITE_SCHEMA_VERSION, type SqliteDatabase } from './schema.js';

/** A transaction begun in the log with neither commit nor rollback after it. */
export interface OpenTransaction {
  /** The transaction's id. */
  readonly txnId: bigint;
  /** Its vchannel. */
  readonly vchannel: string;
  /** The id of its `BeginTxn` row. */
  readonly beginId: MessageId;
  /** Rows of the transaction in the log, begin included. */
  readonly messages: number;
}

/** What {@link sqliteWalStats} reports. */
export interface SqliteWalStats {
  /** The file, as given. */
  readonly path: string;
  /** The pchannel name stored in the file. */
  readonly channel: string;
  /** The file's schema version (`PRAGMA user_version`). */
  readonly schemaVersion: number;
  /** The payload codec name the log was created with. */
  readonly payloadCodec: string;
  /** `'writer'`, `'raw'` (appendRaw), or `undefined` for a log never written. */
  readonly writtenBy: 'writer' | 'raw' | undefined;
  /** Rows (messages) in the log. */
  readonly messages: number;
  /** The first message id; `undefined` for an empty log. */
  readonly firstId: MessageId | undefined;
  /** The last message id; `undefined` for an empty log. */
  readonly lastId: MessageId | undefined;
  /** Rows by message type. */
  readonly byType: Readonly<Record<string, number>>;
  /** Rows by vchannel (`''`: time ticks and broadcasts). */
  readonly byVChannel: Readonly<Record<string, number>>;
  /** The lowest and highest time tick in the log (`tso.physical` turns them into dates). */
  readonly timeTicks:
    | {
        /** The lowest time tick. */
        readonly min: TimeTick;
        /** The highest time tick. */
        readonly max: TimeTick;
      }
    | undefined;
  /**
   * Transactions begun without a commit or rollback in the log, in begin order: still running,
   * abandoned (a crashed writer), or past their keepalive (readers drop those).
   */
  readonly openTransactions: readonly OpenTransaction[];
  /** Bytes on disk: the database file plus its `-wal` file. */
  readonly fileBytes: number;
}

/**
 * Counts an rxwal SQLite log without scanning its records: messages by type and vchannel, the
 * tick range, open transactions, ids and the size on disk. Opens the file read-only, so it works
 * while a writer appends. For `rxwal stats`.
 *
 * @throws ConfigError when the file is missing or not an rxwal log ({@link FileAccessError} when
 * it cannot be opened); CorruptRecordError when SQLite finds it damaged
 *
 * @example
 * ```ts
 * const stats = await sqliteWalStats('./data/p0.db');
 * console.log(stats.messages, stats.byType.Insert, stats.openTransactions.length);
 * if (stats.timeTicks) console.log(new Date(tso.physical(stats.timeTicks.max)));
 * ```
 */
export async function sqliteWalStats(path: string): Promise<SqliteWalStats> {
  await Promise.resolve();
  const { db } = openDatabase(path, { readOnly: true, synchronous: 'full', create: {} });
  try {
    return readStats(db, path);
  } finally {
    db.close();
  }
}

/** @internal the stats of an open rxwal database. */
export function readStats(db: SqliteDatabase, path: string): SqliteWalStats {
  try {
    return countRows(db, path);
  } catch (err) {
    throw corruptionOf(err, path, 'the statistics');
  }
}

function countRows(db: SqliteDatabase, path: string): SqliteWalStats {
  return db
    .transaction((): SqliteWalStats => {
      const meta = new Map(
        (
          db.prepare('SELECT key, value FROM rxwal_meta').all() as { key: string; value: string }[]
        ).map((r) => [r.key, r.value]),
      );
      const totals = db
        .prepare('SELECT count(*), min(id), max(id), min(time_tick), max(time_tick) FROM rxwal_log')
        .raw(true)
        .safeIntegers(true)
        .get() as [bigint, bigint | null, bigint | null, string | null, string | null];
      const grouped = (column: 'type' | 'vchannel'): Record<string, number> => {
        const counts: Record<string, number> = {};
        for (const [key, count] of db
          .prepare(
            `SELECT ${column}, count(*) FROM rxwal_log GROUP BY ${column} ORDER BY ${column}`,
          )
          .raw(true)
          .all() as [string, number][]) {
          Object.defineProperty(counts, key, {
            value: count,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return counts;
      };
      const open = db
        .prepare(
          `SELECT txn_id, min(CASE WHEN type = ? THEN id END) AS begin_id,
                  min(CASE WHEN type = ? THEN vchannel END), count(*)
             FROM rxwal_log WHERE txn_id IS NOT NULL
             GROUP BY txn_id
             HAVING begin_id IS NOT NULL AND sum(type IN (?, ?)) = 0
             ORDER BY begin_id`,
        )
        .raw(true)
        .safeIntegers(true)
        .all(
          MessageType.BeginTxn,
          MessageType.BeginTxn,
          MessageType.CommitTxn,
          MessageType.RollbackTxn,
        ) as [bigint, bigint, string, bigint][];
      const writtenBy = meta.get('written_by');
      const [count, firstId, lastId, minTick, maxTick] = totals;
      return {
        path,
        channel: meta.get('channel') ?? 'rxwal',
        schemaVersion: SQLITE_SCHEMA_VERSION,
        payloadCodec: meta.get('payload_codec') ?? 'raw',
        writtenBy: writtenBy === 'writer' || writtenBy === 'raw' ? writtenBy : undefined,
        messages: Number(count),
        firstId: firstId === null ? undefined : messageId(firstId),
        lastId: lastId === null ? undefined : messageId(lastId),
        byType: grouped('type'),
        byVChannel: grouped('vchannel'),
        timeTicks:
          minTick === null || maxTick === null
            ? undefined
            : { min: BigInt(minTick), max: BigInt(maxTick) },
        openTransactions: open.map(([txnId, beginId, vchannel, rows]) => ({
          txnId,
          vchannel,
          beginId: messageId(beginId),
          messages: Number(rows),
        })),
        fileBytes: fileSize(path) + fileSize(`${path}-wal`),
      };
    })
    .deferred();
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
