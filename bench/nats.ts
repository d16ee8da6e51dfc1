/**
 * rxwal/nats benchmarks against a real nats-server (R1 file stream) started on a free loopback
 * port: the `nats` section of `npm run bench` (`BENCH_ONLY=nats npm run bench`), or alone with
 * `npx tsc -p tsconfig.bench.json && node .bench/bench/nats.js`.
 *
 * - catch-up: `scanWal` over a read-only JetStream WAL reading the whole stream ÷ a bare ordered
 *   consumer reading and decoding the same stream, ratio of rates in the same run; the bare
 *   consumer runs in both its forms (`consume()` with a callback and with an async iterator, max
 *   1024 messages per pull) and the baseline is the form with the higher median rate; the stream
 *   (written once by the writer) is read in a rotating order each run, after one warm-up run
 *   (target ≥ 0.8). The stricter ratio against the faster form of each run (a maximum of two
 *   noisy rates) is reported beside it;
 * - append: the writer (`wal.append`, IN_FLIGHT appends in flight) ÷ bare `js.publish` of the
 *   same records with the same number in flight, fresh streams each run, in alternating order
 *   (target ≥ 0.8).
 *
 * BENCH_NATS_SIZE: messages of the catch-up stream (default 1,000,000, the issue's figure);
 * BENCH_NATS_APPEND_SIZE: appends per append run (default 100,000, at most BENCH_NATS_SIZE);
 * BENCH_NATS_RUNS (else BENCH_RUNS, else 3): measured runs after the warm-up. Leader-kill
 * recovery times come from `npm run test:cluster` (median and max over its kills).
 */
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { filter, firstValueFrom } from 'rxjs';

import type { WalMessage } from '../lib/message/message.js';
import { openJetStreamWal, type JetStreamWal } from '../lib/nats/index.js';
import { scanWal } from '../lib/scanner/scanWal.js';
import { decodeRecord, encodeRecord } from '../lib/wire/record.js';
import {
  natsServerBinary,
  PASSWORD,
  startNatsServer,
  USER,
  type NatsServer,
} from '../spec/nats/support/natsServer.js';

/** Appends (and publishes) in flight at once, in both append contenders. */
export const IN_FLIGHT = 256;
const payload = new Uint8Array(64).fill(7);

/** What one NATS benchmark run measures. */
export interface NatsBenchOptions {
  /** Messages in the catch-up stream. */
  readonly catchupSize: number;
  /** Appends per append run (each contender). */
  readonly appendSize: number;
  /** Measured runs (after one warm-up run). */
  readonly runs: number;
  readonly log: (line: string) => void;
  /** Called before every timed contender (a GC between runs, as the other sections do). */
  readonly collectGarbage?: () => void;
}

/** Rates (messages per second) and ratios, one entry per measured run. */
export interface NatsBenchResult {
  readonly catchupSize: number;
  readonly appendSize: number;
  readonly runs: number;
  readonly buildSeconds: number;
  /** scanWal ÷ the bare consumer with the callback, per run. */
  readonly callbackRatios: number[];
  /** scanWal ÷ the bare consumer with the iterator, per run. */
  readonly iteratorRatios: number[];
  /** scanWal ÷ the faster bare form of each run. */
  readonly strictRatios: number[];
  readonly scanWalPerSecond: number[];
  readonly orderedCallbackPerSecond: number[];
  readonly orderedIteratorPerSecond: number[];
  readonly appendRatios: number[];
  readonly writerPerSecond: number[];
  readonly publishPerSecond: number[];
}

function envCount(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new RangeError(`${name} must be a positive integer, got ${raw}`);
  return value;
}

/** The options from the environment (see the file's comment). */
export function natsBenchOptions(log: (line: string) => void): NatsBenchOptions {
  const catchupSize = envCount('BENCH_NATS_SIZE') ?? 1_000_000;
  return {
    catchupSize,
    appendSize: Math.min(catchupSize, envCount('BENCH_NATS_APPEND_SIZE') ?? 100_000),
    runs: envCount('BENCH_NATS_RUNS') ?? envCount('BENCH_RUNS') ?? 3,
    log,
  };
}

export const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const perSecond = (messages: number, ms: number): number => (messages / ms) * 1000;

/** Appends `count` messages through the writer, IN_FLIGHT at a time; ms and the last message. */
async function appendWithWriter(
  wal: JetStreamWal,
  count: number,
): Promise<{ ms: number; last: WalMessage }> {
  const t = performance.now();
  let last: WalMessage | undefined;
  for (let i = 0; i < count; i += IN_FLIGHT) {
    const window: Promise<WalMessage>[] = [];
    for (let j = i; j < Math.min(count, i + IN_FLIGHT); j++) {
      window.push(wal.append({ type: 'Insert', vchannel: `v${j % 4}`, payload }));
    }
    last = (await Promise.all(window)).at(-1);
  }
  return { ms: performance.now() - t, last: last as WalMessage };
}

/** Publishes `record` `count` times on a fresh stream, IN_FLIGHT at a time; ms. */
async function publishBare(
  nc: NatsConnection,
  js: JetStreamClient,
  name: string,
  record: Uint8Array,
  count: number,
): Promise<number> {
  await (await jetstreamManager(nc)).streams.add({ name, subjects: [`${name}.>`] });
  const t = performance.now();
  for (let i = 0; i < count; i += IN_FLIGHT) {
    const window: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(count, i + IN_FLIGHT); j++) {
      window.push(js.publish(`${name}.v${j % 4}`, record));
    }
    await Promise.all(window);
  }
  return performance.now() - t;
}

/** scanWal over a read-only WAL until the stream's last message; ms. */
async function catchUpWithScanWal(server: NatsServer, channel: string): Promise<number> {
  const follower = await openJetStreamWal({
    channel,
    servers: server.url,
    connectOptions: { user: USER, pass: PASSWORD },
    readOnly: true,
  });
  try {
    const end = await follower.lastSequence();
    const t = performance.now();
    await firstValueFrom(scanWal(follower).pipe(filter((m) => BigInt(m.id.key) >= end)));
    return performance.now() - t;
  } finally {
    await follower.close();
  }
}

/** A bare ordered consumer reading and decoding `count` messages of `stream`; ms. */
async function catchUpOrdered(
  js: JetStreamClient,
  stream: string,
  count: number,
  form: 'callback' | 'iterator',
): Promise<number> {
  const t = performance.now();
  const consumer = await js.consumers.get(stream);
  let read = 0;
  if (form === 'callback') {
    let done = (): void => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const messages = await consumer.consume({
      max_messages: 1024,
      callback: (jm) => {
        decodeRecord(jm.data, BigInt(jm.seq));
        if (++read === count) done();
      },
    });
    await finished;
    const ms = performance.now() - t;
    await messages.close();
    return ms;
  }
  const messages = await consumer.consume({ max_messages: 1024 });
  for await (const jm of messages) {
    decodeRecord(jm.data, BigInt(jm.seq));
    if (++read >= count) break;
  }
  return performance.now() - t;
}

/** The catch-up figure: the median ratio against the bare form with the higher median rate. */
export function catchupFigure(result: NatsBenchResult): {
  ratio: number;
  form: 'callback' | 'iterator';
  baselinePerSecond: number;
  strict: number;
} {
  const callback = median(result.orderedCallbackPerSecond);
  const iterator = median(result.orderedIteratorPerSecond);
  const form = callback >= iterator ? 'callback' : 'iterator';
  return {
    ratio: median(form === 'callback' ? result.callbackRatios : result.iteratorRatios),
    form,
    baselinePerSecond: Math.max(callback, iterator),
    strict: median(result.strictRatios),
  };
}

/** Runs the NATS benchmarks on a server of their own; undefined without nats-server. */
export async function benchNats(options: NatsBenchOptions): Promise<NatsBenchResult | undefined> {
  const { catchupSize, appendSize, runs, log } = options;
  const collectGarbage = options.collectGarbage ?? ((): void => undefined);
  if (natsServerBinary === undefined) {
    log('nats: nats-server not on PATH, section skipped');
    return undefined;
  }
  const server = await startNatsServer('bench');
  const connectOptions = { user: USER, pass: PASSWORD };
  const nc = await connect({ servers: server.url, ...connectOptions });
  const js = jetstream(nc);
  const result: NatsBenchResult = {
    catchupSize,
    appendSize,
    runs,
    buildSeconds: 0,
    callbackRatios: [],
    iteratorRatios: [],
    strictRatios: [],
    scanWalPerSecond: [],
    orderedCallbackPerSecond: [],
    orderedIteratorPerSecond: [],
    appendRatios: [],
    writerPerSecond: [],
    publishPerSecond: [],
  };
  try {
    // ---- catch-up: one stream written by the writer, read by each contender every run
    const channel = 'catchup';
    const wal = await openJetStreamWal({ channel, servers: server.url, connectOptions });
    const built = await appendWithWriter(wal, catchupSize);
    await wal.syncTimeTick({ persisted: true });
    const messages = Number(await wal.lastSequence());
    const stream = wal.stream;
    await wal.close();
    (result as { buildSeconds: number }).buildSeconds = built.ms / 1000;
    log(
      `  built ${messages.toLocaleString('en')} messages with the writer in ${(built.ms / 1000).toFixed(1)} s`,
    );
    const contenders = {
      scanWal: () => catchUpWithScanWal(server, channel),
      callback: () => catchUpOrdered(js, stream, messages, 'callback'),
      iterator: () => catchUpOrdered(js, stream, messages, 'iterator'),
    };
    const names = Object.keys(contenders) as (keyof typeof contenders)[];
    for (let r = 0; r <= runs; r++) {
      const ms: Partial<Record<keyof typeof contenders, number>> = {};
      // rotate the order: whoever reads first pays for the server's cold caches
      for (let k = 0; k < names.length; k++) {
        const name = names[(r + k) % names.length] as keyof typeof contenders;
        collectGarbage();
        ms[name] = await contenders[name]();
      }
      const scan = perSecond(messages, ms.scanWal as number);
      const callback = perSecond(messages, ms.callback as number);
      const iterator = perSecond(messages, ms.iterator as number);
      log(
        `  catch-up ${r === 0 ? 'warm-up' : `run ${r}/${runs}`}: scanWal ${Math.round(scan)}/s, ordered consumer ${Math.round(callback)}/s (callback) ${Math.round(iterator)}/s (iterator); ratios ${(scan / callback).toFixed(2)} / ${(scan / iterator).toFixed(2)}`,
      );
      if (r === 0) continue;
      result.callbackRatios.push(scan / callback);
      result.iteratorRatios.push(scan / iterator);
      result.strictRatios.push(scan / Math.max(callback, iterator));
      result.scanWalPerSecond.push(scan);
      result.orderedCallbackPerSecond.push(callback);
      result.orderedIteratorPerSecond.push(iterator);
    }

    // ---- append: the writer vs bare js.publish of its records, fresh streams each run
    for (let r = 0; r <= runs; r++) {
      let writerMs = 0;
      let publishMs = 0;
      const writerFirst = r % 2 === 0;
      const runWriter = async (): Promise<WalMessage> => {
        collectGarbage();
        const writer = await openJetStreamWal({
          channel: `append${r}`,
          servers: server.url,
          connectOptions,
        });
        const appended = await appendWithWriter(writer, appendSize);
        writerMs = appended.ms;
        await writer.close();
        return appended.last;
      };
      const runPublish = async (record: Uint8Array): Promise<void> => {
        collectGarbage();
        publishMs = await publishBare(nc, js, `BARE${r}`, record, appendSize);
      };
      // the bare side publishes a record the writer wrote (its size and encoding)
      const sample = encodeRecord(built.last);
      if (writerFirst) {
        await runWriter();
        await runPublish(sample);
      } else {
        await runPublish(sample);
        await runWriter();
      }
      const writer = perSecond(appendSize, writerMs);
      const publish = perSecond(appendSize, publishMs);
      log(
        `  append ${r === 0 ? 'warm-up' : `run ${r}/${runs}`}: writer ${Math.round(writer)}/s, js.publish ${Math.round(publish)}/s, ratio ${(writer / publish).toFixed(2)}`,
      );
      if (r === 0) continue;
      result.appendRatios.push(writer / publish);
      result.writerPerSecond.push(writer);
      result.publishPerSecond.push(publish);
    }
  } finally {
    await nc.close().catch(() => undefined);
    await server.dispose();
  }
  return result;
}

if (require.main === module) {
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const options = natsBenchOptions(log);
  log(
    `nats: R1 file stream, catch-up of ${options.catchupSize.toLocaleString('en')} messages, ${options.appendSize.toLocaleString('en')} appends with ${IN_FLIGHT} in flight, median of ${options.runs} runs after a warm-up`,
  );
  benchNats(options).then(
    (result) => {
      if (result !== undefined) {
        const catchUp = catchupFigure(result);
        log(
          `  catch-up ratio (scanWal ÷ ordered consumer, ${catchUp.form}) ${catchUp.ratio.toFixed(2)} (÷ each run's faster form: ${catchUp.strict.toFixed(2)})`,
        );
        log(
          `  append ratio (writer ÷ js.publish)            ${median(result.appendRatios).toFixed(2)}`,
        );
      }
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
