import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';

import { checkpointOf, encodeCheckpoint } from '../../lib/checkpoint/checkpoint.js';
import { ConfigError } from '../../lib/errors.js';
import { createMessage } from '../../lib/message/createMessage.js';
import { kvCheckpointStore } from '../../lib/nats/index.js';
import { checkpointStoreContract } from '../support/checkpointStoreContract.js';
import {
  describeWithNats,
  PASSWORD,
  startNatsServer,
  USER,
  type NatsServer,
} from './support/natsServer.js';

describeWithNats('kvCheckpointStore on a real KV bucket', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let buckets = 0;
  beforeAll(async () => {
    server = await startNatsServer('kv');
    nc = await connect({ servers: server.url, user: USER, pass: PASSWORD });
  });
  afterAll(async () => {
    await nc.close();
    await server.dispose();
  });

  checkpointStoreContract('kvCheckpointStore', async () => {
    const bucket = `rxwal_checkpoints_${++buckets}`;
    const kvm = new Kvm(nc);
    const kv = await kvm.create(bucket);
    return {
      store: kvCheckpointStore(kv, 'consumer.a'),
      reopen: async () => kvCheckpointStore(await new Kvm(nc).open(bucket), 'consumer.a'),
      other: async () => kvCheckpointStore(await new Kvm(nc).open(bucket), 'consumer.b'),
      dispose: async () => {
        await kv.destroy();
      },
    };
  });

  test('stores the text of encodeCheckpoint; a deleted key loads nothing', async () => {
    const kv = await new Kvm(nc).create('rxwal_checkpoints_text');
    const store = kvCheckpointStore(kv, 'consumer.a');
    const m = createMessage({
      id: 9n,
      type: 'Insert',
      timeTick: (1n << 60n) + 1n,
      vchannel: 'v1',
      lastConfirmedId: 7n,
    });
    await store.save(checkpointOf(m));
    expect((await kv.get('consumer.a'))?.string()).toBe(encodeCheckpoint(checkpointOf(m)));
    await kv.delete('consumer.a');
    await expect(store.load()).resolves.toBeUndefined();
  });

  test('a value that is not a checkpoint fails load with ConfigError', async () => {
    const kv = await new Kvm(nc).create('rxwal_checkpoints_bad');
    await kv.put('consumer.a', 'not a checkpoint');
    await expect(kvCheckpointStore(kv, 'consumer.a').load()).rejects.toThrow(ConfigError);
  });

  test('bad arguments name what was wrong', async () => {
    const kv = await new Kvm(nc).create('rxwal_checkpoints_args');
    expect(() => kvCheckpointStore(kv, 'bad key')).toThrow(/invalid key/);
    expect(() => kvCheckpointStore(kv, '.k')).toThrow(/invalid key/);
    expect(() => kvCheckpointStore(null as never, 'k')).toThrow(ConfigError);
    expect(() => kvCheckpointStore({} as never, 'k')).toThrow(/invalid kv/);
  });
});
