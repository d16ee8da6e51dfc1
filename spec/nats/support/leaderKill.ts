import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pino from 'pino';
import { filter, type Subscription } from 'rxjs';

import type { WalMessage } from '../../../lib/message/message.js';
import { openJetStreamWal, type JetStreamWal } from '../../../lib/nats/index.js';
import { DeliverPolicy } from '../../../lib/options/deliverPolicy.js';
import { scanWal } from '../../../lib/scanner/scanWal.js';
import { PASSWORD, USER, type NatsServer } from './natsServer.js';

const auth = { user: USER, pass: PASSWORD };
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until the cluster's JetStream answers API requests. */
export async function waitForJetStream(
  servers: readonly NatsServer[],
  withinMs = 20_000,
): Promise<void> {
  const nc = await connect({ servers: servers.map((s) => s.url), ...auth });
  const deadline = Date.now() + withinMs;
  try {
    for (;;) {
      try {
        const jsm = await jetstreamManager(nc, { timeout: 1000 });
        await jsm.getAccountInfo();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await pause(200);
      }
    }
  } finally {
    await nc.close();
  }
}

/** Opens, retrying for up to 20 s while a cluster that just had a node restarted settles. */
async function retryOpen<T>(open: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await open();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await pause(500);
    }
  }
}

/** What one leader kill measured. */
export interface LeaderKillResult {
  acknowledged: number;
  rejected: number;
  /** ms from the kill to the writer's next acknowledged append. */
  writerResumeMs: number;
  /** ms from the kill until each scanner delivered a message appended after the kill. */
  scannerResumeMs: number[];
  /** Scanner deliveries that differ from the acknowledged log of their vchannel. */
  mismatches: string[];
  /** Acknowledged appends missing from the stream. */
  lost: number;
  killed: string;
}

const key = (m: WalMessage): string => `${m.id.key}@${m.timeTick}`;

/**
 * SIGKILLs the stream leader while a writer appends and two scanners read (one in the writer's
 * process, one on another connection); then checks every acknowledged append is in the stream and
 * each scanner delivered exactly the acknowledged log of its vchannel, in tick order.
 */
export async function leaderKill(
  servers: readonly NatsServer[],
  channel: string,
  options: { before?: number; after?: number } = {},
): Promise<LeaderKillResult> {
  const urls = servers.map((s) => s.url);
  const connectOptions = { ...auth, reconnectTimeWait: 100, maxReconnectAttempts: -1 };
  const common = {
    channel,
    servers: urls,
    connectOptions,
    timeTickInterval: '50ms',
  };
  const wal: JetStreamWal = await retryOpen(() =>
    openJetStreamWal({
      ...common,
      replicas: 3,
      publishDeadline: '30s',
    }),
  );
  // RXWAL_NATS_LOG=<file>: the follower's warnings (watchdog recreations) for a failed kill
  const logFile = process.env.RXWAL_NATS_LOG;
  const follower = await retryOpen(() =>
    openJetStreamWal({
      ...common,
      readOnly: true,
      readerWatchdog: '1s',
      ...(logFile === undefined
        ? {}
        : { logger: pino({ level: 'debug' }, pino.destination(logFile)) }),
    }),
  );
  const acked: WalMessage[] = [];
  let rejected = 0;
  let killedAt = 0;
  let writerResumeMs = -1;
  const delivered: WalMessage[][] = [[], []];
  const resumed = [-1, -1];
  const subscriptions: Subscription[] = [wal, follower].map((w, i) =>
    scanWal(w, { vchannel: i === 0 ? 'v1' : 'v2' })
      .pipe(filter((m) => m.type !== 'TimeTick'))
      .subscribe((m) => {
        (delivered[i] as WalMessage[]).push(m);
        if (killedAt > 0 && resumed[i] === -1 && Number(m.id.key) > killedSeq) {
          resumed[i] = Date.now() - killedAt;
        }
      }),
  );
  let killedSeq = Number.MAX_SAFE_INTEGER;
  const before = options.before ?? 200;
  const after = options.after ?? 200;
  let n = 0;
  const appendOne = async (): Promise<void> => {
    const vchannel = n % 2 === 0 ? 'v1' : 'v2';
    const payload = Buffer.from(String(n++));
    try {
      const m = await wal.append({ type: 'Insert', vchannel, payload });
      acked.push(m);
      if (killedAt > 0 && writerResumeMs === -1) writerResumeMs = Date.now() - killedAt;
    } catch {
      rejected++;
    }
  };
  while (acked.length < before && rejected === 0)
    await Promise.all([appendOne(), appendOne(), appendOne()]);
  const jsm = await jetstreamManager(wal.connection);
  const leader = (await jsm.streams.info(wal.stream)).cluster?.leader ?? '';
  const killedServer = servers.find((s) => s.name === leader);
  if (killedServer === undefined) throw new Error(`no stream leader among the servers (${leader})`);
  const killed = leader;
  killedSeq = Number((acked[acked.length - 1] as WalMessage).id.key);
  killedAt = Date.now();
  await killedServer.kill();
  while (acked.length < before + after && rejected === 0)
    await Promise.all([appendOne(), appendOne(), appendOne()]);
  await wal.syncTimeTick({ persisted: true }); // releases the last appends from the reorder buffers

  const expected = ['v1', 'v2'].map((v) =>
    acked
      .filter((m) => m.vchannel === v)
      .sort((a, b) => (a.timeTick < b.timeTick ? -1 : a.timeTick > b.timeTick ? 1 : 0))
      .map(key),
  );
  const deadline = Date.now() + 30_000;
  while (
    Date.now() < deadline &&
    delivered.some((d, i) => d.length < (expected[i] as string[]).length)
  ) {
    await pause(50);
  }
  await pause(200); // anything delivered beyond the acknowledged log shows up as a mismatch
  for (const s of subscriptions) s.unsubscribe();
  const mismatches: string[] = [];
  delivered.forEach((d, i) => {
    const got = d.map(key).join(' ');
    const want = (expected[i] as string[]).join(' ');
    if (got !== want)
      mismatches.push(`scanner ${i}: delivered ${d.length}, expected ${expected[i]?.length}`);
  });
  // every acknowledged append is in the stream, with its tick
  const inStream = new Set<string>();
  const reader = follower.read(DeliverPolicy.all());
  const last = Math.max(...acked.map((m) => Number(m.id.key)));
  for (let seen = 0; seen < last;) {
    const batch = await reader.next();
    for (const m of batch) inStream.add(key(m));
    seen = Number((batch[batch.length - 1] as WalMessage).id.key);
  }
  reader.close();
  const lost = acked.filter((m) => !inStream.has(key(m))).length;
  await follower.close();
  await wal.close();
  return {
    acknowledged: acked.length,
    rejected,
    writerResumeMs,
    scannerResumeMs: resumed,
    mismatches,
    lost,
    killed,
  };
}

/** Restarts a killed server and waits (bounded) until its replica of `stream` is current. */
export async function restartAndCatchUp(
  servers: readonly NatsServer[],
  name: string,
  stream: string,
  withinMs = 30_000,
): Promise<boolean> {
  const server = servers.find((s) => s.name === name);
  if (server === undefined) throw new Error(`no server ${name}`);
  await server.start();
  const nc = await connect({ servers: servers.map((s) => s.url), ...auth });
  try {
    const deadline = Date.now() + withinMs;
    while (Date.now() < deadline) {
      // the cluster may still be electing: every request is retried until the deadline
      const info = await jetstreamManager(nc)
        .then((jsm) => jsm.streams.info(stream))
        .catch(() => undefined);
      const cluster = info?.cluster;
      const peer = cluster?.replicas?.find((r) => r.name === name);
      if (
        cluster?.leader === name ||
        (peer !== undefined && peer.current && (peer.lag ?? 0) === 0)
      ) {
        return true;
      }
      await pause(200);
    }
    return false;
  } finally {
    await nc.close();
  }
}
