/**
 * The SQLite figures of issue 6: catch-up through scanWal against a bare better-sqlite3
 * iteration that decodes the same rows, and the writer's append throughput against bare batched
 * inserts of the same records. Both sides of each ratio do the same essential work: the bare
 * loops decode (or encode) every record with the wire format, as the WAL must.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import { createMessage } from '../lib/message/createMessage.js';
import { MessageType, type WalMessage } from '../lib/message/message.js';
import { messageId } from '../lib/message/messageId.js';
import { tso } from '../lib/message/tso.js';
import { scanWal } from '../lib/scanner/scanWal.js';
import { openSqliteWal, type SqliteWal } from '../lib/sqlite/index.js';
import type { ReadableWal } from '../lib/wal/wal.js';
import { decodeRecord, encodeRecord } from '../lib/wire/record.js';

/** A fresh temporary directory for one benchmark's files; remove it with the returned function. */
export function scratchDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'rxwal-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const PAYLOAD = Buffer.from('{"pk":123456,"v":"abcdefgh"}'); // 28 bytes, raw codec

/**
 * Appends `count` inserts over four vchannels with the WAL's writer, `batch` concurrent appends
 * at a time (each batch becomes one SQLite transaction), a time tick after every `tickEvery`
 * appends if asked, and a persisted time tick at the end.
 * Returns the elapsed ms and the last time tick.
 */
export async function appendWithWriter(
  wal: SqliteWal,
  count: number,
  batch: number,
  tickEvery = 0,
): Promise<{ ms: number; lastTick: WalMessage }> {
  const start = performance.now();
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    const pending: Promise<WalMessage>[] = [];
    for (let i = 0; i < n; i++) {
      pending.push(
        wal.append({ type: MessageType.Insert, vchannel: `v${(done + i) % 4}`, payload: PAYLOAD }),
      );
      // a time tick closing each window, as in W1 (the 200 ms timer is far slower than this loop)
      if (tickEvery > 0 && (done + i + 1) % tickEvery === 0) pending.push(wal.syncTimeTick());
    }
    await Promise.all(pending);
  }
  const lastTick = await wal.syncTimeTick({ persisted: true });
  return { ms: performance.now() - start, lastTick };
}

/**
 * The bare baseline of appends: the same rows (a message with an id, a tick, a last-confirmed
 * id, encoded with the wire format) inserted into the same table with better-sqlite3, one
 * transaction per batch, no writer around it.
 */
export function appendBare(path: string, count: number, batch: number): number {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE rxwal_log (id INTEGER PRIMARY KEY, time_tick TEXT NOT NULL, type TEXT NOT NULL, vchannel TEXT NOT NULL, txn_id INTEGER, record BLOB NOT NULL)',
  );
  const insert = db.prepare(
    'INSERT INTO rxwal_log (id, time_tick, type, vchannel, txn_id, record) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertMany = db.transaction((from: number, n: number) => {
    for (let i = 0; i < n; i++) {
      const seq = from + i;
      const m = createMessage({
        id: seq,
        type: MessageType.Insert,
        timeTick: tick0 + BigInt(seq),
        vchannel: `v${seq % 4}`,
        payload: PAYLOAD,
      });
      insert.run(
        BigInt(seq),
        m.timeTick.toString().padStart(20, '0'),
        m.type,
        m.vchannel,
        null,
        encodeRecord(m),
      );
    }
  });
  const start = performance.now();
  for (let done = 0; done < count; done += batch)
    insertMany(done + 1, Math.min(batch, count - done));
  const ms = performance.now() - start;
  db.close();
  return ms;
}

const tick0 = tso.compose(1_735_000_000_000);

/** The bare baseline of catch-up: iterate every row in id order and decode its record. */
export function readBare(path: string): number {
  const db = new Database(path, { readonly: true });
  const rows = db.prepare('SELECT id, record FROM rxwal_log ORDER BY id').raw().safeIntegers(true);
  let count = 0;
  for (const row of rows.iterate() as IterableIterator<[bigint, Buffer]>) {
    decodeRecord(row[1], messageId(row[0]));
    count++;
  }
  db.close();
  return count;
}

/** A view of a WAL whose readers ignore the hint (as a third-party WAL without pushdown). */
export function withoutPushdown(wal: ReadableWal): ReadableWal {
  return { channel: wal.channel, accessMode: wal.accessMode, read: (policy) => wal.read(policy) };
}

/**
 * Catch-up through scanWal of `vchannel` (`''`: everything) on a read-only open of the file,
 * until `last` is delivered; `pushdown: false` reads through {@link withoutPushdown}.
 */
export async function sqliteCatchUp(
  path: string,
  last: WalMessage,
  vchannel = '',
  pushdown = true,
): Promise<number> {
  const opened = await openSqliteWal(path, { readOnly: true });
  const wal = pushdown ? opened : withoutPushdown(opened);
  let delivered = 0;
  await new Promise<void>((resolve, reject) => {
    const subscription = scanWal(wal, { vchannel }).subscribe({
      next: (m) => {
        delivered++;
        if (m.type === MessageType.TimeTick && m.timeTick >= last.timeTick) {
          subscription.unsubscribe();
          resolve();
        }
      },
      error: reject,
    });
  });
  await opened.close();
  return delivered;
}
