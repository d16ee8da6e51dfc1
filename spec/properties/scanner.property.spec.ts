/**
 * Model-based properties of the whole scanner (issue 5): for random logs and random fault
 * schedules, what `scanWal` delivers equals what a deliberately simple reference model says.
 *
 * Runs: FC_RUNS (default 200) per property, seeded by FC_SEED; replay one failure with
 * FC_SEED=<seed> FC_PATH=<path> (fast-check prints both, with the shrunk counterexample).
 */
import { isDeepStrictEqual } from 'node:util';

import fc from 'fast-check';
import { BehaviorSubject, type Subscription } from 'rxjs';

import {
  checkpointOf,
  comparePosition,
  decodeCheckpoint,
  encodeCheckpoint,
} from '../../lib/checkpoint/checkpoint.js';
import { TxnExpiredError } from '../../lib/errors.js';
import { createMessage } from '../../lib/message/createMessage.js';
import { isTxnMessage, type WalMessage } from '../../lib/message/message.js';
import { createInMemoryMetrics, type MetricsSnapshot } from '../../lib/observability/metrics.js';
import { DeliverFilter } from '../../lib/options/deliverFilter.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { scanWal, type ScanOptions } from '../../lib/scanner/scanWal.js';
import { createMemoryWal, type MemoryWal } from '../../lib/wal/memoryWal.js';
import type { ReadableWal, WalTxn } from '../../lib/wal/wal.js';
import { seededRandom } from '../support/random.js';
import { VirtualClock } from '../../lib/testing/index.js';
import {
  buildRawLog,
  checkpointAfter,
  faultSpec,
  querySpec,
  rawLogSpec,
  resolveQuery,
  VCHANNELS,
  withReaderFaults,
  writerLogSpec,
  type ConsumerSpec,
  type FaultSpec,
  type PauseSpec,
  type QuerySpec,
  type RawLogOptions,
  type RawLogSpec,
  type WriterLogSpec,
} from './generators.js';
import {
  describe as describeMessage,
  scanModel,
  type ModelQuery,
  type ModelResult,
} from './model.js';

const RUNS = Number(process.env.FC_RUNS ?? 200);
const SEED = Number(process.env.FC_SEED ?? 20240605);
const PATH = process.env.FC_PATH;
const PARAMS: fc.Parameters<unknown> = {
  numRuns: RUNS,
  seed: SEED,
  ...(PATH === undefined ? {} : { path: PATH }),
};
/** Jest's per-test budget: generous for soak runs, the default run takes seconds. */
const TIMEOUT_MS = Math.max(60_000, RUNS * 200);
/** Virtual time a scan may take before it counts as stuck. */
const LIMIT_MS = 20_000;
const STEP_MS = 2;

// ---------------------------------------------------------------------------------------------
// Running a scanner in virtual time.

interface Run {
  readonly clock: VirtualClock;
  readonly metrics: ReturnType<typeof createInMemoryMetrics>;
  /** Everything each scanner delivered, one array per scanner (a checkpoint resume makes two). */
  readonly delivered: WalMessage[][];
  errors: unknown[];
  /** Metrics when the consumer received the last message it waited for. */
  atDrain: MetricsSnapshot | undefined;
  done: boolean;
  /** Where a checkpointing consumer stopped. */
  checkpoint: WalMessage | undefined;
  /** Reader faults injected, per scanner. */
  readonly faultsHit: (() => number)[];
  readonly switches: string[];
}

function newRun(): Run {
  const metrics = createInMemoryMetrics();
  const switches: string[] = [];
  const switchModel = metrics.switchModel.bind(metrics);
  metrics.switchModel = (from, to) => {
    switches.push(`${from ?? 'start'}->${to}`);
    switchModel(from, to);
  };
  return {
    clock: new VirtualClock(),
    metrics,
    delivered: [],
    errors: [],
    atDrain: undefined,
    done: false,
    checkpoint: undefined,
    faultsHit: [],
    switches,
  };
}

/**
 * How often the generated cases reached each fault kind and outcome over one property, so a
 * generator change cannot quietly stop exercising one (checked when a property runs ≥ 100 cases).
 */
const COVERAGE_KEYS = [
  'readerFaults',
  'paused',
  'tailing',
  'evictions',
  'checkpoints',
  'violations',
  'committed',
  'rolledBack',
  'expired',
] as const;
type Coverage = Record<(typeof COVERAGE_KEYS)[number], number>;
const noCoverage = (): Coverage => Object.fromEntries(COVERAGE_KEYS.map((k) => [k, 0])) as Coverage;
let coverage: Coverage = noCoverage();

function resetCoverage(): Coverage {
  coverage = noCoverage();
  return coverage;
}

function tally(run: Run): void {
  const s = run.metrics.snapshot();
  coverage.readerFaults += run.faultsHit.reduce((sum, hit) => sum + hit(), 0);
  coverage.paused += s.pauseDurationsMs.filter((ms) => ms > 0).length;
  coverage.tailing += run.switches.filter((w) => w === 'catchup->tailing').length;
  coverage.evictions += run.switches.filter((w) => w === 'tailing->catchup').length;
  coverage.checkpoints += run.checkpoint === undefined ? 0 : 1;
  coverage.violations += s.timeTickViolations;
  coverage.committed += s.txn.committed;
  coverage.rolledBack += s.txn.rolledBack;
  coverage.expired += s.txn.expired;
}

function expectCoverage(c: Coverage, keys: readonly (keyof Coverage)[]): void {
  if (PATH !== undefined || RUNS < 100) return;
  for (const key of keys)
    expect({ [key]: c[key] }).toEqual({ [key]: expect.any(Number) as number });
  for (const key of keys) if (c[key] === 0) throw new Error(`no generated case reached ${key}`);
}

function filtersOf(q: ModelQuery): DeliverFilter[] {
  const filters: DeliverFilter[] = [];
  if (q.timeTickGT !== undefined) filters.push(DeliverFilter.timeTickGT(q.timeTickGT));
  if (q.timeTickGTE !== undefined) filters.push(DeliverFilter.timeTickGTE(q.timeTickGTE));
  if (q.messageTypes !== undefined) filters.push(DeliverFilter.messageType(...q.messageTypes));
  return filters;
}

/** Schedules the pause toggles; the switch ends at `false` after the last toggle. */
function pauseSwitch(run: Run, pause: PauseSpec | null): Partial<ScanOptions> {
  if (pause === null) return {};
  const pause$ = new BehaviorSubject(pause.initial);
  let last = 0;
  for (const { atMs, paused } of pause.toggles) {
    run.clock.scheduler.schedule(() => pause$.next(paused), atMs);
    last = Math.max(last, atMs);
  }
  run.clock.scheduler.schedule(() => pause$.next(false), last + 1);
  return { pause$, pauseMode: pause.mode };
}

type Verdict = 'more' | 'stop' | 'done';

/**
 * Consumes a scanner push or pull. `judge` sees each message: `'stop'` unsubscribes (a
 * checkpoint), `'done'` records the drain metrics and unsubscribes. Returns the closer.
 */
function consume(
  run: Run,
  scan: ReturnType<typeof scanWal>,
  consumer: ConsumerSpec,
  judge: (m: WalMessage) => Verdict,
  onStop: (last: WalMessage) => void,
): () => void {
  const got: WalMessage[] = [];
  run.delivered.push(got);
  const verdictOf = (m: WalMessage): Verdict => {
    got.push(m);
    const verdict = judge(m);
    if (verdict === 'done') {
      run.atDrain = run.metrics.snapshot();
      run.done = true;
    }
    return verdict;
  };
  if (consumer.kind === 'push') {
    // a holder, not a const: `next` may run before `subscribe` returns
    const holder: { sub?: Subscription } = {};
    let stopped = false;
    const stop = (): void => {
      stopped = true;
      holder.sub?.unsubscribe();
    };
    holder.sub = scan.subscribe({
      next: (m) => {
        if (stopped) return;
        const verdict = verdictOf(m);
        if (verdict === 'more') return;
        stop();
        if (verdict === 'stop') onStop(m);
      },
      error: (err: unknown) => run.errors.push(err),
    });
    if (stopped) holder.sub.unsubscribe();
    return stop;
  }
  const iterator = scan[Symbol.asyncIterator]();
  let closed = false;
  void (async () => {
    for (let i = 0; !closed; i++) {
      const r = await iterator.next();
      if (r.done === true || closed) return;
      const verdict = verdictOf(r.value);
      if (verdict !== 'more') {
        await iterator.return?.();
        if (verdict === 'stop') onStop(r.value);
        return;
      }
      const stall =
        consumer.stalls.length === 0 ? 0 : (consumer.stalls[i % consumer.stalls.length] ?? 0);
      if (stall > 0)
        await new Promise<void>((resolve) => run.clock.scheduler.schedule(() => resolve(), stall));
    }
  })().catch((err: unknown) => run.errors.push(err));
  return () => {
    closed = true;
    void iterator.return?.();
  };
}

async function driveUntil(run: Run, done: () => boolean): Promise<void> {
  const start = run.clock.now();
  while (!done() && run.errors.length === 0 && run.clock.now() - start < LIMIT_MS) {
    await run.clock.advance(STEP_MS, STEP_MS);
  }
}

function scanOptions(
  run: Run,
  query: ModelQuery,
  faults: FaultSpec,
  extra: Partial<ScanOptions> = {},
): ScanOptions {
  return {
    vchannel: query.vchannel,
    filters: filtersOf(query),
    scheduler: run.clock.scheduler,
    metrics: run.metrics,
    backoff: { initial: 2, max: 8 },
    readBatchSize: faults.readBatchSize,
    ...(faults.consumer.kind === 'pull' ? { pendingLimit: faults.consumer.pendingLimit } : {}),
    ...pauseSwitch(run, faults.pause),
    ...extra,
  };
}

/** Runs `body` with `Math.random` (the backoff jitter) seeded, so a run replays exactly. */
async function seeded<T>(seed: number, body: () => Promise<T>): Promise<T> {
  const spy = jest.spyOn(Math, 'random').mockImplementation(seededRandom(seed));
  try {
    return await body();
  } finally {
    spy.mockRestore();
  }
}

// ---------------------------------------------------------------------------------------------
// The checks.

const dataOf = (ms: readonly WalMessage[]): WalMessage[] => ms.filter((m) => m.type !== 'TimeTick');

function expectTicksNeverDecrease(ms: readonly WalMessage[]): void {
  for (let i = 1; i < ms.length; i++) {
    const before = ms[i - 1] as WalMessage;
    const now = ms[i] as WalMessage;
    if (now.timeTick < before.timeTick)
      throw new Error(`tick went back: ${describeMessage(before)} then ${describeMessage(now)}`);
  }
}

function expectNoIdTwice(data: readonly WalMessage[]): void {
  const seen = new Set<string>();
  for (const m of data) {
    const ids = isTxnMessage(m) ? [m.id.key, ...m.body.map((b) => b.id.key)] : [m.id.key];
    for (const id of ids) {
      if (seen.has(id)) throw new Error(`id ${id} delivered twice (in ${describeMessage(m)})`);
      seen.add(id);
    }
  }
}

function expectClosedGauges(run: Run): void {
  const s = run.metrics.snapshot();
  expect(s.bytes).toEqual({ pendingQueue: 0, reorderBuffer: 0, txnBuffer: 0 });
  expect(s.scanners).toEqual({ catchup: 0, tailing: 0 });
  expect(s.paused).toBe(0);
}

// ---------------------------------------------------------------------------------------------
// Raw logs.

async function withRawWal<T>(
  run: Run,
  inits: ReturnType<typeof buildRawLog>['inits'],
  preloaded: number,
  body: (wal: MemoryWal) => Promise<T>,
): Promise<T> {
  const wal = createMemoryWal({ channel: 'raw', scheduler: run.clock.scheduler });
  const first = Math.round((inits.length * preloaded) / 100);
  inits.slice(0, first).forEach((init) => wal.appendRaw(init));
  // the rest arrives while the scanner reads, a record every millisecond
  inits
    .slice(first)
    .forEach((init, i) => run.clock.scheduler.schedule(() => wal.appendRaw(init), i + 1));
  try {
    return await body(wal);
  } finally {
    await wal.close();
  }
}

const failed = (run: Run): string =>
  run.errors.length > 0
    ? `scanner failed: ${String(run.errors[0])}`
    : 'scanner did not reach the end of the log';

// ---------------------------------------------------------------------------------------------
// Writer logs.

interface Written {
  /** The writer's acknowledged messages that a consumer of `query` must get, by tick. */
  expected(query: ModelQuery): string[];
  final: WalMessage;
}

/** Runs a writer script; `beforeOp(i)` lets the scanner subscribe at a chosen point. */
async function runWriterScript(
  wal: MemoryWal,
  run: Run,
  spec: WriterLogSpec,
  beforeOp: (i: number) => void,
): Promise<Written> {
  type Entry = {
    readonly tick: bigint;
    readonly vchannel: string;
    text(q: ModelQuery): string | undefined;
  };
  const entries: Entry[] = [];
  const txns = new Map<number, WalTxn>();
  const bodies = new Map<bigint, WalMessage[]>(); // acknowledged bodies by txn id
  let n = 0;
  const keepType = (q: ModelQuery, type: string): boolean =>
    q.messageTypes === undefined || q.messageTypes.includes(type);
  const expiredOk = (err: unknown): undefined => {
    if (err instanceof TxnExpiredError) return undefined;
    throw err;
  };
  for (let i = 0; i <= spec.ops.length; i++) {
    beforeOp(i);
    const op = spec.ops[i];
    if (op === undefined) break;
    switch (op.op) {
      case 'burst': {
        const appended = await Promise.all(
          op.parts.map(async (part) => {
            if ('vch' in part) {
              const m = await wal.append({
                type: part.type,
                vchannel: VCHANNELS[part.vch] as string,
                payload: { n: n++ },
              });
              return { m, txn: undefined };
            }
            const txn = txns.get(part.slot);
            if (txn === undefined) return undefined;
            const m = await txn.append({ type: 'Insert', payload: { n: n++ } }).catch(expiredOk);
            return m === undefined ? undefined : { m, txn: txn.txnId };
          }),
        );
        for (const a of appended) {
          if (a === undefined) continue;
          if (a.txn !== undefined) bodies.get(a.txn)?.push(a.m);
          else {
            const m = a.m;
            entries.push({
              tick: m.timeTick,
              vchannel: m.vchannel,
              text: (q) => (keepType(q, m.type) ? describeMessage(m) : undefined),
            });
          }
        }
        break;
      }
      case 'begin': {
        const txn = await wal.beginTxn({
          vchannel: VCHANNELS[op.vch] as string,
          keepalive: op.keepaliveMs ?? Infinity,
        });
        txns.set(op.slot, txn); // a transaction left in the slot is abandoned
        bodies.set(txn.txnId, []);
        break;
      }
      case 'commit':
      case 'rollback': {
        const txn = txns.get(op.slot);
        if (txn === undefined) break;
        txns.delete(op.slot);
        const end = await (op.op === 'commit' ? txn.commit() : txn.rollback()).catch(expiredOk);
        if (end === undefined || op.op === 'rollback') break;
        const body = bodies.get(txn.txnId) ?? [];
        entries.push({
          tick: end.timeTick,
          vchannel: txn.begin.vchannel,
          text: (q) =>
            `Txn#${end.id.key}@${end.timeTick}[${body
              .filter((b) => keepType(q, b.type))
              .map((b) => b.id.key)
              .join(',')}]`,
        });
        break;
      }
      case 'advance':
        await run.clock.advance(op.ms, 1);
        break;
      case 'sync':
        await wal.syncTimeTick({ persisted: op.persisted });
        break;
    }
  }
  const final = await wal.syncTimeTick({ persisted: true });
  entries.sort((a, b) => (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0));
  return {
    final,
    expected: (q) =>
      entries
        .filter((e) => q.vchannel === '' || e.vchannel === '' || e.vchannel === q.vchannel)
        .map((e) => e.text(q))
        .filter((t): t is string => t !== undefined),
  };
}

async function readLog(wal: ReadableWal): Promise<WalMessage[]> {
  const reader = wal.read(DeliverPolicy.all());
  try {
    return [...(await reader.next(1_000_000))];
  } finally {
    reader.close();
  }
}

function writerWal(run: Run, spec: WriterLogSpec): MemoryWal {
  return createMemoryWal({
    channel: 'written',
    scheduler: run.clock.scheduler,
    timeTickInterval: spec.timeTickIntervalMs,
    reorderConcurrentWrites: true,
    random: seededRandom(spec.seed),
    ...(spec.writeAheadBuffer === null
      ? {}
      : {
          writeAheadBuffer: {
            capacity: spec.writeAheadBuffer.capacity,
            keepalive: spec.writeAheadBuffer.keepaliveMs,
          },
        }),
  });
}

async function closeWal(run: Run, wal: MemoryWal): Promise<void> {
  const closing = wal.close();
  await run.clock.advance(1);
  await closing;
}

// ---------------------------------------------------------------------------------------------
// Cases: one scanner to the end, or a scanner stopped at a checkpoint and a second one resumed.

/** The second scanner of a checkpoint case: where the first stops, and its own faults. */
interface Resume {
  readonly after: number;
  readonly faults: FaultSpec;
  /**
   * Resume with `resumeFrom: checkpointOf(last)` (through its encoded text) instead of a
   * `startFrom` policy plus a `timeTickGT` filter.
   */
  readonly viaCheckpoint?: boolean;
}

/**
 * Starts the consumer(s): the first scanner with `faults`; with `resume`, it stops after
 * `resume.after` messages and a second scanner continues from that checkpoint:
 * `startFrom(lastDelivered.lastConfirmedId)` with `timeTickGT(lastDelivered.timeTick)`.
 */
function startScanners(
  run: Run,
  wal: ReadableWal,
  query: ModelQuery,
  faults: FaultSpec,
  resume: Resume | null,
  isEnd: (m: WalMessage) => boolean,
  pushdown = true,
): () => void {
  const closers: (() => void)[] = [];
  let count = 0;
  const scanner = (f: FaultSpec, extra: Partial<ScanOptions> = {}): ReturnType<typeof scanWal> => {
    const faulty = withReaderFaults(wal, f.readerFaults, pushdown);
    run.faultsHit.push(faulty.faultsHit);
    return scanWal(faulty, scanOptions(run, query, f, extra));
  };
  closers.push(
    consume(
      run,
      scanner(faults),
      faults.consumer,
      (m) => (isEnd(m) ? 'done' : resume !== null && ++count >= resume.after ? 'stop' : 'more'),
      (last) => {
        if (resume === null) return;
        run.checkpoint = last;
        const resumed = scanner(
          resume.faults,
          resume.viaCheckpoint === true
            ? { resumeFrom: decodeCheckpoint(encodeCheckpoint(checkpointOf(last))) }
            : {
                deliverPolicy: DeliverPolicy.startFrom(last.lastConfirmedId),
                filters: [...filtersOf(query), DeliverFilter.timeTickGT(last.timeTick)],
              },
        );
        closers.push(
          consume(
            run,
            resumed,
            resume.faults.consumer,
            (m) => (isEnd(m) ? 'done' : 'more'),
            () => undefined,
          ),
        );
      },
    ),
  );
  return () => closers.forEach((close) => close());
}

interface RawCase {
  readonly log: RawLogSpec;
  readonly query: QuerySpec;
  readonly faults: FaultSpec;
  readonly resume: Resume | null;
  /** Percent of the log written before the scanner starts; the rest arrives while it reads. */
  readonly preloaded: number;
  /** Seeds the backoff jitter. */
  readonly seed: number;
}

/** What a case's scanner delivered: its data messages, and its time ticks when it ran alone. */
interface Delivered {
  readonly data: readonly WalMessage[];
  readonly ticks: readonly bigint[] | undefined;
}

function deliveredOf(run: Run): Delivered {
  const [first = [], rest = []] = run.delivered;
  const ticks =
    run.checkpoint === undefined
      ? [...new Set(first.filter((m) => m.type === 'TimeTick').map((m) => m.timeTick))]
      : undefined;
  return { data: dataOf([...first, ...rest]), ticks };
}

async function runRawCase(c: RawCase, options: RawLogOptions, pushdown = true): Promise<Delivered> {
  const log = buildRawLog(c.log, options);
  const query = resolveQuery(c.query, log.base, log.sentinel);
  const messages = log.inits.map((init) => createMessage({ ...init, id: init.id ?? 0 }));
  const model = scanModel(messages, query);
  const run = newRun();
  await seeded(c.seed, () =>
    withRawWal(run, log.inits, c.preloaded, async (wal) => {
      const isEnd = (m: WalMessage): boolean =>
        m.type === 'TimeTick' && m.timeTick === log.sentinel;
      const close = startScanners(run, wal, query, c.faults, c.resume, isEnd, pushdown);
      await driveUntil(run, () => run.done);
      close();
      await run.clock.advance(1);
    }),
  );
  tally(run);
  if (!run.done) throw new Error(failed(run));
  const [first = [], rest = []] = run.delivered;
  const all = [...first, ...rest];
  expect(dataOf(all).map(describeMessage)).toEqual(model.delivered);
  if (c.resume?.viaCheckpoint !== true) expectRemainder(run, rest, model);
  else expectResumedAfter(run, model);
  expectTicksNeverDecrease(first);
  expectTicksNeverDecrease(rest);
  expectNoIdTwice(dataOf(all));
  if (run.checkpoint === undefined) {
    const ticks = [...new Set(first.filter((m) => m.type === 'TimeTick').map((m) => m.timeTick))];
    expect(ticks).toEqual(model.timeTicks);
    // Each violation is counted once; a retry skips what it already handed over, so a late
    // message it had not reached yet goes uncounted (it is dropped either way).
    const violations = run.metrics.snapshot().timeTickViolations;
    if (run.faultsHit.every((hit) => hit() === 0)) expect(violations).toBe(model.violations);
    else expect(violations).toBeLessThanOrEqual(model.violations);
  }
  // Drained: the sentinel released everything; what stays are the transactions still open for
  // the scanner that reached it (after a checkpoint: the resumed one, modelled on what it reads).
  const cp = run.checkpoint;
  const suffix = (from: WalMessage): WalMessage[] =>
    messages.filter((m) => BigInt(m.id.key) >= BigInt(from.lastConfirmedId.key));
  const open =
    cp === undefined
      ? model.openTxnBytes
      : c.resume?.viaCheckpoint === true
        ? scanModel(suffix(cp), query).openTxnBytes
        : scanModel(suffix(cp), { ...query, timeTickGT: cp.timeTick }).openTxnBytes;
  expect(run.atDrain?.bytes).toEqual({ pendingQueue: 0, reorderBuffer: 0, txnBuffer: open });
  expectClosedGauges(run);
  return deliveredOf(run);
}

/** After a checkpoint, the second scanner delivers exactly the model's data past its tick. */
function expectRemainder(run: Run, rest: readonly WalMessage[], model: ModelResult): void {
  if (run.checkpoint === undefined) return;
  const cp = run.checkpoint.timeTick;
  const remainder = model.delivered.filter((_, i) => (model.deliveredTicks[i] as bigint) > cp);
  expect(dataOf(rest).map(describeMessage)).toEqual(remainder);
}

/**
 * After `resumeFrom: checkpointOf(last)`: the resumed scanner delivers nothing at or before
 * `last` in (tick, id) order — time ticks included — and, given the model (raw logs, where no
 * tick depends on timing), the two scanners' time ticks together are the full scan's.
 */
function expectResumedAfter(run: Run, model: ModelResult | undefined): void {
  const last = run.checkpoint;
  if (last === undefined) return;
  const cp = checkpointOf(last);
  const [first = [], rest = []] = run.delivered;
  const early = rest.filter((m) => comparePosition(m, cp) <= 0).map(describeMessage);
  expect({ atOrBefore: describeMessage(last), early }).toEqual({
    atOrBefore: describeMessage(last),
    early: [],
  });
  if (model === undefined) return;
  const ticks = new Set(
    [...first, ...rest].filter((m) => m.type === 'TimeTick').map((m) => m.timeTick),
  );
  expect([...ticks]).toEqual(model.timeTicks);
}

interface WriterCase {
  readonly script: WriterLogSpec;
  readonly query: QuerySpec;
  readonly faults: FaultSpec;
  readonly resume: Resume | null;
}

async function runWriterCase(
  c: WriterCase,
  pushdown = true,
): Promise<Delivered & { log: WalMessage[] }> {
  const { script } = c;
  const query = resolveQuery(c.query, 0n, 1n);
  const run = newRun();
  let final: bigint | undefined;
  const isEnd = (m: WalMessage): boolean =>
    final !== undefined && m.type === 'TimeTick' && m.timeTick >= final;
  const { written, log } = await seeded(script.seed, async () => {
    const wal = writerWal(run, script);
    let close = (): void => undefined;
    try {
      const subscribeAt = Math.round((script.subscribeAt * script.ops.length) / 100);
      const written = await runWriterScript(wal, run, script, (i) => {
        if (i === subscribeAt)
          close = startScanners(run, wal, query, c.faults, c.resume, isEnd, pushdown);
      });
      final = written.final.timeTick;
      // the final tick may have gone by before `final` was known
      if (run.delivered.some((got) => got.some(isEnd))) {
        run.atDrain = run.metrics.snapshot();
        run.done = true;
      }
      await driveUntil(run, () => run.done);
      close();
      await run.clock.advance(1);
      return { written, log: await readLog(wal) };
    } finally {
      close();
      await closeWal(run, wal);
    }
  });
  tally(run);
  if (!run.done) throw new Error(failed(run));
  const model = scanModel(log, query);
  expect(model.delivered).toEqual(written.expected(query)); // the model agrees with the writer
  const [first = [], rest = []] = run.delivered;
  const all = [...first, ...rest];
  expect(dataOf(all).map(describeMessage)).toEqual(model.delivered);
  if (c.resume?.viaCheckpoint !== true) expectRemainder(run, rest, model);
  else expectResumedAfter(run, undefined);
  expectTicksNeverDecrease(first);
  expectTicksNeverDecrease(rest);
  expectNoIdTwice(dataOf(all));
  expect(run.atDrain?.bytes.reorderBuffer).toBe(0);
  // a writer's log has no late message: replays after a fault or an eviction are skipped or
  // deduplicated, never counted as violations
  expect(model.violations).toBe(0);
  expect(run.metrics.snapshot().timeTickViolations).toBe(0);
  expectClosedGauges(run);
  return { ...deliveredOf(run), log };
}

// ---------------------------------------------------------------------------------------------

const seed = fc.integer({ min: 0, max: 0x7fffffff });
const resume = fc.record({ after: checkpointAfter, faults: faultSpec });
const resumeFrom = fc.record({
  after: checkpointAfter,
  faults: faultSpec,
  viaCheckpoint: fc.constant(true),
});
/**
 * No type filter on writer logs: a type filter hides bodies, so a reader's keepalive deadline
 * slides only with the bodies it keeps (reference § 4.5); a not-persisted time tick, which only
 * tailing readers see, can then expire a transaction the writer committed in time, and whether
 * the consumer gets it depends on timing, which no model of the log can say (see spec/README.md).
 */
const writerQuery = querySpec({ tickFilters: false, typeFilters: false });

describe('the scanner against its reference model', () => {
  test('the model reproduces the worked trace of reference § 4.7', () => {
    const m = (id: number, tt: number, type: string, vchannel = 'v1', txn?: number): WalMessage =>
      createMessage({
        id,
        type,
        timeTick: tt,
        vchannel,
        payload: 'p',
        ...(txn === undefined ? {} : { txn: { txnId: txn, keepalive: '10s' } }),
      });
    const log = [
      m(1, 100, 'TimeTick', ''),
      m(2, 103, 'Insert'),
      m(3, 102, 'Insert', 'v2'),
      m(4, 101, 'BeginTxn', 'v1', 7),
      m(5, 104, 'Insert', 'v1', 7),
      m(6, 104, 'TimeTick', ''),
      m(7, 106, 'CommitTxn', 'v1', 7),
      m(8, 105, 'Insert'),
      m(9, 99, 'Insert'),
      m(10, 107, 'TimeTick', ''),
    ];
    const result = scanModel(log, { vchannel: 'v1' });
    expect(result.delivered).toEqual(['Insert#2@103', 'Insert#8@105', 'Txn#7@106[5]']);
    expect(result.timeTicks).toEqual([100n, 104n, 107n]);
    expect(result.openTxnBytes).toBe(0);
  });

  test('the model discards a transaction whose commit a tick filter rejects (issue 9 item 6)', () => {
    const log = [
      createMessage({ id: 1, type: 'TimeTick', timeTick: 100 }),
      createMessage({
        id: 2,
        type: 'BeginTxn',
        timeTick: 101,
        vchannel: 'v1',
        size: 10,
        txn: { txnId: 7, keepalive: Infinity },
      }),
      createMessage({
        id: 3,
        type: 'Insert',
        timeTick: 101,
        vchannel: 'v1',
        size: 20,
        txn: { txnId: 7, keepalive: Infinity },
      }),
      createMessage({ id: 4, type: 'CommitTxn', timeTick: 102, vchannel: 'v1', txn: { txnId: 7 } }),
      createMessage({ id: 5, type: 'TimeTick', timeTick: 103 }),
    ];
    expect(scanModel(log, { vchannel: 'v1' })).toMatchObject({
      delivered: ['Txn#4@102[3]'],
      openTxnBytes: 0,
    });
    // the commit is at or below the checkpoint: nothing delivered, and nothing stays buffered
    expect(scanModel(log, { vchannel: 'v1', timeTickGT: 102n })).toMatchObject({
      delivered: [],
      openTxnBytes: 0,
    });
  });

  test(
    'raw logs under reader faults, pauses and slow consumers: delivery equals the model',
    async () => {
      const coverage = resetCoverage();
      const options: RawLogOptions = {};
      const raw = fc.record({
        log: rawLogSpec(options),
        query: querySpec({ tickFilters: true, typeFilters: true }),
        faults: faultSpec,
        resume: fc.constant(null),
        preloaded: fc.integer({ min: 0, max: 100 }),
        seed,
      });
      await fc.assert(
        fc.asyncProperty(raw, async (c) => void (await runRawCase(c, options))),
        PARAMS,
      );
      expectCoverage(coverage, [
        'readerFaults',
        'paused',
        'violations',
        'expired',
        'committed',
        'rolledBack',
      ]);
    },
    TIMEOUT_MS,
  );

  test(
    'raw logs: a data message carrying the tick of the time tick before it survives reader faults',
    async () => {
      // The reorder buffer accepts a tick equal to the last released one (reference § 4.4), so a
      // fault-free scan delivers such a message; a failed catch-up pass must not lose it either.
      const options: RawLogOptions = { equalToPreviousTimeTick: true };
      const raw = fc.record({
        log: rawLogSpec(options),
        query: querySpec({ tickFilters: true, typeFilters: true }),
        faults: faultSpec,
        resume: fc.constant(null),
        preloaded: fc.integer({ min: 0, max: 100 }),
        seed,
      });
      await fc.assert(
        fc.asyncProperty(raw, async (c) => void (await runRawCase(c, options))),
        PARAMS,
      );
    },
    TIMEOUT_MS,
  );

  test(
    'raw logs: resuming from a checkpoint yields exactly the remainder',
    async () => {
      // Equal ticks across a checkpoint make "the remainder" ambiguous (timeTickGT drops them),
      // so these logs have distinct ticks and no late messages. A committed transaction never
      // expires and ends once: the resumed scanner re-reads begins but, through the checkpoint's
      // filter, not the time ticks that expired them or the commit that ended them (§ 2.2).
      const coverage = resetCoverage();
      const options: RawLogOptions = {
        distinctTicks: true,
        committedNeverExpire: true,
        noRepeatedEnds: true,
      };
      const raw = fc.record({
        log: rawLogSpec(options),
        query: querySpec({ tickFilters: false, typeFilters: true }),
        faults: faultSpec,
        resume,
        preloaded: fc.constant(100),
        seed,
      });
      await fc.assert(
        fc.asyncProperty(raw, async (c) => void (await runRawCase(c, options))),
        PARAMS,
      );
      expectCoverage(coverage, ['checkpoints', 'readerFaults', 'committed']);
    },
    TIMEOUT_MS,
  );

  test(
    'writer logs with concurrent writes, evictions, faults and pauses: delivery equals the model and the writer',
    async () => {
      const coverage = resetCoverage();
      const writer = fc.record({
        script: writerLogSpec,
        query: writerQuery,
        faults: faultSpec,
        resume: fc.constant(null),
      });
      await fc.assert(
        fc.asyncProperty(writer, async (c) => void (await runWriterCase(c))),
        PARAMS,
      );
      expectCoverage(coverage, [
        'tailing',
        'evictions',
        'readerFaults',
        'paused',
        'committed',
        'expired',
      ]);
    },
    TIMEOUT_MS,
  );

  test(
    'writer logs: resuming from a checkpoint yields exactly the remainder',
    async () => {
      const coverage = resetCoverage();
      const writer = fc.record({
        script: writerLogSpec,
        query: writerQuery,
        faults: faultSpec,
        resume,
      });
      await fc.assert(
        fc.asyncProperty(writer, async (c) => void (await runWriterCase(c))),
        PARAMS,
      );
      expectCoverage(coverage, ['checkpoints', 'tailing', 'evictions', 'committed']);
    },
    TIMEOUT_MS,
  );
});

describe('resumeFrom: checkpointOf the k-th delivered message yields exactly the rest of the full scan', () => {
  // No restriction on the logs here: equal ticks, late messages, repeated ends, duplicates and
  // transactions with finite and Infinity keepalives; the scan up to the checkpoint and the
  // resumed scan together deliver exactly the model's (the full scan's) data messages.
  test(
    'raw logs with random vchannels, filters, cut points and reader faults',
    async () => {
      const coverage = resetCoverage();
      const options: RawLogOptions = {};
      const raw = fc.record({
        log: rawLogSpec(options),
        query: querySpec({ tickFilters: true, typeFilters: true }),
        faults: faultSpec,
        resume: resumeFrom,
        preloaded: fc.integer({ min: 0, max: 100 }),
        seed,
      });
      await fc.assert(
        fc.asyncProperty(raw, async (c) => void (await runRawCase(c, options))),
        PARAMS,
      );
      expectCoverage(coverage, ['checkpoints', 'readerFaults', 'committed', 'violations']);
    },
    TIMEOUT_MS,
  );

  test(
    'raw logs whose data may carry the tick of the time tick before it',
    async () => {
      const options: RawLogOptions = { equalToPreviousTimeTick: true };
      const raw = fc.record({
        log: rawLogSpec(options),
        query: querySpec({ tickFilters: true, typeFilters: true }),
        faults: faultSpec,
        resume: resumeFrom,
        preloaded: fc.integer({ min: 0, max: 100 }),
        seed,
      });
      await fc.assert(
        fc.asyncProperty(raw, async (c) => void (await runRawCase(c, options))),
        PARAMS,
      );
    },
    TIMEOUT_MS,
  );

  test(
    'writer logs across catch-up, tailing, evictions and faults',
    async () => {
      const coverage = resetCoverage();
      const writer = fc.record({
        script: writerLogSpec,
        query: writerQuery,
        faults: faultSpec,
        resume: resumeFrom,
      });
      await fc.assert(
        fc.asyncProperty(writer, async (c) => void (await runWriterCase(c))),
        PARAMS,
      );
      expectCoverage(coverage, ['checkpoints', 'tailing', 'evictions', 'committed']);
    },
    TIMEOUT_MS,
  );
});

describe('read pushdown (issue 13)', () => {
  // each case runs twice: half the cases keep the suite's time
  const PUSHDOWN_PARAMS = { ...PARAMS, numRuns: Math.max(1, Math.ceil(RUNS / 2)) };
  // The same case scanned by a scanner whose readers are asked for its vchannel only, and by one
  // whose readers return everything (a WAL that ignores the hint): they deliver the same.
  test(
    'raw logs under reader faults and resubscriptions: a scanner with pushdown delivers what one without it delivers',
    async () => {
      const coverage = resetCoverage();
      const options: RawLogOptions = {
        distinctTicks: true,
        committedNeverExpire: true,
        noRepeatedEnds: true,
      };
      const raw = fc.record({
        log: rawLogSpec(options),
        query: querySpec({ tickFilters: false, typeFilters: true }),
        faults: faultSpec,
        resume: fc.option(resume),
        preloaded: fc.integer({ min: 0, max: 100 }),
        seed,
      });
      await fc.assert(
        fc.asyncProperty(raw, async (c) => {
          const withPushdown = await runRawCase(c, options, true);
          const without = await runRawCase(c, options, false);
          expect(withPushdown).toEqual(without);
        }),
        PUSHDOWN_PARAMS,
      );
      expectCoverage(coverage, ['readerFaults', 'checkpoints']);
    },
    2 * TIMEOUT_MS,
  );

  test(
    'writer logs with evictions, faults and resubscriptions: a scanner with pushdown delivers what one without it delivers',
    async () => {
      const coverage = resetCoverage();
      const writer = fc.record({
        script: writerLogSpec,
        query: writerQuery,
        faults: faultSpec,
        resume: fc.option(resume),
      });
      let sameLog = 0;
      await fc.assert(
        fc.asyncProperty(writer, async (c) => {
          const withPushdown = await runWriterCase(c, true);
          const without = await runWriterCase(c, false);
          // Each run already equals the model of its own log. The writer replays the script in
          // virtual time, but a scanner's request for a persisted tick may land elsewhere in the
          // log; where both runs wrote the same log, they must deliver the very same messages.
          if (!isDeepStrictEqual(withPushdown.log, without.log)) return;
          sameLog++;
          expect(withPushdown.data).toEqual(without.data);
        }),
        PUSHDOWN_PARAMS,
      );
      expectCoverage(coverage, ['tailing', 'evictions', 'readerFaults', 'checkpoints']);
      // most cases write the same log twice: the comparison above is not vacuous
      if (RUNS >= 100 && PATH === undefined)
        expect(sameLog).toBeGreaterThan(PUSHDOWN_PARAMS.numRuns / 2);
    },
    2 * TIMEOUT_MS,
  );
});

describe('the writer the properties rely on', () => {
  test(
    'every append resolves with its own message, also when a time tick joins its batch',
    async () => {
      // The writer oracle of the writer-log properties is built from these acknowledgements.
      const part = fc.oneof(
        fc.record({ vch: fc.integer({ min: 0, max: 3 }) }),
        fc.record({ persisted: fc.boolean() }),
      );
      const bursts = fc.array(fc.array(part, { minLength: 1, maxLength: 5 }), { maxLength: 6 });
      await fc.assert(
        fc.asyncProperty(bursts, seed, async (script, writerSeed) => {
          const run = newRun();
          const wal = writerWal(run, {
            seed: writerSeed,
            ops: [],
            timeTickIntervalMs: 200,
            writeAheadBuffer: null,
            subscribeAt: 0,
          });
          let n = 0;
          try {
            for (const burst of script) {
              // issued in one turn: one write batch, written in a random order
              const calls = burst.map((p) => {
                if ('persisted' in p)
                  return { sent: 'TimeTick', ack: wal.syncTimeTick({ persisted: p.persisted }) };
                const payload = { n: n++ };
                const vchannel = VCHANNELS[p.vch] as string;
                return {
                  sent: `Insert ${vchannel} ${JSON.stringify(payload)}`,
                  ack: wal.append({ type: 'Insert', vchannel, payload }),
                };
              });
              const acks = await Promise.all(calls.map((c) => c.ack));
              const described = acks.map((m) =>
                m.type === 'TimeTick'
                  ? 'TimeTick'
                  : `${m.type} ${m.vchannel} ${JSON.stringify(m.payload)}`,
              );
              expect(described).toEqual(calls.map((c) => c.sent));
            }
          } finally {
            await closeWal(run, wal);
          }
        }),
        PARAMS,
      );
    },
    TIMEOUT_MS,
  );
});
