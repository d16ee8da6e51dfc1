import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';

import { ConfigError } from '../../lib/errors.js';
import { kvCheckpointStore } from '../../lib/nats/index.js';
import {
  describeWithNats,
  PASSWORD,
  startNatsServer,
  USER,
  type NatsServer,
} from './support/natsServer.js';

interface Position {
  timeTick: bigint;
  id: string;
}
const codec = {
  encode: (p: Position) => JSON.stringify({ v: 1, timeTick: String(p.timeTick), id: p.id }),
  decode: (text: string): Position => {
    const o = JSON.parse(text) as { timeTick: string; id: string };
    return { timeTick: BigInt(o.timeTick), id: o.id };
  },
};

describeWithNats('kvCheckpointStore on a real KV bucket', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer('kv');
    nc = await connect({ servers: server.url, user: USER, pass: PASSWORD });
  });
  afterAll(async () => {
    await nc.close();
    await server.dispose();
  });

  test('loads nothing, then what was saved last, and nothing after a delete', async () => {
    const kv = await new Kvm(nc).create('rxwal_checkpoints');
    const store = kvCheckpointStore(kv, 'consumer.a', codec);
    await expect(store.load()).resolves.toBeUndefined();
    await store.save({ timeTick: 1n << 60n, id: '7' });
    await store.save({ timeTick: (1n << 60n) + 1n, id: '9' });
    // another process's store on the same key sees it
    const again = kvCheckpointStore(
      await new Kvm(nc).open('rxwal_checkpoints'),
      'consumer.a',
      codec,
    );
    await expect(again.load()).resolves.toEqual({ timeTick: (1n << 60n) + 1n, id: '9' });
    expect((await kv.get('consumer.a'))?.string()).toBe(
      `{"v":1,"timeTick":"${(1n << 60n) + 1n}","id":"9"}`,
    );
    await kv.delete('consumer.a');
    await expect(store.load()).resolves.toBeUndefined();
  });

  test('bad arguments name what was wrong', async () => {
    const kv = await new Kvm(nc).create('rxwal_checkpoints');
    expect(() => kvCheckpointStore(kv, 'bad key', codec)).toThrow(/invalid key/);
    expect(() => kvCheckpointStore(null as never, 'k', codec)).toThrow(ConfigError);
    expect(() => kvCheckpointStore(kv, 'k', {} as never)).toThrow(/invalid codec/);
  });
});
