/**
 * rxwal/nats benchmarks against a real nats-server (R1 file stream) started on a free loopback
 * port: `node --import tsx bench/nats.ts` (or `BENCH_ONLY=nats npm run bench` once wired in).
 *
 * - catch-up: `scanWal` over a read-only JetStream WAL reading N messages ÷ a bare ordered
 *   consumer reading and decoding the same stream (ratio of rates, target ≥ 0.8);
 * - append: the writer (`wal.append`, IN_FLIGHT appends in flight) ÷ bare `js.publish` of the same
 *   records with the same number in flight (target ≥ 0.8).
 *
 * BENCH_NATS_SIZE (default 100,000; the figure is 1,000,000), BENCH_RUNS (default 3).
 * Leader-kill recovery times come from `npm run test:cluster` (median and max over its kills).
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { filter, firstValueFrom } from 'rxjs';

import type { WalMessage } from '../lib/message/message.js';
import { openJetStreamWal } from '../lib/nats/index.js';
import { scanWal } from '../lib/scanner/scanWal.js';
import { decodeRecord, encodeRecord } from '../lib/wire/record.js';
import {
  natsServerBinary,
  PASSWORD,
  startNatsServer,
  USER,
} from '../spec/nats/support/natsServer.js';

const SIZE = Number(process.env.BENCH_NATS_SIZE ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const IN_FLIGHT = 256;
const payload = new Uint8Array(64).fill(7);

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1] as number;

/** Runs the NATS section; returns its rows (or undefined without nats-server). */
export async function benchNats(): Promise<Record<string, number> | undefined> {
  if (natsServerBinary === undefined) {
    console.log('nats: nats-server not on PATH, section skipped');
    return undefined;
  }
  const server = await startNatsServer('bench');
  const connectOptions = { user: USER, pass: PASSWORD };
  const appendRatios: number[] = [];
  const catchupRatios: number[] = [];
  const rates = {
    writer: [] as number[],
    publish: [] as number[],
    scan: [] as number[],
    ordered: [] as number[],
  };
  try {
    for (let run = 0; run < RUNS; run++) {
      // ---- append: the writer
      const channel = `bench${run}`;
      const wal = await openJetStreamWal({ channel, servers: server.url, connectOptions });
      let t = performance.now();
      let last: WalMessage | undefined;
      for (let i = 0; i < SIZE; i += IN_FLIGHT) {
        const window = [];
        for (let j = i; j < Math.min(SIZE, i + IN_FLIGHT); j++) {
          window.push(wal.append({ type: 'Insert', vchannel: `v${j % 4}`, payload }));
        }
        last = (await Promise.all(window)).at(-1);
      }
      const writerRate = SIZE / ((performance.now() - t) / 1000);
      await wal.syncTimeTick({ persisted: true });
      await wal.close();

      // ---- append: bare js.publish of the same records, same number in flight
      const nc = await connect({ servers: server.url, ...connectOptions });
      const js = jetstream(nc);
      await (
        await jetstreamManager(nc)
      ).streams.add({ name: `BARE${run}`, subjects: [`bare${run}.>`] });
      const record = encodeRecord(last as WalMessage);
      t = performance.now();
      for (let i = 0; i < SIZE; i += IN_FLIGHT) {
        const window = [];
        for (let j = i; j < Math.min(SIZE, i + IN_FLIGHT); j++) {
          window.push(js.publish(`bare${run}.v${j % 4}`, record));
        }
        await Promise.all(window);
      }
      const publishRate = SIZE / ((performance.now() - t) / 1000);
      appendRatios.push(writerRate / publishRate);
      rates.writer.push(writerRate);
      rates.publish.push(publishRate);

      // ---- catch-up: scanWal over a read-only WAL vs a bare ordered consumer
      const follower = await openJetStreamWal({
        channel,
        servers: server.url,
        connectOptions,
        readOnly: true,
      });
      const end = await follower.lastSequence();
      t = performance.now();
      await firstValueFrom(scanWal(follower).pipe(filter((m) => BigInt(m.id.key) >= end)));
      const scanRate = Number(end) / ((performance.now() - t) / 1000);
      await follower.close();

      t = performance.now();
      const consumer = await js.consumers.get(follower.stream);
      const messages = await consumer.consume({ max_messages: 1024 });
      let read = 0;
      for await (const jm of messages) {
        decodeRecord(jm.data, jm.seq);
        if (++read >= Number(end)) break;
      }
      const orderedRate = read / ((performance.now() - t) / 1000);
      catchupRatios.push(scanRate / orderedRate);
      rates.scan.push(scanRate);
      rates.ordered.push(orderedRate);
      await nc.close();
    }
  } finally {
    await server.dispose();
  }
  const rows = {
    appendWriterPerSecond: median(rates.writer),
    appendBarePublishPerSecond: median(rates.publish),
    appendRatio: median(appendRatios),
    catchupScanWalPerSecond: median(rates.scan),
    catchupOrderedConsumerPerSecond: median(rates.ordered),
    catchupRatio: median(catchupRatios),
  };
  console.log(`nats (R1 file, ${SIZE} messages, ${IN_FLIGHT} in flight, median of ${RUNS}):`);
  for (const [k, v] of Object.entries(rows))
    console.log(`  ${k.padEnd(34)} ${v.toFixed(k.endsWith('Ratio') ? 2 : 0)}`);
  return rows;
}

if (require.main === module) {
  benchNats().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
