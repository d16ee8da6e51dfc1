/**
 * rxwal/nats against one real nats-server (JetStream, user/password authentication) started by
 * the harness on a free loopback port: deliver policies, filters, transactions, tailing in the
 * writer's process, catch-up from another connection, bad credentials, fencing of a second
 * writer, a batch cut by a refusal, and the KV pause switch.
 */
import { DiscardPolicy, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { firstValueFrom, filter, take, toArray, type Observable } from 'rxjs';

import { ConfigError, FencedError, WalError } from '../../lib/errors.js';
import { isTxnMessage, type WalMessage } from '../../lib/message/message.js';
import { createInMemoryMetrics } from '../../lib/observability/metrics.js';
import { DeliverFilter } from '../../lib/options/deliverFilter.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import {
  channelSubjects,
  escapeSubjectToken,
  openJetStreamWal,
  pauseFromKv,
  type JetStreamWal,
  type JetStreamWalOptions,
} from '../../lib/nats/index.js';
import {
  describeWithNats,
  PASSWORD,
  startNatsServer,
  USER,
  type NatsServer,
} from './support/natsServer.js';

jest.setTimeout(30_000);

const data = (m: WalMessage): boolean => m.type !== 'TimeTick';
const label = (m: WalMessage): string =>
  isTxnMessage(m)
    ? `Txn[${m.body.map((b) => Buffer.from(b.payload as Uint8Array).toString()).join(',')}]`
    : `${m.type}:${m.vchannel}:${Buffer.from((m.payload ?? new Uint8Array()) as Uint8Array).toString()}`;
const bytes = (s: string): Uint8Array => Buffer.from(s);

function firstN(source: Observable<WalMessage>, n: number): Promise<WalMessage[]> {
  return firstValueFrom(source.pipe(filter(data), take(n), toArray()));
}

describe('subject mapping', () => {
  test('escapes dots, spaces, wildcards, = and non-ASCII into one token', () => {
    expect(escapeSubjectToken('v1_ok-2')).toBe('v1_ok-2');
    expect(escapeSubjectToken('a.b c*>=')).toBe('a=2Eb=20c=2A=3E=3D');
    expect(escapeSubjectToken('é')).toBe('=C3=A9');
    expect(escapeSubjectToken('')).toBe('=');
    const s = channelSubjects('p.0');
    expect([s.stream, s.filter, s.timeTick, s.broadcast, s.vchannel('v 1')]).toEqual([
      'RXWAL_p=2E0',
      'rxwal.p=2E0.>',
      'rxwal.p=2E0.t',
      'rxwal.p=2E0.b',
      'rxwal.p=2E0.v.v=201',
    ]);
    expect(() => channelSubjects('')).toThrow(ConfigError);
  });
});

describeWithNats('openJetStreamWal on one authenticated nats-server', () => {
  let server: NatsServer;
  let options: (channel: string) => JetStreamWalOptions;
  const opened: JetStreamWal[] = [];
  const open = async (o: JetStreamWalOptions): Promise<JetStreamWal> => {
    const wal = await openJetStreamWal(o);
    opened.push(wal);
    return wal;
  };

  beforeAll(async () => {
    server = await startNatsServer();
    options = (channel) => ({
      channel,
      servers: server.url,
      connectOptions: { user: USER, pass: PASSWORD },
      timeTickInterval: '50ms',
    });
  });
  afterAll(async () => {
    for (const wal of opened) await wal.close().catch(() => undefined);
    await server.dispose();
  });

  test('every deliver policy maps onto a consumer start position', async () => {
    const wal = await open(options('policies'));
    const written: WalMessage[] = [];
    for (const p of ['a', 'b', 'c']) {
      written.push(await wal.append({ type: 'Insert', vchannel: 'v1', payload: bytes(p) }));
    }
    const [a, b] = written as [WalMessage, WalMessage];
    const firstOf = async (policy: DeliverPolicy): Promise<string> => {
      const reader = wal.read(policy);
      const [m] = await reader.next(1);
      reader.close();
      return `${m?.id.key} ${m?.type}`;
    };
    expect(await firstOf(DeliverPolicy.all())).toBe('1 TimeTick');
    expect(await firstOf(DeliverPolicy.startFrom(b.id))).toBe(`${b.id.key} Insert`);
    // right after a: its successor in the stream (a time tick may have been written in between)
    expect((await firstOf(DeliverPolicy.startAfter(a.id))).split(' ')[0]).toBe(
      String(Number(a.id.key) + 1),
    );
    // latest() is resolved when the reader is created: it sees only what comes after
    const reader = wal.read(DeliverPolicy.latest());
    await wal.syncTimeTick({ persisted: true });
    const d = await wal.append({ type: 'Insert', vchannel: 'v1', payload: bytes('d') });
    const seen: WalMessage[] = [];
    while (!seen.some((m) => m.id.key === d.id.key)) seen.push(...(await reader.next()));
    reader.close();
    expect(seen.every((m) => m.id.compare((written[2] as WalMessage).id) > 0)).toBe(true);
    await expect(reader.next()).rejects.toThrow('closed');
  });

  test('a scanner filters by vchannel and message type, and delivers transactions at their commit', async () => {
    const wal = await open(options('txns'));
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: bytes('1') });
    await wal.append({ type: 'Delete', vchannel: 'v1', payload: bytes('2') });
    await wal.append({ type: 'Insert', vchannel: 'v2', payload: bytes('other') });
    const committed = await wal.beginTxn({ vchannel: 'v1' });
    await committed.append({ type: 'Insert', payload: bytes('t1') });
    await committed.append({ type: 'Insert', payload: bytes('t2') });
    await committed.commit();
    const rolledBack = await wal.beginTxn({ vchannel: 'v1' });
    await rolledBack.append({ type: 'Insert', payload: bytes('gone') });
    await rolledBack.rollback();
    const expiring = await wal.beginTxn({ vchannel: 'v1', keepalive: '100ms' });
    await expiring.append({ type: 'Insert', payload: bytes('expired') });
    await new Promise((resolve) => setTimeout(resolve, 300)); // the keepalive passes (wall clock)
    await expect(expiring.commit()).rejects.toThrow('expired');
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: bytes('last') });

    const reader = await open({ ...options('txns'), readOnly: true });
    expect(reader.accessMode).toBe('ro');
    expect((await firstN(scanWal(reader, { vchannel: 'v1' }), 4)).map(label)).toEqual([
      'Insert:v1:1',
      'Delete:v1:2',
      'Txn[t1,t2]',
      'Insert:v1:last',
    ]);
    const deletesAndOthers = scanWal(reader, {
      filters: [DeliverFilter.messageType('Delete', 'Insert')],
    });
    expect((await firstN(deletesAndOthers, 5)).map(label)).toEqual([
      'Insert:v1:1',
      'Delete:v1:2',
      'Insert:v2:other',
      'Txn[t1,t2]',
      'Insert:v1:last',
    ]);
  });

  test("the writer's process tails its write-ahead buffer; another connection catches up and follows", async () => {
    const wal = await open(options('tail'));
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: bytes('before') });
    const metrics = createInMemoryMetrics();
    const local: WalMessage[] = [];
    const localScan = scanWal(wal, { vchannel: 'v1', metrics })
      .pipe(filter(data))
      .subscribe((m) => local.push(m));
    const follower = await open({ ...options('tail'), readOnly: true });
    const remote = firstN(scanWal(follower, { vchannel: 'v1' }), 4);
    // wait until the local scanner has switched to tailing, then write more
    while (metrics.snapshot().scanners.tailing === 0) await new Promise((r) => setTimeout(r, 20));
    for (const p of ['x', 'y', 'z'])
      await wal.append({ type: 'Insert', vchannel: 'v1', payload: bytes(p) });
    expect((await remote).map(label)).toEqual([
      'Insert:v1:before',
      'Insert:v1:x',
      'Insert:v1:y',
      'Insert:v1:z',
    ]);
    while (local.length < 4) await new Promise((r) => setTimeout(r, 20));
    localScan.unsubscribe();
    expect(local.map(label)).toEqual([
      'Insert:v1:before',
      'Insert:v1:x',
      'Insert:v1:y',
      'Insert:v1:z',
    ]);
  });

  test('a wrong password and an unreachable server fail the open within the bound', async () => {
    const started = Date.now();
    const wrong = openJetStreamWal({
      channel: 'p0',
      servers: server.url,
      connectOptions: { user: USER, pass: 'wrong' },
    });
    await expect(wrong).rejects.toThrow(WalError);
    await expect(wrong).rejects.toThrow(
      /cannot connect to nats:\/\/127\.0\.0\.1:\d+: .*Authorization/i,
    );
    const unreachable = openJetStreamWal({
      channel: 'p0',
      servers: 'nats://127.0.0.1:1',
      connectOptions: { timeout: 1000 },
    });
    await expect(unreachable).rejects.toMatchObject({ code: 'NATS_CONNECT' });
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(openJetStreamWal({ channel: 'p0' })).rejects.toThrow(ConfigError);
    await expect(openJetStreamWal({ ...options('missing'), readOnly: true })).rejects.toThrow(
      /has no stream RXWAL_missing/,
    );
  });

  test('a second writer is fenced: it gets FencedError and stops, the first goes on', async () => {
    const first = await open(options('fenced'));
    await first.append({ type: 'Insert', vchannel: 'v1', payload: bytes('1') });
    const second = await open(options('fenced'));
    await first.append({ type: 'Insert', vchannel: 'v1', payload: bytes('2') });
    await expect(
      second.append({ type: 'Insert', vchannel: 'v1', payload: bytes('intruder') }),
    ).rejects.toThrow(FencedError);
    await expect(second.append({ type: 'Insert', vchannel: 'v1' })).rejects.toThrow(FencedError);
    await first.append({ type: 'Insert', vchannel: 'v1', payload: bytes('3') });
    const reader = await open({ ...options('fenced'), readOnly: true });
    expect((await firstN(scanWal(reader), 3)).map(label)).toEqual([
      'Insert:v1:1',
      'Insert:v1:2',
      'Insert:v1:3',
    ]);
  });

  test('pauseFromKv holds two scanners and one write releases both', async () => {
    const kvOptions = {
      servers: server.url,
      connectOptions: { user: USER, pass: PASSWORD },
      bucket: 'rxwal_pause',
      key: 'pause',
    };
    const wal = await open(options('paused'));
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: bytes('held') });
    const switchA = await pauseFromKv(kvOptions);
    expect(switchA.value).toBe(false); // no key: not paused
    const kv = await new Kvm(wal.connection).open('rxwal_pause');
    await kv.put('pause', '{"pauseConsumption": true}');
    while (switchA.value !== true) await new Promise((r) => setTimeout(r, 20));
    const switchB = await pauseFromKv(kvOptions);
    expect(switchB.value).toBe(true);
    const seenA: WalMessage[] = [];
    const seenB: WalMessage[] = [];
    const a = scanWal(wal, { pause$: switchA })
      .pipe(filter(data))
      .subscribe((m) => seenA.push(m));
    const b = scanWal(wal, { pause$: switchB })
      .pipe(filter(data))
      .subscribe((m) => seenB.push(m));
    await kv.put('pause', 'not json');
    await new Promise((r) => setTimeout(r, 300));
    expect([seenA.length, seenB.length, switchA.value, switchB.value]).toEqual([0, 0, true, true]);
    await kv.put('pause', '{"pauseConsumption": false}');
    while (seenA.length === 0 || seenB.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect([seenA, seenB].map((s) => s.map(label))).toEqual([
      ['Insert:v1:held'],
      ['Insert:v1:held'],
    ]);
    await kv.put('pause', '{"pauseConsumption": true}');
    while (!switchA.value) await new Promise((r) => setTimeout(r, 20));
    await kv.delete('pause');
    while (switchA.value) await new Promise((r) => setTimeout(r, 20));
    a.unsubscribe();
    b.unsubscribe();
    await switchA.close();
    await switchB.close();
    expect(switchA.isStopped).toBe(true);
  });

  test('the reader watchdog recreates a lost consumer right after the last sequence it handed over', async () => {
    const wal = await open({ ...options('watchdog'), readerWatchdog: '1s' });
    for (const p of ['a', 'b'])
      await wal.append({ type: 'Insert', vchannel: 'v1', payload: bytes(p) });
    const reader = wal.read(DeliverPolicy.all());
    const seen: WalMessage[] = [];
    while (seen.length < 3) seen.push(...(await reader.next()));
    const jsm = await jetstreamManager(wal.connection);
    // the consumer disappears under the reader (as after a stream-leader kill)
    for await (const c of jsm.consumers.list(wal.stream))
      await jsm.consumers.delete(wal.stream, c.name);
    for (const p of ['c', 'd'])
      await wal.append({ type: 'Insert', vchannel: 'v1', payload: bytes(p) });
    const last = await wal.syncTimeTick({ persisted: true });
    while (!seen.some((m) => m.id.key === last.id.key)) seen.push(...(await reader.next()));
    reader.close();
    const ids = seen.map((m) => Number(m.id.key));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1)); // no gap, no duplicate
  });

  test('a batch cut by a refusal leaves a prefix that scanners deliver safely, and the writer stops', async () => {
    const wal = await open(options('cut'));
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: bytes('before') });
    const jsm = await jetstreamManager(wal.connection);
    const info = await jsm.streams.info(wal.stream);
    // room for three more messages: the batch below is cut after its third
    await jsm.streams.update(wal.stream, {
      ...info.config,
      max_msgs: info.state.messages + 3,
      discard: DiscardPolicy.New,
    });
    const txn = await wal.beginTxn({ vchannel: 'v1', keepalive: '1s' });
    const batch = [
      wal.append({ type: 'Insert', vchannel: 'v1', payload: bytes('p1') }),
      txn.append({ type: 'Insert', payload: bytes('in-txn') }),
      wal.append({ type: 'Insert', vchannel: 'v1', payload: bytes('lost') }),
      txn.commit(),
    ];
    const outcomes = await Promise.allSettled(batch);
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    await expect(wal.append({ type: 'Insert', vchannel: 'v1' })).rejects.toThrow(FencedError);
    await jsm.streams.update(wal.stream, { ...info.config, max_msgs: -1 });
    // a new writer takes over; its first time tick releases the prefix
    const next = await open(options('cut'));
    await next.append({ type: 'Insert', vchannel: 'v1', payload: bytes('after') });
    const reader = await open({ ...options('cut'), readOnly: true });
    // the prefix's plain append is delivered once; the transaction never committed: nothing of it
    expect((await firstN(scanWal(reader, { vchannel: 'v1' }), 3)).map(label)).toEqual([
      'Insert:v1:before',
      'Insert:v1:p1',
      'Insert:v1:after',
    ]);
  });
});
