/**
 * SQLite files as a hostile operator hands them to `rxwal` (issue 9, items 2, 3, 7, 8 and 9):
 * damaged pages, another application's database, paths that cannot be opened, a full disk, and
 * several processes creating the same log at once. Real files and real child processes
 * throughout. The specs run as root, who passes every permission check: the permission cases run
 * the child as `nobody` (`setpriv`), the read-only file system is a read-only bind mount and the
 * full disk a 512 KiB tmpfs, each in the child's own mount namespace (`unshare --mount`).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

import Database from 'better-sqlite3';

import { CorruptRecordError } from '../../lib/errors.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { openSqliteWal, sqliteCheckpointStore, sqliteWalStats } from '../../lib/sqlite/index.js';
import { inspectSchema } from '../../lib/sqlite/schema.js';
import { VirtualClock } from '../../lib/testing/index.js';
import { tempFiles } from './support/files.js';
import { rxwal } from './support/rxwalProcess.js';

const files = tempFiles();
afterAll(() => files.cleanup());

const NOBODY = 65534;
const PROCESS_TIMEOUT = 120_000;

/** A log of `rows` inserts written through rxwal, checkpointed into the main file and closed. */
async function writtenLog(path: string, rows: number): Promise<void> {
  const wal = await openSqliteWal(path, { synchronous: 'normal' });
  for (let i = 0; i < rows; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        wal.append({ type: 'Insert', vchannel: 'v1', payload: Buffer.alloc(200, i + j) }),
      ),
    );
  }
  await wal.close(); // the last connection checkpoints the -wal file into the database
}

/** Overwrites page `page` (1-based) of an SQLite file with 0xff bytes, as a bad disk would. */
function damagePage(path: string, page: number): void {
  const db = new Database(path, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(pageSize, 0xff), 0, pageSize, (page - 1) * pageSize);
  closeSync(fd);
}

const digest = (path: string): string =>
  createHash('sha256').update(readFileSync(path)).digest('hex');

/** A directory `nobody` can enter (temporary directories are private to root). */
function sharedDir(name: string): string {
  const dir = files.path(name);
  chmodSync(dirname(dir), 0o755);
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  return dir;
}

describe('damaged SQLite pages (issue 9, item 3)', () => {
  let damaged: string;
  beforeAll(async () => {
    damaged = files.path('damaged.db');
    await writtenLog(damaged, 2000);
    const db = new Database(damaged, { readonly: true });
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.close();
    expect(pages).toBeGreaterThan(50);
    damagePage(damaged, Math.floor(pages / 2)); // a page of rxwal_log rows
  }, PROCESS_TIMEOUT);

  it('a scanner ends with CorruptRecordError instead of retrying for ever', async () => {
    const clock = new VirtualClock();
    const wal = await openSqliteWal(damaged, { readOnly: true, scheduler: clock.scheduler });
    let error: unknown;
    let delivered = 0;
    const subscription = scanWal(wal, { scheduler: clock.scheduler }).subscribe({
      next: () => delivered++,
      error: (err: unknown) => (error = err),
    });
    for (let i = 0; i < 50 && error === undefined; i++) await clock.advance(100);
    subscription.unsubscribe();
    await wal.close();
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect((error as Error).message).toMatch(/damaged.db is damaged \(.*SQLITE_CORRUPT/);
    expect(delivered).toBeLessThan(2000);
  });

  it('sqliteWalStats rejects CorruptRecordError', async () => {
    await expect(sqliteWalStats(damaged)).rejects.toBeInstanceOf(CorruptRecordError);
  });

  it.each([
    ['scan', ['scan', '--format', 'json']],
    ['scan --follow', ['scan', '--follow']],
    ['stats', ['stats']],
  ])(
    'rxwal %s exits 4 saying the file is damaged',
    async (_name, [command, ...options]) => {
      const done = await rxwal([command as string, damaged, ...options], { timeoutMs: 60_000 });
      expect(done.code).toBe(4);
      expect(done.stderr).toMatch(/^rxwal: corrupt record .*damaged\.db is damaged \(/);
    },
    PROCESS_TIMEOUT,
  );
});

describe('another application’s database (issue 9, item 7)', () => {
  it.each([
    ['a database with tables and no schema version', 0],
    ['a database with schema version 1 but no rxwal_meta', 1],
  ])(
    'rxwal append refuses %s with exit 4 and leaves it byte for byte as it was',
    async (_name, userVersion) => {
      const dir = files.path(`foreign-${userVersion}`);
      mkdirSync(dir);
      const path = join(dir, 'app.db');
      const db = new Database(path); // rollback journal, as most applications leave it
      db.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ada')");
      db.pragma(`user_version = ${userVersion}`);
      db.close();
      const before = digest(path);
      const done = await rxwal(['append', path], { input: '{"type":"Insert"}\n' });
      expect(done.code).toBe(4);
      expect(done.stderr).toMatch(/is not an rxwal log/);
      expect(digest(path)).toBe(before);
      expect(existsSync(`${path}-wal`)).toBe(false);
      const after = new Database(path, { readonly: true });
      expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
      after.close();
    },
    PROCESS_TIMEOUT,
  );
});

describe('paths that cannot be opened are not corrupt logs (issue 9, item 8)', () => {
  let healthy: string;
  let dir: string;
  beforeAll(async () => {
    dir = sharedDir('shared');
    healthy = join(dir, 'healthy.db');
    await writtenLog(healthy, 100);
  }, PROCESS_TIMEOUT);

  it(
    'a missing parent directory: exit 1 naming it',
    async () => {
      const path = join(dir, 'no-such-dir', 'p0.db');
      const done = await rxwal(['append', path], { input: '{"type":"Insert"}\n' });
      expect(done).toMatchObject({ code: 1, stdout: '' });
      expect(done.stderr).toBe(
        `rxwal: ${path} cannot be opened: its directory ${join(dir, 'no-such-dir')} does not exist\n`,
      );
    },
    PROCESS_TIMEOUT,
  );

  it(
    'a directory given as the path: exit 1, for scan and append',
    async () => {
      const scan = await rxwal(['scan', dir]);
      expect(scan).toMatchObject({ code: 1, stdout: '' });
      expect(scan.stderr).toBe(`rxwal: ${dir} cannot be opened: it is a directory, not a file\n`);
      const append = await rxwal(['append', dir], { input: '{"type":"Insert"}\n' });
      expect(append.code).toBe(1);
      expect(append.stderr).toMatch(/it is a directory, not a file/);
    },
    PROCESS_TIMEOUT,
  );

  it(
    'a file of mode 000 (as nobody): exit 1, permission denied, for scan, stats and append',
    async () => {
      const locked = join(dir, 'mode000.db');
      await writtenLog(locked, 10);
      chmodSync(locked, 0o000);
      for (const args of [
        ['scan', locked],
        ['stats', locked],
        ['append', locked],
      ]) {
        const done = await rxwal(args, { asNobody: true, input: '{"type":"Insert"}\n' });
        expect({ args, code: done.code }).toEqual({ args, code: 1 });
        expect(done.stderr).toMatch(/cannot be opened: permission denied: no read(-write)? access/);
      }
      expect(process.getuid?.()).toBe(0); // the point of running as nobody
      expect(NOBODY).toBe(65534);
    },
    PROCESS_TIMEOUT,
  );

  it(
    'a read-only directory (as nobody): append exits 1 naming the directory; the log is intact',
    async () => {
      const readOnlyDir = sharedDir('read-only-dir');
      const log = join(readOnlyDir, 'p0.db');
      await writtenLog(log, 10);
      chmodSync(log, 0o666);
      chmodSync(readOnlyDir, 0o555);
      const before = digest(log);
      const done = await rxwal(['append', log], { asNobody: true, input: '{"type":"Insert"}\n' });
      expect(done.code).toBe(1);
      expect(done.stderr).toBe(
        `rxwal: ${log} cannot be opened: permission denied: no write access to its directory ${readOnlyDir} (SQLite creates -wal and -shm files there)\n`,
      );
      expect(digest(log)).toBe(before);
      chmodSync(readOnlyDir, 0o777);
    },
    PROCESS_TIMEOUT,
  );

  it(
    'a read-only file system (a read-only bind mount): append exits 1 saying so',
    async () => {
      const mounted = sharedDir('read-only-fs');
      const log = join(mounted, 'p0.db');
      await writtenLog(log, 10);
      const before = digest(log);
      const done = await rxwal(['append', log], {
        readOnlyMount: mounted,
        input: '{"type":"Insert"}\n',
      });
      expect(done.code).toBe(1);
      expect(done.stderr).toMatch(/cannot be opened: the file is on a read-only file system\n$/);
      expect(digest(log)).toBe(before);
      const newFile = await rxwal(['append', join(mounted, 'new.db')], {
        readOnlyMount: mounted,
        input: '{"type":"Insert"}\n',
      });
      expect(newFile.code).toBe(1);
      expect(newFile.stderr).toMatch(/its directory .* is on a read-only file system\n$/);
    },
    PROCESS_TIMEOUT,
  );

  it(
    'a missing native binding: exit 1 saying so, for scan and append',
    async () => {
      const preload = join(__dirname, 'support', 'withoutNativeBinding.cjs');
      for (const args of [
        ['scan', healthy],
        ['append', join(dir, 'new.db')],
      ]) {
        const done = await rxwal(args, { preload, input: '{"type":"Insert"}\n' });
        expect({ args, code: done.code }).toEqual({ args, code: 1 });
        expect(done.stderr).toMatch(/better-sqlite3's native binding could not be loaded/);
        // the remedy names rebuilding and the accepted versions, not one major
        expect(done.stderr).toContain(
          "build it for this Node.js: npm rebuild better-sqlite3, or npm install better-sqlite3@'^12.0.0 || ^13.0.0'\n",
        );
      }
    },
    PROCESS_TIMEOUT,
  );

  it(
    'a healthy log still scans with exit 0, and a file that is not a database still exits 4',
    async () => {
      expect((await rxwal(['scan', healthy, '--format', 'json'])).code).toBe(0);
      const text = join(dir, 'notes.db');
      const fd = openSync(text, 'w');
      writeSync(fd, 'not a database\n'.repeat(100));
      closeSync(fd);
      const done = await rxwal(['scan', text]);
      expect(done.code).toBe(4);
      expect(done.stderr).toMatch(/is not an rxwal log: is not an SQLite database/);
    },
    PROCESS_TIMEOUT,
  );
});

describe('a full disk (issue 9, item 2)', () => {
  it(
    'rxwal append exits 1 once, without a stack trace, when the disk fills while stdin stays open',
    async () => {
      // only a mount point here: the tmpfs exists in the child's namespace alone
      const disk = sharedDir('small-disk');
      const line = `${JSON.stringify({ type: 'Insert', vchannel: 'v1', payloadText: 'x'.repeat(20_000) })}\n`;
      const lines = 60; // 1.2 MB of payloads for 512 KiB
      const done = await rxwal(['append', join(disk, 'p0.db')], {
        smallDisk: { dir: disk, size: '512k' },
        input: line.repeat(lines),
        keepStdinOpen: true, // the failure must end the command by itself
        timeoutMs: 60_000,
      });
      expect(done.code).toBe(1); // null: killed at the timeout, the command hung
      expect(done.stderr).toBe('rxwal: database or disk is full\n');
      // the ids of the lines written before the disk filled, and nothing else
      expect(done.stdout).toMatch(/^(\d+\n)*$/);
      expect(done.stdout.split('\n').length - 1).toBeLessThan(lines);
    },
    PROCESS_TIMEOUT,
  );
});

describe('creating a new log from several processes at once (issue 9, item 9)', () => {
  /** A child process running a script of ./support, its stdout lines collected. */
  function child(
    script: string,
    args: string[],
  ): { lines: string[]; exited: Promise<number | null> } {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'support', script), ...args],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines: string[] = [];
    createInterface({ input: proc.stdout }).on('line', (line) => lines.push(line));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    const exited = new Promise<number | null>((resolveExit) =>
      proc.on('close', (code) => {
        clearTimeout(timer);
        resolveExit(code);
      }),
    );
    return { lines, exited };
  }

  /** Starts `support/lockHolder.ts` on `path` and returns once it holds the write lock. */
  async function lockHolder(
    path: string,
    holdMs: number,
    mode: 'create' | 'hold',
  ): Promise<ReturnType<typeof child>> {
    const holder = child('lockHolder.ts', [path, String(holdMs), mode]);
    const deadline = Date.now() + 60_000;
    while (!holder.lines.includes('locked') && Date.now() < deadline)
      await new Promise((resolveWait) => setTimeout(resolveWait, 10));
    expect(holder.lines).toEqual(['locked']);
    return holder;
  }

  it(
    'an open that meets a creation in progress waits for it and then uses its schema',
    async () => {
      const path = files.path('held.db');
      const holder = await lockHolder(path, 1500, 'create');
      // blocks (busy timeout) until the holder commits, then finds its schema
      const wal = await openSqliteWal(path, { busyTimeout: '60s' });
      expect(wal.channel).toBe('first'); // the holder's schema, committed while we waited
      await wal.append({ type: 'Insert', payload: Buffer.from('x') });
      await wal.close();
      expect(await holder.exited).toBe(0);
      expect(holder.lines).toEqual(['locked', 'committed']);
    },
    PROCESS_TIMEOUT,
  );

  it(
    'switching a new log to WAL waits for another writer instead of failing at once',
    async () => {
      // A log with its schema but still in rollback mode, as a creator leaves it just before its
      // switch to WAL. SQLite refuses that switch with SQLITE_BUSY at once, busy handler or not,
      // while another connection holds the write lock: in the six-process race (below), another
      // creator still inside its creating transaction. Before the retry this open failed at once.
      const path = files.path('switch.db');
      await (await openSqliteWal(path)).close();
      const raw = new Database(path);
      raw.pragma('journal_mode = DELETE');
      expect(raw.pragma('journal_mode', { simple: true })).toBe('delete');
      raw.close();
      const holder = await lockHolder(path, 700, 'hold');
      const started = Date.now();
      const wal = await openSqliteWal(path, { busyTimeout: '60s' }); // blocks until the commit
      expect(Date.now() - started).toBeGreaterThanOrEqual(300); // it waited for the writer
      await wal.append({ type: 'Insert', payload: Buffer.from('x') });
      await wal.close();
      expect(await holder.exited).toBe(0);
      const db = new Database(path, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
    },
    PROCESS_TIMEOUT,
  );

  it(
    "a checkpoint store's own file waits for another writer too before switching to WAL",
    async () => {
      const path = files.path('checkpoints.db');
      new Database(path).close(); // a new, empty file in rollback mode
      const holder = await lockHolder(path, 700, 'hold');
      const started = Date.now();
      const store = sqliteCheckpointStore(path, { name: 'consumer' }); // blocks until the commit
      expect(Date.now() - started).toBeGreaterThanOrEqual(300); // it waited for the writer
      store.close();
      expect(await holder.exited).toBe(0);
      const db = new Database(path, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
    },
    PROCESS_TIMEOUT,
  );

  it('the version and the tables are read from one state of the file: a creation commits before or after, never between', () => {
    // The race the six-process case met once in CI: a creator commits the schema between this
    // open's version read (0) and its table check (rxwal tables), and the new log is refused as
    // another application's database. Played here deterministically: a second connection tries
    // to create the schema at the moment the table check is prepared.
    const path = files.path('interleaved.db');
    const db = new Database(path);
    const creator = new Database(path, { timeout: 0 });
    let creation: string | undefined;
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      if (creation === undefined && sql.includes('sqlite_master')) {
        try {
          creator.exec(
            'CREATE TABLE rxwal_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)',
          );
          creator.pragma('user_version = 2');
          creation = 'committed';
        } catch (err) {
          creation = (err as { code?: string }).code;
        }
      }
      return prepare(sql);
    }) as typeof db.prepare;
    expect(inspectSchema(db, path, false)).toBe(0); // an empty file, as it was when read began
    expect(creation).toBe('SQLITE_BUSY'); // the creator waits for the read to end
    creator.close();
    db.close();
  });

  it(
    'six processes creating the same file at the same moment, twice: all open it, one schema',
    async () => {
      for (let round = 0; round < 2; round++) {
        const path = files.path(`race-${round}.db`);
        const startAt = String(Date.now() + 2000);
        const creators = Array.from({ length: 6 }, () => child('creator.ts', [path, startAt]));
        const codes = await Promise.all(creators.map((c) => c.exited));
        expect(creators.map((c) => c.lines.join(' '))).toEqual(Array(6).fill('ok'));
        expect(codes).toEqual(Array(6).fill(0));
        const db = new Database(path, { readonly: true });
        expect(
          db.prepare("SELECT count(*) FROM rxwal_meta WHERE key = 'format'").pluck().get(),
        ).toBe(1);
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        db.close();
      }
    },
    PROCESS_TIMEOUT * 2,
  );
});
