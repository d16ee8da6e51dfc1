/**
 * Real processes on one SQLite file: a read-only follower scanning in catch-up mode while this
 * process writes, and a writer killed with SIGKILL in the middle of appends and transactions.
 * The children run real time; every wait here is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { isTxnMessage, type WalMessage } from '../../lib/message/message.js';
import { DeliverFilter } from '../../lib/options/deliverFilter.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { openSqliteWal, sqliteWalStats, type SqliteWal } from '../../lib/sqlite/index.js';
import { VirtualClock } from '../../lib/testing/index.js';
import { tempFiles } from './support/files.js';

const files = tempFiles();
afterAll(() => files.cleanup());

/** A child running a TypeScript file, with its stdout as parsed JSON lines. */
function run(
  script: string,
  path: string,
): { child: ChildProcess; lines: unknown[]; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'support', script), path],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: unknown[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line));
    } catch {
      // a line cut by SIGKILL: not an acknowledgement anyone saw
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exited, stderr: () => stderr };
}

/** Waits (real time, bounded) until `done()` holds. */
async function until(done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('SQLite WAL across processes', () => {
  test('a read-only process scans in catch-up mode and sees rows as they are committed', async () => {
    const path = files.path();
    const clock = new VirtualClock();
    const wal = await openSqliteWal(path, { scheduler: clock.scheduler, synchronous: 'normal' });
    const insert = (payload: string, vchannel = 'v1'): Promise<WalMessage> =>
      wal.append({ type: 'Insert', vchannel, payload: Buffer.from(payload) });
    const written: WalMessage[] = [];
    written.push(await insert('a'), await insert('b'));
    await insert('other', 'v2');
    await wal.syncTimeTick();
    const follower = run('follower.ts', path);
    try {
      await until(() => follower.lines.length >= 3, 'the follower to catch up');
      expect(follower.lines[0]).toEqual({ ready: 'ro' });
      // new rows, one commit at a time, while the follower waits
      written.push(await insert('c'));
      await wal.syncTimeTick();
      await until(() => follower.lines.length >= 4, 'the follower to see c');
      const txn = await wal.beginTxn({ vchannel: 'v1' });
      const body = await txn.append({ type: 'Insert', payload: Buffer.from('d') });
      await txn.commit();
      written.push(body, await insert('end'));
      await wal.syncTimeTick();
      expect(await follower.exited).toBe(0);
      expect(follower.lines.slice(1)).toEqual(
        written.map((m) => ({
          id: m.id.key,
          type: m === body ? 'Txn' : 'Insert',
          payload: String(m.payload),
        })),
      );
    } finally {
      follower.child.kill('SIGKILL');
      const closing = wal.close();
      await clock.advance(1);
      await closing;
    }
  }, 20_000);

  test('SIGKILL mid-write: the log holds the acknowledged appends, no torn record, and a resumed scanner delivers each message once', async () => {
    const path = files.path();
    const writer = run('crashWriter.ts', path);
    let acks: { id: string; type: string; tick: string; payload: string | null }[];
    try {
      await until(
        () => writer.lines.length >= 300 || writer.child.exitCode !== null,
        'acknowledged appends',
      );
      expect(writer.stderr()).toBe('');
      writer.child.kill('SIGKILL');
      await writer.exited;
      acks = writer.lines as typeof acks;
    } finally {
      writer.child.kill('SIGKILL');
    }

    // Every row decodes (a torn record would reject CorruptRecordError here).
    const stats = await sqliteWalStats(path);
    const clock = new VirtualClock();
    const wal: SqliteWal = await openSqliteWal(path, { scheduler: clock.scheduler });
    const rows = await wal.read(DeliverPolicy.all()).next(stats.messages);
    expect(rows).toHaveLength(stats.messages);
    const byId = new Map(rows.map((m) => [m.id.key, m]));

    // Every acknowledged append is there, as acknowledged.
    for (const a of acks) {
      const row = byId.get(a.id);
      expect(row).toBeDefined();
      expect({
        id: row?.id.key,
        type: row?.type,
        tick: String(row?.timeTick),
        payload: row?.payload === undefined ? null : String(row.payload),
      }).toEqual(a);
    }
    // What was written but not acknowledged: only the writer's own time ticks, and the data of
    // the write batch committed right before the kill, whose acknowledgement nobody saw.
    const lastAck = acks.reduce((max, a) => (BigInt(a.id) > max ? BigInt(a.id) : max), 0n);
    const acked = new Set(acks.map((a) => a.id));
    const unacknowledged = rows.filter((m) => m.type !== 'TimeTick' && !acked.has(m.id.key));
    for (const m of unacknowledged) expect(BigInt(m.id.key)).toBeGreaterThan(lastAck);
    expect(unacknowledged.length).toBeLessThanOrEqual(3); // at most one batch

    // What a consumer must get: plain inserts, and transactions whose commit is in the log.
    const commits = new Set(rows.filter((m) => m.type === 'CommitTxn').map((m) => m.txn?.txnId));
    const expected = rows
      .filter((m) => m.type === 'Insert' && (m.txn === undefined || commits.has(m.txn.txnId)))
      .map((m) => m.id.key)
      .sort((a, b) => Number(BigInt(a) - BigInt(b)));
    expect(expected.length).toBeGreaterThan(100);

    // The reopened writer continues the ids (its start tick, then this one) and the ticks; its
    // persisted tick releases everything written before.
    const final = await wal.syncTimeTick({ persisted: true });
    const lastRow = rows[rows.length - 1] as WalMessage;
    expect(BigInt(final.id.key)).toBe(BigInt(lastRow.id.key) + 2n);
    expect(final.timeTick).toBeGreaterThan(lastRow.timeTick);

    // A consumer checkpoints at time ticks, stops half-way, and resumes from its checkpoint.
    const delivered: string[] = [];
    const deliver = (m: WalMessage): void => {
      if (isTxnMessage(m)) delivered.push(...m.body.map((b) => b.id.key));
      else if (m.type !== 'TimeTick') delivered.push(m.id.key);
    };
    let checkpoint:
      { lastConfirmedId: WalMessage['lastConfirmedId']; timeTick: bigint } | undefined;
    const first = scanWal(wal, { scheduler: clock.scheduler }).subscribe((m) => {
      deliver(m);
      if (m.type === 'TimeTick') {
        checkpoint = { lastConfirmedId: m.lastConfirmedId, timeTick: m.timeTick };
        if (delivered.length >= expected.length / 2) first.unsubscribe();
      }
    });
    for (let i = 0; i < 200 && !first.closed; i++) await clock.advance(10);
    expect(first.closed).toBe(true);
    expect(checkpoint).toBeDefined();
    const resumedFrom = delivered.length;
    expect(resumedFrom).toBeLessThan(expected.length);
    const cp = checkpoint as NonNullable<typeof checkpoint>;
    let done = false;
    const second = scanWal(wal, {
      scheduler: clock.scheduler,
      deliverPolicy: DeliverPolicy.startFrom(cp.lastConfirmedId),
      filters: [DeliverFilter.timeTickGT(cp.timeTick)],
    }).subscribe((m) => {
      deliver(m);
      if (m.type === 'TimeTick' && m.timeTick >= final.timeTick) done = true;
    });
    for (let i = 0; i < 200 && !done; i++) await clock.advance(10);
    second.unsubscribe();
    expect(done).toBe(true);
    expect([...delivered].sort((a, b) => Number(BigInt(a) - BigInt(b)))).toEqual(expected);
    expect(new Set(delivered).size).toBe(delivered.length); // each once
    const closing = wal.close();
    await clock.advance(1);
    await closing;
  }, 20_000);
});
