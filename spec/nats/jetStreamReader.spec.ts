/**
 * The JetStream reader against a real nats-server: how it talks to the server (one consumer
 * lookup per consumer, pull requests bounded by twice `readBatchSize`), observed by a second
 * connection subscribed to the JetStream API subjects (JetStream API requests are ordinary
 * messages of the account).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';

import type { WalMessage } from '../../lib/message/message.js';
import { openJetStreamWal, type JetStreamWal } from '../../lib/nats/index.js';
import type { JetStreamReader } from '../../lib/nats/jetStreamReader.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import {
  describeWithNats,
  PASSWORD,
  startNatsServer,
  USER,
  type NatsServer,
} from './support/natsServer.js';

jest.setTimeout(30_000);

const payload = new Uint8Array([1, 2, 3]);

/** Appends `count` messages over `vchannels`, `window` in flight at a time. */
async function fill(wal: JetStreamWal, count: number, vchannels: readonly string[]): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    const window: Promise<WalMessage>[] = [];
    for (let j = i; j < Math.min(count, i + 100); j++) {
      window.push(
        wal.append({
          type: 'Insert',
          vchannel: vchannels[j % vchannels.length] as string,
          payload,
        }),
      );
    }
    await Promise.all(window);
  }
}

/** Reads until the message with id `last` (inclusive). */
async function readThrough(reader: JetStreamReader, last: bigint): Promise<WalMessage[]> {
  const seen: WalMessage[] = [];
  while (seen.length === 0 || BigInt((seen.at(-1) as WalMessage).id.key) < last) {
    seen.push(...(await reader.next()));
  }
  return seen;
}

/** The JetStream API requests about consumers of `stream`, as they are made. */
class ApiSpy {
  readonly requests: { kind: string; body: string }[] = [];
  private constructor(private readonly nc: NatsConnection) {}

  static async start(server: NatsServer, stream: string): Promise<ApiSpy> {
    const nc = await connect({ servers: server.url, user: USER, pass: PASSWORD });
    const spy = new ApiSpy(nc);
    nc.subscribe('$JS.API.CONSUMER.>', {
      callback: (_err, msg) => {
        const tokens = msg.subject.split('.');
        // $JS.API.CONSUMER.<KIND...>.<stream>[.<consumer>]
        if (!tokens.includes(stream)) return;
        const kind = tokens.slice(3, tokens.indexOf(stream)).join('.');
        spy.requests.push({ kind, body: msg.string() });
      },
    });
    await nc.flush();
    return spy;
  }

  of(kind: string): { kind: string; body: string }[] {
    return this.requests.filter((r) => r.kind === kind);
  }

  async stop(): Promise<void> {
    await this.nc.flush();
    await this.nc.close();
  }
}

describeWithNats('JetStreamReader on one nats-server', () => {
  let server: NatsServer;
  const opened: JetStreamWal[] = [];
  const open = async (channel: string, readBatchSize?: number): Promise<JetStreamWal> => {
    const wal = await openJetStreamWal({
      channel,
      servers: server.url,
      connectOptions: { user: USER, pass: PASSWORD },
      timeTickInterval: '1h',
      ...(readBatchSize === undefined ? {} : { readBatchSize }),
    });
    opened.push(wal);
    return wal;
  };

  beforeAll(async () => {
    server = await startNatsServer('reader');
  });
  afterAll(async () => {
    for (const wal of opened) await wal.close().catch(() => undefined);
    await server.dispose();
  });

  test('looks its consumer up once, not per fetch, and never asks for more than twice readBatchSize', async () => {
    const wal = await open('lookups', 100);
    await fill(wal, 1000, ['v0', 'v1']);
    const last = BigInt((await wal.syncTimeTick({ persisted: true })).id.key);
    const spy = await ApiSpy.start(server, wal.stream);
    const reader = wal.read(DeliverPolicy.all()) as JetStreamReader;
    const seen = await readThrough(reader, last);
    reader.close();
    await spy.stop();
    expect(seen.map((m) => Number(m.id.key))).toEqual(
      Array.from({ length: Number(last) }, (_, i) => i + 1),
    );
    expect(reader.recreated).toBe(1);
    expect(spy.of('INFO')).toHaveLength(1);
    const pulls = spy.of('MSG.NEXT').map((r) => (JSON.parse(r.body) as { batch: number }).batch);
    // 1001 messages in requests of at most 200: at least six of them
    expect(pulls.length).toBeGreaterThanOrEqual(6);
    expect(Math.max(...pulls)).toBeLessThanOrEqual(200);
  });
});
