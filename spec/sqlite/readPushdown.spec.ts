/**
 * SQLite read pushdown (issue 13): schema version 2 indexes (vchannel, id); a hinted reader
 * returns exactly one vchannel's rows, the broadcasts and every time tick; a version-1 file is
 * scanned read-only as it is and migrated on a read-write open.
 */
import Database from 'better-sqlite3';

import { MessageType, type WalMessage } from '../../lib/message/message.js';
import { messageId } from '../../lib/message/messageId.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { openSqliteWal, SQLITE_SCHEMA_VERSION, type SqliteWal } from '../../lib/sqlite/index.js';
import { SELECT_VCHANNEL_AFTER } from '../../lib/sqlite/vchannelIndex.js';
import type { WalReader } from '../../lib/wal/wal.js';
import { matchesHint } from '../support/readHint.js';
import { seededRandom } from '../support/random.js';
import { VirtualClock } from '../../lib/testing/index.js';
import { tempFiles } from './support/files.js';

const files = tempFiles();
afterAll(() => files.cleanup());

const ids = (ms: readonly WalMessage[]): string[] => ms.map((m) => m.id.key);

async function readAll(reader: WalReader, total: number): Promise<WalMessage[]> {
  const got: WalMessage[] = [];
  while (got.length < total) got.push(...(await reader.next(13)));
  reader.close();
  return got;
}

/** A raw log of inserts over v1..v3 and '' with a time tick now and then (some on a vchannel). */
async function rawFile(path: string, n: number, seed: number): Promise<WalMessage[]> {
  const wal = await openSqliteWal(path, {
    channel: 'p0',
    synchronous: 'normal',
    scheduler: new VirtualClock().scheduler,
  });
  const random = seededRandom(seed);
  const written: WalMessage[] = [];
  for (let i = 0; i < n; i++) {
    const isTick = random() < 0.2;
    const vchannel = ['v1', 'v2', 'v3', ''][Math.floor(random() * 4)] as string;
    written.push(
      wal.appendRaw({
        type: isTick ? MessageType.TimeTick : MessageType.Insert,
        timeTick: 100 + i,
        vchannel: isTick && random() < 0.7 ? '' : vchannel,
      }),
    );
  }
  await wal.close();
  return written;
}

/** Turns a version-2 file back into what rxwal 1 wrote: no index, user_version 1. */
function downgradeToVersion1(path: string): void {
  const db = new Database(path);
  db.exec('DROP INDEX rxwal_log_vchannel; DROP INDEX rxwal_log_vchannel_ticks;');
  db.pragma('user_version = 1');
  db.close();
}

function indexes(path: string): { version: unknown; names: unknown[] } {
  const db = new Database(path, { readonly: true });
  const names = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'rxwal%' ORDER BY name",
    )
    .pluck()
    .all();
  const version = db.pragma('user_version', { simple: true });
  db.close();
  return { version, names };
}

describe('SQLite read pushdown', () => {
  const opened: SqliteWal[] = [];
  afterEach(async () => {
    for (const wal of opened.splice(0)) await wal.close();
  });
  const open = async (path: string, readOnly = false): Promise<SqliteWal> => {
    const wal = await openSqliteWal(path, { readOnly, scheduler: new VirtualClock().scheduler });
    opened.push(wal);
    return wal;
  };

  it('schema version 2 creates the (vchannel, id) index and the query uses it', async () => {
    const path = files.path();
    await rawFile(path, 1, 1);
    expect(SQLITE_SCHEMA_VERSION).toBe(2);
    expect(indexes(path)).toEqual({
      version: 2,
      names: ['rxwal_log_vchannel', 'rxwal_log_vchannel_ticks'],
    });
    const db = new Database(path, { readonly: true });
    const plan = (
      db.prepare(`EXPLAIN QUERY PLAN ${SELECT_VCHANNEL_AFTER}`).all({
        vchannel: 'v1',
        after: 0,
        limit: 10,
      }) as { detail: string }[]
    ).map((row) => row.detail);
    db.close();
    // three index range scans merged in id order: no full scan, no sort of every row
    expect(plan.filter((d) => d.startsWith('SEARCH rxwal_log USING INDEX'))).toHaveLength(3);
    expect(plan.some((d) => d.includes('TEMP B-TREE') || d.startsWith('SCAN'))).toBe(false);
  });

  it.each([1, 2, 3])(
    'seed %i: a hinted reader returns exactly the filtered log from every start',
    async (seed) => {
      const path = files.path();
      const written = await rawFile(path, 400, seed);
      const wal = await open(path);
      for (const vchannel of ['v1', 'v3', 'nobody']) {
        for (const start of [1, 99, 400]) {
          const expected = written.filter(
            (m) => Number(m.id.key) >= start && matchesHint(m, vchannel),
          );
          const reader = wal.read(DeliverPolicy.startFrom(messageId(start)), { vchannel });
          expect(ids(await readAll(reader, expected.length))).toEqual(ids(expected));
        }
      }
      const ro = await open(path, true);
      const expected = written.filter((m) => matchesHint(m, 'v2'));
      expect(
        ids(await readAll(ro.read(DeliverPolicy.all(), { vchannel: 'v2' }), expected.length)),
      ).toEqual(ids(expected));
    },
  );

  it('a version-1 file still scans read-only (the hint ignored) and is migrated on a read-write open', async () => {
    const path = files.path();
    const written = await rawFile(path, 200, 7);
    downgradeToVersion1(path);
    expect(indexes(path)).toEqual({ version: 1, names: [] });

    const ro = await open(path, true);
    // no index to read by: the reader returns everything, the scanner filters
    expect(ids(await readAll(ro.read(DeliverPolicy.all(), { vchannel: 'v1' }), 200))).toEqual(
      ids(written),
    );
    const last = written[written.length - 1] as WalMessage;
    const scanned: WalMessage[] = [];
    const sub = scanWal(ro, { vchannel: 'v1' }).subscribe((m) => scanned.push(m));
    const settleScan = async (): Promise<void> => {
      for (let i = 0; i < 50 && !scanned.some((m) => m.id.key === last.id.key); i++)
        await new Promise((resolve) => setImmediate(resolve));
    };
    await settleScan();
    sub.unsubscribe();
    expect(
      scanned
        .filter((m) => m.type !== 'TimeTick')
        .every((m) => m.vchannel === 'v1' || m.vchannel === ''),
    ).toBe(true);
    expect(indexes(path).version).toBe(1); // a read-only open never migrates
    await ro.close();
    opened.splice(0);

    const rw = await open(path);
    expect(indexes(path)).toEqual({
      version: 2,
      names: ['rxwal_log_vchannel', 'rxwal_log_vchannel_ticks'],
    });
    const expected = written.filter((m) => matchesHint(m, 'v1'));
    expect(
      ids(await readAll(rw.read(DeliverPolicy.all(), { vchannel: 'v1' }), expected.length)),
    ).toEqual(ids(expected));
  });
});
