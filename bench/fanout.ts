/**
 * The `fanout` section of issue 13: N tailing scanners, each on its own vchannel, over one
 * memory WAL with its writer; and SQLite catch-up of one vchannel against the whole log.
 */
import { join } from 'node:path';

import type { Subscription } from 'rxjs';

import { MessageType, type WalMessage } from '../lib/message/message.js';
import { noopMetrics, type ScannerMetrics } from '../lib/observability/metrics.js';
import { scanWal } from '../lib/scanner/scanWal.js';
import { openSqliteWal } from '../lib/sqlite/index.js';
import { createMemoryWal } from '../lib/wal/memoryWal.js';

const MiB = 1024 * 1024;

/** Lets every pending callback run: the scanners' catch-up, join and wake-ups. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface FanoutResult {
  scanners: number;
  appends: number;
  ms: number;
  messagesPerSecond: number;
  /** Peak heapUsed during the appends over heapUsed before the scanners, MiB. */
  heapGrowthMiB: number;
  /** (heapUsed with N idle tailing scanners − heapUsed without) ÷ N, after a GC, bytes. */
  idleBytesPerScanner: number;
}

/**
 * One run: `scanners` tailing scanners on `v0…v(N−1)`, then `appends` appends spread evenly over
 * them in batches of `batch` concurrent appends and a final persisted time tick; the time runs
 * until every scanner has delivered its share and the final tick.
 */
export async function fanoutRun(
  scanners: number,
  appends: number,
  batch: number,
  collectGarbage: () => void,
): Promise<FanoutResult> {
  const wal = createMemoryWal({ channel: 'bench-fanout' });
  await wal.syncTimeTick({ persisted: true }); // the writer and its buffer exist before we measure
  // The previous run's log stays reachable until its last scheduled callbacks have run (a
  // turn of the event loop after its close): without these turns, the baseline holds ~35 MiB
  // that are freed before the idle figure is taken, and the per-scanner figure goes negative.
  await turn();
  await turn();
  collectGarbage();
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  let tailing = 0;
  const metrics: ScannerMetrics = {
    ...noopMetrics,
    switchModel: (from, to) => {
      if (to === 'tailing') tailing++;
      if (from === 'tailing') tailing--;
    },
  };
  const delivered = new Array<number>(scanners).fill(0);
  /** The final time tick, once written: a scanner is done when it delivers it. */
  const final: { tick?: bigint } = {};
  let finished = 0;
  let allDone: () => void = () => undefined;
  let failed: (err: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    allDone = resolve;
    failed = reject;
  });
  const subscriptions: Subscription[] = [];
  for (let i = 0; i < scanners; i++) {
    let over = false;
    subscriptions.push(
      scanWal(wal, { vchannel: `v${i}`, metrics }).subscribe({
        next: (m: WalMessage) => {
          if (m.type !== MessageType.TimeTick) {
            delivered[i] = (delivered[i] as number) + 1;
            return;
          }
          if (over || final.tick === undefined || m.timeTick < final.tick) return;
          over = true;
          if (++finished === scanners) allDone();
        },
        error: (err: unknown) => failed(err),
      }),
    );
  }
  // idle: every scanner has caught up the empty log and tails the write-ahead buffer
  await wal.syncTimeTick({ persisted: true });
  for (let i = 0; tailing < scanners; i++) {
    if (i > 100_000) throw new Error(`only ${tailing} of ${scanners} scanners reached tailing`);
    await turn();
  }
  await turn();
  collectGarbage();
  collectGarbage();
  const heapIdle = process.memoryUsage().heapUsed;
  let peak = heapIdle;

  const start = performance.now();
  for (let done = 0; done < appends; done += batch) {
    const n = Math.min(batch, appends - done);
    const pending: Promise<unknown>[] = [];
    for (let j = 0; j < n; j++) {
      const k = done + j;
      pending.push(wal.append({ type: 'Insert', vchannel: `v${k % scanners}`, payload: k }));
    }
    await Promise.all(pending);
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  final.tick = (await wal.syncTimeTick({ persisted: true })).timeTick;
  await done;
  const ms = performance.now() - start;
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  for (const s of subscriptions) s.unsubscribe();
  await wal.close();
  const total = delivered.reduce((a, b) => a + b, 0);
  if (total !== appends) throw new Error(`the scanners delivered ${total} of ${appends} appends`);
  return {
    scanners,
    appends,
    ms,
    messagesPerSecond: Math.round((appends / ms) * 1000),
    heapGrowthMiB: Math.round(((peak - heapBefore) / MiB) * 10) / 10,
    idleBytesPerScanner: Math.round((heapIdle - heapBefore) / scanners),
  };
}

/**
 * A SQLite file of `messages` appends over `vchannels` vchannels (each holds 1 / vchannels of
 * them), a time tick every `tickEvery` appends, written by the WAL's writer.
 */
export async function buildVChannelFile(
  dir: string,
  messages: number,
  vchannels: number,
  tickEvery: number,
): Promise<{ path: string; lastTick: WalMessage }> {
  const path = join(dir, 'fanout.sqlite');
  const wal = await openSqliteWal(path, { channel: 'bench-fanout', synchronous: 'normal' });
  const payload = Buffer.from('{"pk":123456,"v":"abcdefgh"}');
  for (let done = 0; done < messages; done += tickEvery) {
    const n = Math.min(tickEvery, messages - done);
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++)
      pending.push(wal.append({ type: 'Insert', vchannel: `v${(done + i) % vchannels}`, payload }));
    pending.push(wal.syncTimeTick());
    await Promise.all(pending);
  }
  const lastTick = await wal.syncTimeTick({ persisted: true });
  await wal.close();
  return { path, lastTick };
}
