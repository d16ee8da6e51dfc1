/**
 * The rxwal benchmark (issue 4): `npm run bench` compiles lib/ and bench/ with tsc into .bench/
 * (as the published package is compiled: no loader's helpers in the measured code) and runs
 * `node --expose-gc .bench/bench/run.js`.
 * Every figure is measured in this one process run, as a ratio against a baseline measured in the
 * same run where it has one, as the median of several runs after a warm-up. Prints a table and
 * writes bench/results.json. See bench/README.md for what each figure measures and how.
 *
 * Environment: BENCH_SCALE (default 1: W1 and W4 of 1,000,000 messages, W3 with 100,000 open
 * transactions), BENCH_RUNS (default 5), BENCH_W3_WINDOWS (default 2000), BENCH_TAIL_SECONDS
 * (per tailing run, default 3), BENCH_SLOW_SECONDS (per slow-consumer run, default 6),
 * BENCH_SLOW_RUNS (default 3); the nats section's BENCH_NATS_SIZE (default 1,000,000),
 * BENCH_NATS_APPEND_SIZE (default 100,000) and BENCH_NATS_RUNS (default BENCH_RUNS, else 3).
 */
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { from, Subject, type OperatorFunction, type Subscription } from 'rxjs';

import { MessageType, type WalMessage } from '../lib/message/message.js';
import { noopMetrics, type ScannerMetrics } from '../lib/observability/metrics.js';
import { filterVChannel } from '../lib/operators/filterVChannel.js';
import { reorderUntilTick } from '../lib/operators/reorderUntilTick.js';
import { txnBuffer } from '../lib/operators/txnBuffer.js';
import { scanWal } from '../lib/scanner/scanWal.js';
import { createMemoryWal, type MemoryWal } from '../lib/wal/memoryWal.js';
import type { MemoryWriteAheadBuffer } from '../lib/wal/writeAheadBuffer.js';
import { runLimit } from './limit.js';
import { naiveScan } from './naive.js';
import { tunedRxjsScan } from './tunedRxjs.js';
import { appendBare, appendWithWriter, readBare, scratchDir, sqliteCatchUp } from './sqlite.js';
import { openSqliteWal } from '../lib/sqlite/index.js';
import { buildVChannelFile, fanoutRun, type FanoutResult } from './fanout.js';
import {
  benchNats,
  catchupFigure,
  IN_FLIGHT,
  median as natsMedian,
  natsBenchOptions,
} from './nats.js';
import {
  describeLog,
  generateW1,
  generateW3,
  generateW4,
  rawRecordOf,
  type W3Workload,
} from './workloads.js';

// ---------------------------------------------------------------- configuration

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number, got ${raw}`);
  return value;
}

const SCALE = envNumber('BENCH_SCALE', 1);
const RUNS = Math.max(1, Math.round(envNumber('BENCH_RUNS', 5)));
const W1_SIZE = Math.max(1000, Math.round(1_000_000 * SCALE));
const W3_OPEN_LARGE = Math.max(1000, Math.round(100_000 * SCALE));
const W3_OPEN_SMALL = 100;
const W3_WINDOWS = Math.max(10, Math.round(envNumber('BENCH_W3_WINDOWS', 2000)));
const W4_SIZE = Math.max(1000, Math.round(1_000_000 * SCALE));
const TAIL_SECONDS = envNumber('BENCH_TAIL_SECONDS', 3);
const TAIL_RATE = 2000; // appended messages per second, over four vchannels
const SLOW_SECONDS = envNumber('BENCH_SLOW_SECONDS', 6);
const SLOW_RUNS = Math.max(1, Math.round(envNumber('BENCH_SLOW_RUNS', 3)));
const SQLITE_SIZE = Math.max(10_000, Math.round(1_000_000 * SCALE));
/** Appends of one fanout run, spread over its scanners' vchannels. */
const FANOUT_APPENDS = Math.max(10_000, Math.round(100_000 * SCALE));
/** The scanner counts of the fanout section (BENCH_FANOUT, a comma list). */
const FANOUT_SCANNERS = (process.env.BENCH_FANOUT ?? '1,10,100,1000,10000')
  .split(',')
  .map((s) => Number(s.trim()));
/**
 * BENCH_ONLY: a comma list of sections to run (w1, w3, w4, tailing, sqlite, fanout, nats); default
 * all (nats only where nats-server is on PATH).
 */
const ONLY = new Set(
  (process.env.BENCH_ONLY ?? 'w1,w3,w4,tailing,sqlite,fanout,nats').split(',').map((s) => s.trim()),
);
const CONSUMER_VCHANNEL = 'v1';

const collectGarbage: () => void =
  typeof gc === 'function'
    ? () => {
        (gc as () => void)();
        (gc as () => void)();
      }
    : () => undefined;

// ---------------------------------------------------------------- helpers

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
const mps = (messages: number, ms: number): number => (messages / ms) * 1000;
const MiB = 1024 * 1024;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Peak process.memoryUsage() seen at the end of each section. */
const peakMemory = { heapUsedMiB: 0, rssMiB: 0 };
function sampleMemory(): void {
  const { heapUsed, rss } = process.memoryUsage();
  peakMemory.heapUsedMiB = Math.max(peakMemory.heapUsedMiB, Math.round(heapUsed / MiB));
  peakMemory.rssMiB = Math.max(peakMemory.rssMiB, Math.round(rss / MiB));
}

interface Figure {
  figure: string;
  measured: string;
  value: number;
  target: string;
  pass: boolean;
  details: Record<string, unknown>;
}

const figures: Figure[] = [];
const notes: string[] = [];

function addFigure(f: Figure): void {
  sampleMemory();
  figures.push(f);
  log(`  → ${f.figure}: ${f.measured} (target ${f.target}) ${f.pass ? 'PASS' : 'FAIL'}`);
}

// ---------------------------------------------------------------- the measured things

function operatorPipeline(messages: readonly WalMessage[], vchannel: string): number {
  let delivered = 0;
  from(messages)
    .pipe(filterVChannel(vchannel), reorderUntilTick(), txnBuffer())
    .subscribe({
      next: () => {
        delivered++;
      },
    });
  return delivered;
}

function naivePipeline(
  messages: readonly WalMessage[],
  vchannel: string,
  scan: (vchannel: string) => OperatorFunction<WalMessage, WalMessage> = naiveScan,
): number {
  let delivered = 0;
  from(messages)
    .pipe(scan(vchannel))
    .subscribe({
      next: () => {
        delivered++;
      },
    });
  return delivered;
}

/** scanWal from `all()` until `last` (the log's final time tick) is delivered. */
function scanUntil(wal: MemoryWal, vchannel: string, last: WalMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    let delivered = 0;
    let done = false;
    const subscription: Subscription = scanWal(wal, { vchannel }).subscribe({
      next: (m) => {
        delivered++;
        if (m !== last || done) return;
        done = true;
        setImmediate(() => subscription?.unsubscribe());
        resolve(delivered);
      },
      error: reject,
      complete: () => reject(new Error('scanWal completed before the last message')),
    });
    if (done) subscription.unsubscribe();
  });
}

interface Timed {
  ms: number;
  delivered: number;
}

/**
 * Times one run of a contender. No collection is forced between runs: a forced `gc()` makes V8
 * drop optimized code whose maps and allocation sites it collected (`--trace-deopt`: "weak
 * objects"), and the compiled limit then needed two more runs to be warm again (2–3× slower
 * meanwhile). Runs of all contenders are interleaved after a warm-up, so the garbage each leaves
 * falls on every contender alike; the median takes out a run that met a major collection.
 */
async function timed(run: () => number | Promise<number>): Promise<Timed> {
  const start = performance.now();
  const delivered = await run();
  return { ms: performance.now() - start, delivered };
}

// ---------------------------------------------------------------- sections

/**
 * The warmed limit's stretch, in log positions: about the 256 messages of one of scanWal's read
 * batches, `v1` holding a quarter of W1.
 */
const WARM_STRETCH = 1024;

async function throughputSection(w1: readonly WalMessage[], wal: MemoryWal): Promise<void> {
  const last = w1[w1.length - 1] as WalMessage;
  const contenders: Record<string, () => number | Promise<number>> = {
    'limit W1': () => runLimit(w1, CONSUMER_VCHANNEL),
    'limit W1 warmed': () => runLimit(w1, CONSUMER_VCHANNEL, undefined, WARM_STRETCH),
    'operators W1': () => operatorPipeline(w1, CONSUMER_VCHANNEL),
    'limit W2': () => runLimit(w1, ''),
    'operators W2': () => operatorPipeline(w1, ''),
    'scanWal W1': () => scanUntil(wal, CONSUMER_VCHANNEL, last),
    'naive W1': () => naivePipeline(w1, CONSUMER_VCHANNEL),
    'tuned W1': () => naivePipeline(w1, CONSUMER_VCHANNEL, tunedRxjsScan),
  };
  const results: Record<string, Timed[]> = {};
  // Two warm-up rounds: the compiled limit still sped up on its second run (V8's tiers).
  log(`warm-up: two runs of each contender`);
  for (let round = 1; round <= 2; round++) {
    for (const [name, run] of Object.entries(contenders)) {
      const t = await timed(run);
      log(`  ${name.padEnd(14)} ${fmt(t.ms, 0).padStart(7)} ms  delivered ${t.delivered}`);
    }
  }
  for (let r = 1; r <= RUNS; r++) {
    const line: string[] = [];
    for (const [name, run] of Object.entries(contenders)) {
      const t = await timed(run);
      (results[name] ??= []).push(t);
      line.push(`${name} ${fmt(t.ms, 0)}`);
    }
    log(`run ${r}/${RUNS} (ms): ${line.join(', ')}`);
  }
  const medianMs = (name: string): number => median((results[name] ?? []).map((t) => t.ms));
  const delivered = (name: string): number => (results[name]?.[0] as Timed).delivered;
  const n = w1.length;
  const check = (a: string, b: string): void => {
    if (delivered(a) !== delivered(b)) {
      const note = `delivered counts differ: ${a} ${delivered(a)}, ${b} ${delivered(b)}`;
      notes.push(note);
      log(`  WARNING ${note}`);
    }
  };
  check('limit W1', 'operators W1');
  check('limit W1', 'scanWal W1');
  check('limit W1', 'naive W1');
  check('limit W1', 'tuned W1');
  check('limit W1', 'limit W1 warmed');
  check('limit W2', 'operators W2');

  const throughput = (
    name: string,
  ): { messagesPerSecond: number; medianMs: number; runsMs: number[]; delivered: number } => ({
    messagesPerSecond: Math.round(mps(n, medianMs(name))),
    medianMs: medianMs(name),
    runsMs: (results[name] ?? []).map((t) => t.ms),
    delivered: delivered(name),
  });
  for (const [w, limitName, opsName] of [
    ['W1', 'limit W1', 'operators W1'],
    ['W2', 'limit W2', 'operators W2'],
  ] as const) {
    const ratio = medianMs(limitName) / medianMs(opsName);
    addFigure({
      figure: `operator pipeline over ${w} ÷ the limit`,
      measured: `${fmt(ratio)} (${fmt(mps(n, medianMs(opsName)) / 1e6)} vs ${fmt(mps(n, medianMs(limitName)) / 1e6)} M msg/s)`,
      value: ratio,
      target: '≥ 0.9', // issue 13 (issue 4 asked 0.8)
      pass: ratio >= 0.9,
      details: { operators: throughput(opsName), limit: throughput(limitName) },
    });
  }
  const scanRatio = medianMs('limit W1') / medianMs('scanWal W1');
  addFigure({
    figure: 'scanWal over a memory WAL holding W1 ÷ the limit',
    measured: `${fmt(scanRatio)} (${fmt(mps(n, medianMs('scanWal W1')) / 1e6)} vs ${fmt(mps(n, medianMs('limit W1')) / 1e6)} M msg/s)`,
    value: scanRatio,
    target: '≥ 0.9', // issue 13 (issue 4 asked 0.5)
    pass: scanRatio >= 0.9,
    details: { scanWal: throughput('scanWal W1'), limit: throughput('limit W1') },
  });
  const naiveRatio = medianMs('naive W1') / medianMs('scanWal W1');
  addFigure({
    figure: 'scanWal ÷ naive RxJS on W1',
    measured: `${fmt(naiveRatio)} (${fmt(mps(n, medianMs('scanWal W1')) / 1e6)} vs ${fmt(mps(n, medianMs('naive W1')) / 1e6)} M msg/s)`,
    value: naiveRatio,
    target: '≥ 3',
    pass: naiveRatio >= 3,
    details: { scanWal: throughput('scanWal W1'), naive: throughput('naive W1') },
  });
  // For reference, not a target: the limit reading, every WARM_STRETCH messages, the id keys and
  // ticks of those it keeps before it handles them, as scanWal's source does with each batch
  // (lib/internal/warmMessages.ts). It shows how much of scanWal's lead over the plain limit is
  // that memory effect, which any loop could have.
  const warmedRatio = medianMs('limit W1 warmed') / medianMs('scanWal W1');
  addFigure({
    figure: `scanWal ÷ the limit warming every ${WARM_STRETCH.toLocaleString('en')} messages (reference)`,
    measured: `${fmt(warmedRatio)} (${fmt(mps(n, medianMs('scanWal W1')) / 1e6)} vs ${fmt(mps(n, medianMs('limit W1 warmed')) / 1e6)} M msg/s; warmed ÷ plain limit ${fmt(medianMs('limit W1') / medianMs('limit W1 warmed'))})`,
    value: warmedRatio,
    target: '—',
    pass: true,
    details: { scanWal: throughput('scanWal W1'), warmedLimit: throughput('limit W1 warmed') },
  });
  // For reference, not a target: hand-tuned RxJS (buffer + sort + a scan over a Map) on the
  // same work.
  const tunedRatio = medianMs('tuned W1') / medianMs('scanWal W1');
  addFigure({
    figure: 'scanWal ÷ tuned RxJS on W1 (reference)',
    measured: `${fmt(tunedRatio)} (${fmt(mps(n, medianMs('scanWal W1')) / 1e6)} vs ${fmt(mps(n, medianMs('tuned W1')) / 1e6)} M msg/s)`,
    value: tunedRatio,
    target: '—',
    pass: true,
    details: { scanWal: throughput('scanWal W1'), tuned: throughput('tuned W1') },
  });
}

async function eventLoopSection(wal: MemoryWal, last: WalMessage): Promise<void> {
  const maxima: number[] = [];
  const means: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    collectGarbage();
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    await scanUntil(wal, CONSUMER_VCHANNEL, last);
    await sleep(5); // let the monitor's timer report the last stall
    histogram.disable();
    maxima.push(histogram.max / 1e6);
    means.push(histogram.mean / 1e6);
  }
  const max = median(maxima);
  addFigure({
    figure: 'event-loop max delay during the W1 catch-up',
    measured: `${fmt(max, 1)} ms`,
    value: max,
    target: '≤ 50 ms',
    pass: max <= 50,
    details: { maxMsPerRun: maxima, meanMsPerRun: means, resolutionMs: 1 },
  });
}

async function slowConsumerSection(wal: MemoryWal): Promise<void> {
  const retainedPeaks: number[] = [];
  const rawPeaks: number[] = [];
  const consumedPerRun: number[] = [];
  for (let r = 0; r < SLOW_RUNS; r++) {
    collectGarbage();
    const baseline = process.memoryUsage().heapUsed;
    let retainedPeak = 0;
    let rawPeak = 0;
    const rawTimer = setInterval(() => {
      rawPeak = Math.max(rawPeak, process.memoryUsage().heapUsed - baseline);
    }, 20);
    const gcTimer = setInterval(() => {
      collectGarbage();
      retainedPeak = Math.max(retainedPeak, process.memoryUsage().heapUsed - baseline);
    }, 1000);
    const deadline = performance.now() + SLOW_SECONDS * 1000;
    let consumed = 0;
    for await (const m of scanWal(wal, { vchannel: CONSUMER_VCHANNEL })) {
      void m;
      consumed++;
      await sleep(1); // the consumer's work: 1 ms per message
      if (performance.now() >= deadline) break;
    }
    clearInterval(rawTimer);
    clearInterval(gcTimer);
    collectGarbage();
    retainedPeak = Math.max(retainedPeak, process.memoryUsage().heapUsed - baseline);
    retainedPeaks.push(retainedPeak / MiB);
    rawPeaks.push(rawPeak / MiB);
    consumedPerRun.push(consumed);
    log(
      `  slow consumer run ${r + 1}/${SLOW_RUNS}: ${consumed} messages in ${SLOW_SECONDS} s, retained peak ${fmt(retainedPeak / MiB)} MiB, raw heapUsed peak ${fmt(rawPeak / MiB)} MiB`,
    );
  }
  const peak = median(retainedPeaks);
  addFigure({
    figure: `slow consumer (1 ms/message, pull API, ${SLOW_SECONDS} s) over W1: peak heap growth`,
    measured: `${fmt(peak)} MiB`,
    value: peak,
    target: '≤ 50 MiB',
    pass: peak <= 50,
    details: {
      retainedPeakMiBPerRun: retainedPeaks,
      rawHeapUsedPeakMiBPerRun: rawPeaks,
      consumedPerRun,
      seconds: SLOW_SECONDS,
    },
  });
}

/** Mean and median cost of the measured time ticks of one W3 run, in ns. */
function tickCosts(w3: W3Workload): { meanNs: number; medianNs: number; delivered: number } {
  const subject = new Subject<WalMessage>();
  let delivered = 0;
  const subscription = subject
    .pipe(filterVChannel(''), reorderUntilTick(), txnBuffer())
    .subscribe(() => {
      delivered++;
    });
  const messages = w3.messages;
  for (let i = 0; i < w3.setupLength; i++) subject.next(messages[i] as WalMessage);
  const perTick = new Float64Array(w3.windows);
  let index = w3.setupLength;
  let total = 0;
  for (let w = 0; w < w3.windows; w++) {
    for (let k = 1; k < w3.windowSize; k++) subject.next(messages[index++] as WalMessage);
    const tick = messages[index++] as WalMessage;
    const start = process.hrtime.bigint();
    subject.next(tick);
    const ns = Number(process.hrtime.bigint() - start);
    perTick[w] = ns;
    total += ns;
  }
  subscription.unsubscribe();
  return { meanNs: total / w3.windows, medianNs: median(Array.from(perTick)), delivered };
}

async function w3Section(): Promise<void> {
  const large = generateW3({ openTxns: W3_OPEN_LARGE, windows: W3_WINDOWS, seed: 31 });
  const small = generateW3({ openTxns: W3_OPEN_SMALL, windows: W3_WINDOWS, seed: 32 });
  tickCosts(large); // warm-up
  tickCosts(small);
  const largeRuns: { meanNs: number; medianNs: number }[] = [];
  const smallRuns: { meanNs: number; medianNs: number }[] = [];
  for (let r = 0; r < RUNS; r++) {
    collectGarbage();
    largeRuns.push(tickCosts(large));
    collectGarbage();
    smallRuns.push(tickCosts(small));
    await sleep(0);
  }
  const largeMean = median(largeRuns.map((x) => x.meanNs));
  const smallMean = median(smallRuns.map((x) => x.meanNs));
  const ratio = largeMean / smallMean;
  const largeMedian = median(largeRuns.map((x) => x.medianNs));
  const smallMedian = median(smallRuns.map((x) => x.medianNs));
  addFigure({
    figure: `W3: one time tick with ${W3_OPEN_LARGE.toLocaleString('en')} open txns ÷ with ${W3_OPEN_SMALL} open`,
    measured: `${fmt(ratio)} (${fmt(largeMean / 1000, 1)} vs ${fmt(smallMean / 1000, 1)} µs per tick)`,
    value: ratio,
    target: '≤ 3',
    pass: ratio <= 3,
    details: {
      meanNsPerTick: { large: largeMean, small: smallMean },
      medianNsPerTick: { large: largeMedian, small: smallMedian, ratio: largeMedian / smallMedian },
      runs: { large: largeRuns, small: smallRuns },
    },
  });
}

async function w4Section(): Promise<void> {
  const messages = generateW4(W4_SIZE, 41);
  const n = W4_SIZE;
  const perMessage: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    const subject = new Subject<WalMessage>();
    let released = 0;
    const subscription = subject.pipe(reorderUntilTick()).subscribe(() => {
      released++;
    });
    for (let i = 0; i <= n; i++) subject.next(messages[i] as WalMessage); // the first tick and every data message
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    perMessage.push((after - before) / n);
    subject.next(messages[n + 1] as WalMessage); // the releasing tick: the buffer held them all
    if (released !== n + 2) notes.push(`W4 run ${r + 1}: released ${released}, expected ${n + 2}`);
    subscription.unsubscribe();
    await sleep(0);
  }
  const bytes = median(perMessage);
  addFigure({
    figure: 'W4: heap bytes per buffered message beyond the message',
    measured: `${fmt(bytes, 1)} B`,
    value: bytes,
    target: '≤ 64 B',
    pass: bytes <= 64,
    details: { bytesPerMessagePerRun: perMessage, messages: n },
  });
}

/** One tailing run: returns the latencies (ms) of the v1 data messages delivered. */
async function tailingRun(
  seconds: number,
): Promise<{ latencies: number[]; unmatched: number; appendErrors: number }> {
  const wal = createMemoryWal({ channel: 'bench-tail' }); // default 200 ms time ticks on asyncScheduler
  await wal.append({ type: MessageType.Insert, vchannel: 'v0', payload: 0 }); // starts the writer
  const wab = wal.writeAheadBuffer as MemoryWriteAheadBuffer | undefined;
  if (wab === undefined)
    throw new Error('the memory WAL has no write-ahead buffer after its first append');
  // When each time tick is written: the moment the writer hands its round to the write-ahead buffer.
  const tickValues: bigint[] = [];
  const tickTimes: number[] = [];
  const append = wab.append.bind(wab);
  wab.append = (round, tick) => {
    tickValues.push(tick.timeTick);
    tickTimes.push(performance.now());
    append(round, tick);
  };

  let tailing = false;
  const metrics: ScannerMetrics = {
    ...noopMetrics,
    switchModel: (_from, to) => {
      tailing = to === 'tailing';
    },
  };
  let measuring = false;
  let tickIndex = 0;
  let unmatched = 0;
  const latencies: number[] = [];
  const subscription = scanWal(wal, { vchannel: CONSUMER_VCHANNEL, metrics }).subscribe((m) => {
    if (!measuring || m.type === MessageType.TimeTick) return;
    const now = performance.now();
    while (tickIndex < tickValues.length && (tickValues[tickIndex] as bigint) < m.timeTick)
      tickIndex++;
    if (tickIndex >= tickValues.length) {
      unmatched++;
      return;
    }
    latencies.push(now - (tickTimes[tickIndex] as number));
  });
  for (let waited = 0; !tailing; waited += 10) {
    if (waited > 5000) throw new Error('the scanner did not switch to tailing within 5 s');
    await sleep(10);
  }
  await sleep(250); // a full time-tick interval in tailing before measuring
  tickIndex = tickValues.length;
  measuring = true;
  let appendErrors = 0;
  let seq = 0;
  const perBatch = TAIL_RATE / 200; // every 5 ms
  const appender = setInterval(() => {
    for (let i = 0; i < perBatch; i++, seq++) {
      wal
        .append({ type: MessageType.Insert, vchannel: `v${seq % 4}`, payload: seq })
        .catch(() => appendErrors++);
    }
  }, 5);
  await sleep(seconds * 1000);
  clearInterval(appender);
  await sleep(450); // the next time ticks release what is left
  subscription.unsubscribe();
  await wal.close();
  return { latencies, unmatched, appendErrors };
}

async function tailingSection(): Promise<void> {
  await tailingRun(0.5); // warm-up
  const p50s: number[] = [];
  const p99s: number[] = [];
  const pooled: number[] = [];
  let unmatched = 0;
  let appendErrors = 0;
  for (let r = 0; r < RUNS; r++) {
    collectGarbage();
    const run = await tailingRun(TAIL_SECONDS);
    const sorted = [...run.latencies].sort((a, b) => a - b);
    p50s.push(percentile(sorted, 50));
    p99s.push(percentile(sorted, 99));
    for (const l of run.latencies) pooled.push(l);
    unmatched += run.unmatched;
    appendErrors += run.appendErrors;
    log(
      `  tailing run ${r + 1}/${RUNS}: ${sorted.length} messages, p50 ${fmt(percentile(sorted, 50), 3)} ms, p99 ${fmt(percentile(sorted, 99), 3)} ms, max ${fmt(sorted[sorted.length - 1] ?? NaN, 3)} ms`,
    );
  }
  pooled.sort((a, b) => a - b);
  const p50 = median(p50s);
  const p99 = median(p99s);
  if (unmatched > 0)
    notes.push(`tailing: ${unmatched} delivered messages had no recorded releasing time tick`);
  if (appendErrors > 0) notes.push(`tailing: ${appendErrors} appends failed`);
  addFigure({
    figure: 'tailing latency from the releasing time tick (200 ms ticks), p50 / p99',
    measured: `${fmt(p50, 3)} / ${fmt(p99, 3)} ms`,
    value: p99,
    target: 'p99 ≤ 2 ms',
    pass: p99 <= 2,
    details: {
      p50MsPerRun: p50s,
      p99MsPerRun: p99s,
      pooled: {
        samples: pooled.length,
        p50: percentile(pooled, 50),
        p99: percentile(pooled, 99),
        max: pooled[pooled.length - 1],
      },
      appendRatePerSecond: TAIL_RATE,
      secondsPerRun: TAIL_SECONDS,
    },
  });
}

async function sqliteSection(): Promise<void> {
  const messages = SQLITE_SIZE;
  const scratch = scratchDir();
  try {
    // Catch-up: one file written by the writer, read by scanWal and by a bare decoding loop.
    const path = join(scratch.dir, 'catchup.sqlite');
    const wal = await openSqliteWal(path, { channel: 'bench-sqlite' });
    const built = await appendWithWriter(wal, messages, 5_000, 100);
    await wal.close();
    log(`  built ${messages.toLocaleString('en')} appends in ${fmt(built.ms / 1000, 1)} s`);
    const bare: number[] = [];
    const scan: number[] = [];
    let rows = 0;
    let delivered = 0;
    for (let r = 0; r <= RUNS; r++) {
      collectGarbage();
      let t = performance.now();
      rows = readBare(path);
      const bareMs = performance.now() - t;
      collectGarbage();
      t = performance.now();
      delivered = await sqliteCatchUp(path, built.lastTick);
      const scanMs = performance.now() - t;
      if (r === 0) continue; // warm-up
      bare.push(bareMs);
      scan.push(scanMs);
      log(`  run ${r}/${RUNS}: bare ${fmt(bareMs, 0)} ms, scanWal ${fmt(scanMs, 0)} ms`);
    }
    const catchUp = median(bare) / median(scan);
    addFigure({
      figure: 'SQLite catch-up through scanWal ÷ bare better-sqlite3 iteration decoding the rows',
      measured: `${fmt(catchUp)} (${fmt(mps(rows, median(scan)) / 1e6)} vs ${fmt(mps(rows, median(bare)) / 1e6)} M rows/s)`,
      value: catchUp,
      target: '≥ 0.8',
      pass: catchUp >= 0.8,
      details: { rows, delivered, bareMs: bare, scanWalMs: scan },
    });

    // Appends: the writer against bare batched inserts of the same records, fresh files each run.
    const appendCount = Math.max(10_000, Math.round(messages / 5));
    const writerMs: number[] = [];
    const bareMs: number[] = [];
    for (let r = 0; r <= RUNS; r++) {
      const writerPath = join(scratch.dir, `append-writer-${r}.sqlite`);
      const barePath = join(scratch.dir, `append-bare-${r}.sqlite`);
      collectGarbage();
      const writerWal = await openSqliteWal(writerPath, { channel: 'bench-append' });
      const { ms } = await appendWithWriter(writerWal, appendCount, 1_000);
      await writerWal.close();
      collectGarbage();
      const bareRun = appendBare(barePath, appendCount, 1_000);
      if (r === 0) continue;
      writerMs.push(ms);
      bareMs.push(bareRun);
      log(`  append run ${r}/${RUNS}: writer ${fmt(ms, 0)} ms, bare ${fmt(bareRun, 0)} ms`);
    }
    const appends = median(bareMs) / median(writerMs);
    addFigure({
      figure:
        'SQLite append throughput of the writer ÷ bare batched inserts (1,000 per transaction)',
      measured: `${fmt(appends)} (${fmt(mps(appendCount, median(writerMs)) / 1e3, 0)}k vs ${fmt(mps(appendCount, median(bareMs)) / 1e3, 0)}k appends/s)`,
      value: appends,
      target: '≥ 0.7',
      pass: appends >= 0.7,
      details: { appendCount, writerMs, bareMs },
    });
  } finally {
    scratch.remove();
  }
}

async function fanoutSection(): Promise<void> {
  // N tailing scanners, one per vchannel; FANOUT_APPENDS appends in batches of 1,000.
  const results: FanoutResult[] = [];
  for (const n of FANOUT_SCANNERS) {
    const runs: FanoutResult[] = [];
    const count = n >= 1000 ? Math.max(1, Math.min(RUNS, 3)) : RUNS;
    for (let r = 0; r <= count; r++) {
      const result = await fanoutRun(n, FANOUT_APPENDS, 1_000, collectGarbage);
      if (r === 0) continue; // warm-up
      runs.push(result);
    }
    const pick = (f: (x: FanoutResult) => number): number => median(runs.map(f));
    const result: FanoutResult = {
      scanners: n,
      appends: FANOUT_APPENDS,
      ms: pick((x) => x.ms),
      messagesPerSecond: Math.round(pick((x) => x.messagesPerSecond)),
      heapGrowthMiB: pick((x) => x.heapGrowthMiB),
      idleBytesPerScanner: Math.round(pick((x) => x.idleBytesPerScanner)),
    };
    results.push(result);
    log(
      `  ${String(n).padStart(6)} scanners: ${fmt(result.messagesPerSecond / 1e3, 1)}k msg/s (runs ${runs.map((x) => fmt(x.ms, 0)).join(', ')} ms), heap growth ${result.heapGrowthMiB} MiB, idle ${fmt(result.idleBytesPerScanner / 1024, 1)} KiB/scanner`,
    );
  }
  const one = results.find((x) => x.scanners === 1);
  const thousand = results.find((x) => x.scanners === 1000);
  if (one !== undefined && thousand !== undefined) {
    const ratio = thousand.messagesPerSecond / one.messagesPerSecond;
    addFigure({
      figure: 'fanout: 1,000 tailing scanners ÷ one scanner, throughput',
      measured: `${fmt(ratio)} (${fmt(thousand.messagesPerSecond / 1e3, 1)}k vs ${fmt(one.messagesPerSecond / 1e3, 1)}k msg/s)`,
      value: ratio,
      target: '≥ 0.5',
      pass: ratio >= 0.5,
      details: { results },
    });
  }
  const idle = results.reduce(
    (a, x) => (x.scanners > a.scanners ? x : a),
    results[0] as FanoutResult,
  );
  addFigure({
    figure: `fanout: heap of one idle tailing scanner (of ${idle.scanners.toLocaleString('en')})`,
    measured: `${fmt(idle.idleBytesPerScanner / 1024, 1)} KiB`,
    value: idle.idleBytesPerScanner,
    target: '≤ 16 KiB',
    pass: idle.idleBytesPerScanner <= 16 * 1024,
    details: { results },
  });

  // SQLite: catch-up of one vchannel holding 1 % of the log against the whole log.
  const scratch = scratchDir();
  try {
    const messages = SQLITE_SIZE;
    const t = performance.now();
    const { path, lastTick } = await buildVChannelFile(scratch.dir, messages, 100, 1_000);
    log(
      `  built ${messages.toLocaleString('en')} appends over 100 vchannels in ${fmt((performance.now() - t) / 1000, 1)} s`,
    );
    const whole: number[] = [];
    const one: number[] = [];
    const unhinted: number[] = [];
    for (let r = 0; r <= RUNS; r++) {
      const timedRun = async (vchannel: string, pushdown: boolean): Promise<number> => {
        collectGarbage();
        const start = performance.now();
        await sqliteCatchUp(path, lastTick, vchannel, pushdown);
        return performance.now() - start;
      };
      const w = await timedRun('', true);
      const o = await timedRun('v7', true);
      const u = await timedRun('v7', false);
      if (r === 0) continue;
      whole.push(w);
      one.push(o);
      unhinted.push(u);
      log(
        `  run ${r}/${RUNS}: whole log ${fmt(w, 0)} ms, v7 ${fmt(o, 1)} ms, v7 without pushdown ${fmt(u, 0)} ms`,
      );
    }
    const ratio = median(whole) / median(one);
    addFigure({
      figure: 'SQLite catch-up of one vchannel (1 % of the log) ÷ the whole log, speed-up',
      measured: `${fmt(ratio, 1)}× (${fmt(median(one), 1)} vs ${fmt(median(whole), 0)} ms; without pushdown ${fmt(median(unhinted), 0)} ms)`,
      value: ratio,
      target: '≥ 20×',
      pass: ratio >= 20,
      details: { messages, wholeMs: whole, vchannelMs: one, withoutPushdownMs: unhinted },
    });
  } finally {
    scratch.remove();
  }
}

async function natsSection(): Promise<void> {
  const options = { ...natsBenchOptions(log), collectGarbage };
  const result = await benchNats(options);
  if (result === undefined) return; // no nats-server: benchNats said so in one line
  const sizes = `${result.catchupSize.toLocaleString('en')} messages, median of ${result.runs}`;
  const catchUp = catchupFigure(result);
  addFigure({
    figure: 'JetStream catch-up through scanWal ÷ a bare ordered consumer decoding (R1 file)',
    measured: `${fmt(catchUp.ratio)} (${fmt(natsMedian(result.scanWalPerSecond) / 1e3, 0)}k vs ${fmt(catchUp.baselinePerSecond / 1e3, 0)}k msg/s, ${catchUp.form} form; ÷ each run's faster form ${fmt(catchUp.strict)}; ${sizes})`,
    value: catchUp.ratio,
    target: '≥ 0.8',
    pass: catchUp.ratio >= 0.8,
    details: { ...result, baselineForm: catchUp.form, strictMedian: catchUp.strict },
  });
  const appends = natsMedian(result.appendRatios);
  addFigure({
    figure: `JetStream append throughput of the writer ÷ bare js.publish (${IN_FLIGHT} in flight)`,
    measured: `${fmt(appends)} (${fmt(natsMedian(result.writerPerSecond) / 1e3, 1)}k vs ${fmt(natsMedian(result.publishPerSecond) / 1e3, 1)}k appends/s; ${result.appendSize.toLocaleString('en')} appends, median of ${result.runs})`,
    value: appends,
    target: '≥ 0.8',
    pass: appends >= 0.8,
    details: { appendSize: result.appendSize },
  });
}

// ---------------------------------------------------------------- main

function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain -- lib', { encoding: 'utf8' }).trim();
    if (dirty !== '') commit += ' (lib/ has uncommitted changes)';
  } catch {
    // not a git checkout
  }
  const rxjsVersion = (
    JSON.parse(readFileSync(require.resolve('rxjs/package.json'), 'utf8')) as { version: string }
  ).version;
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    rxjs: rxjsVersion,
    commit,
  };
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const info = machine();
  const sizes = {
    W1: W1_SIZE,
    W2: `${W1_SIZE} (W1's log, every vchannel)`,
    W3: `${W3_OPEN_LARGE} vs ${W3_OPEN_SMALL} open txns, ${W3_WINDOWS} windows of 100`,
    W4: W4_SIZE,
    runs: RUNS,
    scale: SCALE,
  };
  log(
    `rxwal benchmark — ${info.cpu} (${info.cores} cores), Node ${info.node}, rxjs ${info.rxjs}, commit ${info.commit}`,
  );
  log(`sizes: ${JSON.stringify(sizes)}`);
  if (typeof gc !== 'function') {
    notes.push(
      'run without --expose-gc: no GC between runs; the W4 and slow-consumer figures are unreliable',
    );
    log('WARNING: global.gc is missing (run with node --expose-gc): memory figures are unreliable');
  }

  let w1Counts: ReturnType<typeof describeLog> | undefined;
  if (ONLY.has('w1')) {
    // W1 lives in a memory WAL; the array the loops read is the WAL's own stored messages.
    const generated: WalMessage[] = generateW1({ messages: W1_SIZE, seed: 1 });
    w1Counts = describeLog(generated);
    const wal = createMemoryWal({ channel: 'bench-w1' });
    const w1: WalMessage[] = new Array<WalMessage>(generated.length);
    for (let i = 0; i < generated.length; i++) {
      w1[i] = wal.appendRaw(rawRecordOf(generated[i] as WalMessage));
    }
    generated.length = 0; // the WAL's copies are the ones measured
    log(
      `W1: ${JSON.stringify(w1Counts)} (built in ${fmt((performance.now() - startedAt) / 1000, 1)} s)`,
    );

    log('\n# throughput over W1 / W2');
    collectGarbage(); // the build's garbage is nobody's cost
    await throughputSection(w1, wal);
    log('\n# event-loop responsiveness during the W1 catch-up');
    await eventLoopSection(wal, w1[w1.length - 1] as WalMessage);
    log('\n# slow consumer over W1');
    await slowConsumerSection(wal);
    await wal.close();
    w1.length = 0;
    collectGarbage();
  }

  if (ONLY.has('w3')) {
    log('\n# W3: time-tick cost with many open transactions');
    await w3Section();
  }
  if (ONLY.has('w4')) {
    log('\n# W4: reorder-buffer memory');
    await w4Section();
  }
  if (ONLY.has('tailing')) {
    log('\n# tailing latency');
    await tailingSection();
  }
  if (ONLY.has('sqlite')) {
    log('\n# SQLite: catch-up and appends');
    await sqliteSection();
  }
  if (ONLY.has('fanout')) {
    log('\n# fanout: many tailing scanners, one vchannel each');
    await fanoutSection();
  }
  if (ONLY.has('nats')) {
    log('\n# NATS JetStream: catch-up and appends');
    await natsSection();
  }

  const seconds = (performance.now() - startedAt) / 1000;
  const memory = {
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    peakHeapUsedMiBAtSectionEnds: peakMemory.heapUsedMiB,
  };
  log('');
  log(table());
  log('');
  log(
    `machine: ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB, ${info.platform}; Node ${info.node} (V8 ${info.v8}), rxjs ${info.rxjs}; commit ${info.commit}`,
  );
  log(
    `inputs: W1/W2 ${W1_SIZE.toLocaleString('en')} messages (${w1Counts?.txnMessages.toLocaleString('en') ?? '-'} in transactions, ${w1Counts?.vchannelV1.toLocaleString('en') ?? '-'} on v1), W3 ${W3_OPEN_LARGE.toLocaleString('en')} vs ${W3_OPEN_SMALL} open txns × ${W3_WINDOWS} windows, W4 ${W4_SIZE.toLocaleString('en')}; median of ${RUNS} runs after a warm-up`,
  );
  log(
    `peak RSS ${memory.peakRssMiB} MiB, peak heapUsed at section ends ${memory.peakHeapUsedMiBAtSectionEnds} MiB; total ${fmt(seconds, 1)} s`,
  );
  for (const note of notes) log(`note: ${note}`);

  // beside this file's source: bench/ (run from .bench/bench/ when compiled, from bench/ by tsx)
  const benchDir = __dirname.endsWith(join('.bench', 'bench'))
    ? join(__dirname, '..', '..', 'bench')
    : __dirname;
  const resultsPath = join(benchDir, 'results.json');
  writeFileSync(
    resultsPath,
    `${JSON.stringify({ date: new Date().toISOString(), machine: info, sizes, w1: w1Counts, memory, seconds, figures, notes }, null, 2)}\n`,
  );
  log(`results written to bench/results.json`);
}

function table(): string {
  const header = ['figure', 'measured', 'target', 'result'];
  const rows = figures.map((f) => [f.figure, f.measured, f.target, f.pass ? 'pass' : 'FAIL']);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(
    `benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
