/**
 * The rxwal demo: a writer appends a realistic workload to a SQLite WAL — the embedded durable
 * default, written to ./data/demo.sqlite (or the path in RXWAL_DEMO_FILE) — (inserts over four vchannels,
 * transactions that commit, roll back or are abandoned) while a scanner for vchannel `v1` starts
 * paused — the operator switch of a crash-looping node — resumes after a few seconds, catches up
 * from the log, switches to tailing the write-ahead buffer, and reports what it delivered.
 *
 * Run it with `npm start`. It ends by itself with a one-line summary and exits 0 when every
 * expected message was delivered exactly once, in tick order.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

import pino from 'pino';
import pretty from 'pino-pretty';
import { BehaviorSubject } from 'rxjs';

import {
  createInMemoryMetrics,
  DeliverPolicy,
  isTxnMessage,
  jsonPayloadCodec,
  scanWal,
  type WalMessage,
} from '../lib/index.js';
import { openSqliteWal } from '../lib/sqlite/index.js';

const VCHANNELS = ['v0', 'v1', 'v2', 'v3'];
const WRITE_FOR_MS = 9_000;
const RESUME_AFTER_MS = 3_000;

const logger = pino(
  { level: 'info', base: null },
  pretty({ colorize: process.stdout.isTTY, sync: true, ignore: 'component' }),
);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

async function main(): Promise<void> {
  const path = resolve(process.env.RXWAL_DEMO_FILE ?? 'data/demo.sqlite');
  mkdirSync(dirname(path), { recursive: true });
  for (const file of [path, `${path}-wal`, `${path}-shm`]) rmSync(file, { force: true }); // a fresh log each run
  const wal = await openSqliteWal(path, {
    channel: 'demo-pchannel',
    timeTickInterval: '200ms',
    writeAheadBuffer: { capacity: '256kb', keepalive: '2s' },
    payloadCodec: jsonPayloadCodec,
    logger,
  });
  logger.info({ file: relative(process.cwd(), path) }, 'writing the log to a SQLite file');
  const pause$ = new BehaviorSubject(true); // streaming.walScanner.pauseConsumption = true
  const metrics = createInMemoryMetrics();

  // What a v1 consumer must receive, in tick order: plain inserts and committed transactions.
  const expected: { timeTick: bigint; key: string }[] = [];
  const counts = { appended: 0, committed: 0, rolledBack: 0, abandoned: 0 };

  const writer = (async () => {
    const started = Date.now();
    let row = 0;
    while (Date.now() - started < WRITE_FOR_MS) {
      const batch = Array.from({ length: 1 + Math.floor(Math.random() * 4) }, () =>
        pick(VCHANNELS),
      );
      const written = await Promise.all(
        batch.map((vchannel) => wal.append({ type: 'Insert', vchannel, payload: { row: row++ } })),
      );
      counts.appended += written.length;
      for (const m of written)
        if (m.vchannel === 'v1') expected.push({ timeTick: m.timeTick, key: `Insert#${m.id.key}` });
      if (Math.random() < 0.15) {
        const vchannel = pick(VCHANNELS);
        const outcome = Math.random();
        const txn = await wal.beginTxn({ vchannel, keepalive: outcome < 0.9 ? '10s' : '1s' });
        const bodies = await Promise.all(
          Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () =>
            txn.append({ type: 'Insert', payload: { row: row++ } }),
          ),
        );
        counts.appended += bodies.length + 1;
        if (outcome < 0.7) {
          const commit = await txn.commit();
          counts.committed++;
          if (vchannel === 'v1')
            expected.push({ timeTick: commit.timeTick, key: `Txn#${commit.id.key}` });
        } else if (outcome < 0.9) {
          await txn.rollback();
          counts.rolledBack++;
        } else {
          counts.abandoned++; // never committed: every reader drops it once its keepalive passes
        }
      }
      await sleep(5);
    }
    return wal.syncTimeTick({ persisted: true });
  })();

  setTimeout(() => {
    logger.info({ pauseConsumption: false }, 'operator switch turned off: consumption may start');
    pause$.next(false);
  }, RESUME_AFTER_MS).unref();

  logger.info({ pauseConsumption: true }, 'scanner for v1 starts paused; the writer keeps writing');
  const delivered: WalMessage[] = [];
  let lastTick = 0n;
  let inOrder = true;
  let finalTick: bigint | undefined;
  void writer.then((tick) => (finalTick = tick.timeTick));
  const progress = setInterval(() => {
    const s = metrics.snapshot();
    logger.info(
      {
        delivered: delivered.length,
        paused: s.paused,
        catchup: s.scanners.catchup,
        tailing: s.scanners.tailing,
      },
      'progress',
    );
  }, 1_000);

  for await (const m of scanWal(wal, {
    name: 'demo-consumer',
    vchannel: 'v1',
    pause$,
    deliverPolicy: DeliverPolicy.all(),
    logger,
    metrics,
  })) {
    if (m.timeTick < lastTick) inOrder = false;
    lastTick = m.timeTick;
    if (m.type === 'TimeTick') {
      if (finalTick !== undefined && m.timeTick >= finalTick) break;
      continue;
    }
    delivered.push(m);
    await new Promise((resolve) => setImmediate(resolve)); // some asynchronous work per message
  }
  clearInterval(progress);
  await wal.close();

  const got = delivered.map((m) => (isTxnMessage(m) ? `Txn#${m.id.key}` : `Insert#${m.id.key}`));
  const want = expected
    .sort((a, b) => (a.timeTick < b.timeTick ? -1 : a.timeTick > b.timeTick ? 1 : 0))
    .map((e) => e.key);
  const exact = inOrder && got.length === want.length && got.every((key, i) => key === want[i]);
  const s = metrics.snapshot();
  const pausedMs = Math.round(s.pauseDurationsMs.reduce((a, b) => a + b, 0));
  console.log(
    `summary: wrote ${counts.appended} messages (${counts.committed} txns committed, ${counts.rolledBack} rolled back, ${counts.abandoned} abandoned); ` +
      `v1 consumer paused ${pausedMs} ms, delivered ${got.length} of ${want.length} expected ` +
      `(${delivered.filter(isTxnMessage).length} txns, ${s.txn.expired} expired dropped) — ${exact ? 'exactly once, in tick order' : 'MISMATCH'}`,
  );
  console.log(
    `scan it again: npm run rxwal -- scan ${relative(process.cwd(), path)} --vchannel v1`,
  );
  process.exitCode = exact ? 0 : 1;
}

main().catch((err: unknown) => {
  logger.error({ err }, 'demo failed');
  process.exitCode = 1;
});
