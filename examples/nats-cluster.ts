/**
 * rxwal on a 3-node NATS JetStream cluster: starts three local nats-server processes (the
 * Debian/Homebrew `nats-server` on PATH), opens a WAL on an R3 stream, scans vchannel `v1` from
 * another connection, kills the stream leader halfway through the writes and keeps going. The
 * writer rides out the election; the scanner delivers every acknowledged message once, in order.
 *
 *   npx tsx examples/nats-cluster.ts
 *
 * To run the same code against an existing cluster, give its servers (and credentials) instead:
 *
 *   RXWAL_NATS_SERVERS=nats://10.0.0.1:4222,nats://10.0.0.2:4222,nats://10.0.0.3:4222 \
 *   NATS_USER=rxwal NATS_PASSWORD=… npx tsx examples/nats-cluster.ts
 *
 * (nothing is killed then).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { filter } from 'rxjs';

import { scanWal, type WalMessage } from '../lib/index.js';
import { openJetStreamWal } from '../lib/nats/index.js';
import {
  PASSWORD,
  startNatsCluster,
  USER,
  type NatsServer,
} from '../spec/nats/support/natsServer.js';
import { waitForJetStream } from '../spec/nats/support/leaderKill.js';

const MESSAGES = 400;

async function main(): Promise<void> {
  const given = process.env.RXWAL_NATS_SERVERS?.split(',');
  const local: NatsServer[] = given === undefined ? await startNatsCluster(3, 'example') : [];
  const servers = given ?? local.map((s) => s.url);
  const connectOptions = {
    user: given === undefined ? USER : process.env.NATS_USER,
    pass: given === undefined ? PASSWORD : process.env.NATS_PASSWORD,
    reconnectTimeWait: 100,
    maxReconnectAttempts: -1,
  };
  try {
    if (local.length > 0) await waitForJetStream(local);
    const channel = `example${Date.now()}`;
    const wal = await openJetStreamWal({ channel, servers, connectOptions, replicas: 3 });
    const follower = await openJetStreamWal({ channel, servers, connectOptions, readOnly: true });
    const delivered: WalMessage[] = [];
    const scan = scanWal(follower, { vchannel: 'v1' })
      .pipe(filter((m) => m.type !== 'TimeTick'))
      .subscribe((m) => delivered.push(m));

    const acknowledged: WalMessage[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      if (i === MESSAGES / 2 && local.length > 0) {
        const info = await (await jetstreamManager(wal.connection)).streams.info(wal.stream);
        const leader = local.find((s) => s.name === info.cluster?.leader);
        console.log(`killing the stream leader ${leader?.name} (SIGKILL)`);
        const killedAt = Date.now();
        await leader?.kill();
        const m = await wal.append({
          type: 'Insert',
          vchannel: 'v1',
          payload: Buffer.from(String(i)),
        });
        acknowledged.push(m);
        console.log(
          `the writer's next append was acknowledged ${Date.now() - killedAt} ms after the kill`,
        );
        continue;
      }
      const vchannel = i % 2 === 0 ? 'v1' : 'v2';
      acknowledged.push(
        await wal.append({ type: 'Insert', vchannel, payload: Buffer.from(String(i)) }),
      );
    }
    await wal.syncTimeTick({ persisted: true });
    const expected = acknowledged.filter((m) => m.vchannel === 'v1').map((m) => m.id.key);
    const deadline = Date.now() + 30_000;
    while (delivered.length < expected.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    scan.unsubscribe();
    const same = delivered.map((m) => m.id.key).join() === expected.join();
    console.log(
      `${acknowledged.length} appends acknowledged; the scanner delivered ${delivered.length} of ${expected.length} v1 messages${same ? ', each once, in order' : ' — MISMATCH'}`,
    );
    await follower.close();
    await wal.close();
    process.exitCode = same ? 0 : 1;
  } finally {
    for (const s of local) await s.dispose();
  }
}

void main();
