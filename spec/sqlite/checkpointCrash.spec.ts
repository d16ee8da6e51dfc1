/**
 * Exactly-once effects across crashes (issue 12): a consumer process applies the messages of a
 * real SQLite log to its own table and saves its checkpoint (sqliteCheckpointStore) in the same
 * SQLite transaction. It is SIGKILLed at random points 20 times and restarted each time; its
 * table ends equal to what the writer acknowledged, no row applied twice, none missing. The
 * children run real time; every wait is bounded.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import Database from 'better-sqlite3';

import { openSqliteWal } from '../../lib/sqlite/index.js';
import type { WalMessage } from '../../lib/message/message.js';
import { between, seededRandom } from '../support/random.js';
import { VirtualClock } from '../../lib/testing/index.js';
import { tempFiles } from './support/files.js';

const files = tempFiles();
afterAll(() => files.cleanup());

const KILLS = 20;

/** Writes a finished log; returns the rows a consumer of vchannel v1 must end with. */
async function writeLog(path: string, random: () => number): Promise<Map<number, string>> {
  const clock = new VirtualClock();
  const wal = await openSqliteWal(path, {
    channel: 'cp',
    scheduler: clock.scheduler,
    synchronous: 'normal',
  });
  const expected = new Map<number, string>();
  let n = 0;
  const payload = (): string => `p${++n}`;
  const row = (m: WalMessage, text: string): void => {
    if (m.vchannel === 'v1' || m.vchannel === '') expected.set(Number(m.id.key), text);
  };
  try {
    while (n < 1200) {
      const r = random();
      if (r < 0.45) {
        // a concurrent batch: ticks may complete out of order
        const texts = [payload(), payload(), payload()];
        const vchannels = ['v1', random() < 0.5 ? 'v2' : '', 'v1'];
        const acks = await Promise.all(
          texts.map((text, i) =>
            wal.append({
              type: 'Insert',
              vchannel: vchannels[i] ?? 'v1',
              payload: Buffer.from(text),
            }),
          ),
        );
        acks.forEach((m, i) => row(m, texts[i] as string));
      } else {
        // two interleaved transactions, Infinity or finite keepalive, committed or rolled back
        const a = await wal.beginTxn({ vchannel: 'v1', keepalive: Infinity });
        const b = await wal.beginTxn({ vchannel: random() < 0.5 ? 'v1' : 'v2', keepalive: '1h' });
        const bodies: [WalMessage, string, boolean][] = [];
        for (let i = 0; i < between(random, 1, 4); i++) {
          const text = payload();
          const inA = random() < 0.5;
          const m = await (inA ? a : b).append({ type: 'Insert', payload: Buffer.from(text) });
          bodies.push([m, text, inA]);
          if (random() < 0.3) await wal.syncTimeTick();
        }
        const commitA = random() < 0.8;
        const commitB = random() < 0.8;
        await (commitA ? a.commit() : a.rollback());
        await (commitB ? b.commit() : b.rollback());
        for (const [m, text, inA] of bodies) if (inA ? commitA : commitB) row(m, text);
      }
      if (random() < 0.2) await wal.syncTimeTick();
    }
    const end = await wal.append({ type: 'Insert', vchannel: 'v1', payload: Buffer.from('END') });
    row(end, 'END');
    await wal.syncTimeTick({ persisted: true });
  } finally {
    const closing = wal.close();
    await clock.advance(1);
    await closing;
  }
  return expected;
}

interface ConsumerRun {
  /** Resolves with the exit code (null when killed) once the process exited. */
  exited: Promise<number | null>;
  applied: () => number;
  ready: () => boolean;
  kill(): void;
  stderr(): string;
}

function startConsumer(logPath: string, appPath: string): ConsumerRun {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'support', 'checkpointConsumer.ts'), logPath, appPath],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let applied = 0;
  let ready = false;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    if (line.startsWith('ready')) ready = true;
    if (line.startsWith('applied')) applied++;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    exited,
    applied: () => applied,
    ready: () => ready,
    kill: () => child.kill('SIGKILL'),
    stderr: () => stderr,
  };
}

/** Waits (real time, bounded) until `done()` holds or the process exited. */
async function until(done: () => boolean, run: ConsumerRun, what: string): Promise<void> {
  let exited = false;
  void run.exited.then(() => (exited = true));
  const deadline = Date.now() + 60_000;
  while (!done() && !exited) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('checkpoints across SIGKILL (sqliteCheckpointStore in the consumer transaction)', () => {
  test(`a consumer killed ${KILLS} times at random points ends with every row exactly once`, async () => {
    const random = seededRandom(Number(process.env.CRASH_SEED ?? 1212));
    const logPath = files.path('log.db');
    const appPath = files.path('app.db');
    const expected = await writeLog(logPath, random);
    expect(expected.size).toBeGreaterThan(500);

    const killedAfter: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const run = startConsumer(logPath, appPath);
      // kill at random: sometimes before it applied anything, mostly somewhere in the stream
      const target = random() < 0.15 ? 0 : between(random, 1, 60);
      await until(() => run.ready() && run.applied() >= target, run, `consumer run ${k}`);
      run.kill();
      const code = await run.exited;
      // killed by the signal (null), or it finished first: never failed on its own
      expect({ run: k, code, stderr: run.stderr() }).toEqual({
        run: k,
        code: code === 0 ? 0 : null,
        stderr: '',
      });
      killedAfter.push(run.applied());
    }
    const last = startConsumer(logPath, appPath);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      last.exited,
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 120_000))),
    ]);
    clearTimeout(timer);
    if (code === 'timeout') last.kill();
    expect({ code, stderr: last.stderr() }).toEqual({ code: 0, stderr: '' });
    // once END is applied there is nothing left: a run started then (as after a kill that
    // landed between END's transaction and the exit) applies nothing and exits, not waits
    const again = startConsumer(logPath, appPath);
    await until(() => false, again, 'a consumer with nothing left to apply');
    expect({ code: await again.exited, applied: again.applied() }).toEqual({ code: 0, applied: 0 });

    const db = new Database(appPath, { readonly: true });
    const rows = db.prepare('SELECT id, payload FROM rows ORDER BY id').all() as {
      id: number;
      payload: string;
    }[];
    db.close();
    const want = [...expected.entries()]
      .sort(([a], [b]) => a - b)
      .map(([id, payload]) => ({ id, payload }));
    expect(rows).toEqual(want);
    // the kills really landed in the middle of the stream
    expect(killedAfter.filter((n) => n > 0).length).toBeGreaterThan(KILLS / 2);
  }, 600_000); // 47 s on an idle 2-core machine; child start-ups take much longer under load
});
