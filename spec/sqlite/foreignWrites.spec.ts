/**
 * Issue 9, item 1: rows another process appends to the file of a running writer. The write-ahead
 * buffer never holds them, so a scanner tailing it would hand out later time ticks as if they
 * were not there; a consumer checkpointing such a tick would skip them for good. A foreign write
 * must fence the writer and end the tailing scanners, never pass silently. In-process cases use a
 * second connection to the same file (to SQLite, exactly what another process is) and virtual
 * time; the last case runs the real `rxwal append` as a child process.
 */
import Database from 'better-sqlite3';

import { FencedError } from '../../lib/errors.js';
import { MessageType, type WalMessage } from '../../lib/message/message.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { openSqliteWal, type SqliteWal } from '../../lib/sqlite/index.js';
import { VirtualClock } from '../../lib/testing/index.js';
import { tempFiles } from './support/files.js';
import { rxwal } from './support/rxwalProcess.js';

const files = tempFiles();
afterAll(() => files.cleanup());

const insert = (payload: string): { type: MessageType; vchannel: string; payload: Buffer } => ({
  type: MessageType.Insert,
  vchannel: 'v1',
  payload: Buffer.from(payload),
});

/** Appends `payload` through a second read-write connection to `path`, as `rxwal append` does. */
async function appendFromElsewhere(path: string, payload: string): Promise<WalMessage> {
  const clock = new VirtualClock();
  const other = await openSqliteWal(path, { scheduler: clock.scheduler, synchronous: 'normal' });
  const row = await other.append(insert(payload));
  await other.syncTimeTick({ persisted: true });
  const closing = other.close();
  await clock.advance(1);
  await closing;
  return row;
}

/** The service: a writer ticking every 10 ms (virtual) and a scanner of everything. */
async function service(path: string): Promise<{
  wal: SqliteWal;
  clock: VirtualClock;
  seen: WalMessage[];
  errors: unknown[];
  close(): Promise<void>;
}> {
  const clock = new VirtualClock();
  const wal = await openSqliteWal(path, {
    scheduler: clock.scheduler,
    synchronous: 'normal',
    timeTickInterval: '10ms',
    pollInterval: '20ms',
  });
  const seen: WalMessage[] = [];
  const errors: unknown[] = [];
  const subscription = scanWal(wal, { scheduler: clock.scheduler }).subscribe({
    next: (m) => seen.push(m),
    error: (err: unknown) => errors.push(err),
  });
  return {
    wal,
    clock,
    seen,
    errors,
    async close() {
      subscription.unsubscribe();
      const closing = wal.close();
      await clock.advance(1);
      await closing;
    },
  };
}

const payloadsOf = (messages: readonly WalMessage[]): string[] =>
  messages.filter((m) => m.type === MessageType.Insert).map((m) => String(m.payload));

describe('rows another process appends to a running writer’s file', () => {
  it('end a scanner tailing the write-ahead buffer with FencedError before any later time tick, and fence the writer', async () => {
    const path = files.path();
    const s = await service(path);
    try {
      await s.wal.append(insert('own'));
      await s.clock.advance(50);
      expect(payloadsOf(s.seen)).toEqual(['own']);
      // tailing: the idle writer's not-persisted ticks reach only the write-ahead buffer
      expect(s.seen.some((m) => m.type === MessageType.TimeTick && !m.persisted)).toBe(true);

      await appendFromElsewhere(path, 'foreign');
      const before = s.seen.length;
      await s.clock.advance(100); // ten more writer ticks
      expect(s.errors).toHaveLength(1);
      expect(s.errors[0]).toBeInstanceOf(FencedError);
      expect((s.errors[0] as Error).message).toMatch(/another process has appended to/);
      expect(s.seen.slice(before)).toEqual([]); // no tick passed over the foreign row
      await expect(s.wal.append(insert('late'))).rejects.toBeInstanceOf(FencedError);
      await expect(s.wal.syncTimeTick()).rejects.toBeInstanceOf(FencedError);

      // the rows are in the log: a new scanner of the fenced WAL catches up and delivers them
      const again: WalMessage[] = [];
      const scanner = scanWal(s.wal, { scheduler: s.clock.scheduler }).subscribe((m) =>
        again.push(m),
      );
      await s.clock.advance(50);
      scanner.unsubscribe();
      expect(payloadsOf(again)).toEqual(['own', 'foreign']);
    } finally {
      await s.close();
    }
  });

  it('are delivered to a catch-up scanner of a read-write WAL whose writer is idle', async () => {
    const path = files.path();
    await appendFromElsewhere(path, 'first');
    const s = await service(path); // never writes: its scanner stays in catch-up
    try {
      await s.clock.advance(50);
      expect(payloadsOf(s.seen)).toEqual(['first']);
      await appendFromElsewhere(path, 'second');
      await s.clock.advance(50); // the poll interval, twice
      expect(payloadsOf(s.seen)).toEqual(['first', 'second']);
      expect(s.errors).toEqual([]);
      await expect(s.wal.append(insert('mine'))).rejects.toBeInstanceOf(FencedError);
    } finally {
      await s.close();
    }
  });

  it('a write by another connection that adds no row (another table) fences nothing', async () => {
    const path = files.path();
    const s = await service(path);
    try {
      await s.wal.append(insert('a'));
      await s.clock.advance(50);
      const other = new Database(path);
      other.exec('CREATE TABLE app_checkpoints (name TEXT PRIMARY KEY, position TEXT)');
      other.prepare('INSERT INTO app_checkpoints VALUES (?, ?)').run('c1', '42');
      other.close();
      await s.clock.advance(50);
      await s.wal.append(insert('b'));
      await s.clock.advance(50);
      expect(s.errors).toEqual([]);
      expect(payloadsOf(s.seen)).toEqual(['a', 'b']);
    } finally {
      await s.close();
    }
  });

  it('rxwal append from another process ends the tailing scanner with FencedError; the row is in the log', async () => {
    const path = files.path();
    const wal = await openSqliteWal(path, { timeTickInterval: '20ms', synchronous: 'normal' });
    const seen: WalMessage[] = [];
    let failure: unknown;
    const ended = new Promise<void>((resolveEnd) => {
      scanWal(wal).subscribe({
        next: (m) => seen.push(m),
        error: (err: unknown) => {
          failure = err;
          resolveEnd();
        },
      });
    });
    try {
      await wal.append(insert('own'));
      const done = await rxwal(['append', path, '--vchannel', 'v1'], {
        input: '{"type":"Insert","payload":"from the command"}\n',
      });
      expect(done).toMatchObject({ code: 0, stderr: '' });
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([
        ended,
        new Promise((_, reject) => {
          deadline = setTimeout(() => reject(new Error('the scanner went on silently')), 10_000);
        }),
      ]).finally(() => clearTimeout(deadline));
      expect(failure).toBeInstanceOf(FencedError);
      await expect(wal.append(insert('late'))).rejects.toBeInstanceOf(FencedError);
      const inserts = (await wal.read(DeliverPolicy.all()).next(100)).filter(
        (m) => m.type === MessageType.Insert,
      );
      expect(inserts.map((m) => String(m.payload))).toEqual(['own', 'from the command']);
    } finally {
      await wal.close();
    }
  }, 60_000);
});
