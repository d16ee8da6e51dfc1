/**
 * The JetStream reader: its gap rule and the multi-subject filter decision as plain functions,
 * and against a real nats-server how it talks to the server (one consumer lookup per consumer,
 * pull requests bounded by twice `readBatchSize`), observed by a second connection subscribed to
 * the JetStream API subjects (JetStream API requests are ordinary messages of the account).
 *
 * nats-server 2.9.10, the only one these machines have, has no multi-subject filters: what a
 * newer server would get is checked on the captured consumer configuration (a connection that
 * announces 2.10.0), and the filtered reader's gap and stall rules run against 2.9's
 * single-subject filter, which skips stream sequences the same way.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { asyncScheduler } from 'rxjs';

import type { WalMessage } from '../../lib/message/message.js';
import { channelSubjects, type JetStreamWal } from '../../lib/nats/index.js';
import {
  classifyDelivery,
  JetStreamReader,
  type ReaderContext,
} from '../../lib/nats/jetStreamReader.js';
import { loadNatsModules } from '../../lib/nats/modules.js';
import { hintedSubjects, supportsMultiSubjectFilters } from '../../lib/nats/subjects.js';
import { silentLogger } from '../../lib/observability/logger.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { rawPayloadCodec } from '../../lib/wire/payloadCodec.js';
import { describeWithNats, PASSWORD, USER } from './support/natsServer.js';
import { ApiSpy } from './support/apiSpy.js';
import { walsOnOneServer } from './support/walsOnServer.js';

jest.setTimeout(30_000);

const payload = new Uint8Array([1, 2, 3]);

/** Appends `count` messages over `vchannels`, 100 in flight at a time; the appended messages. */
async function fill(
  wal: JetStreamWal,
  count: number,
  vchannels: readonly string[],
): Promise<WalMessage[]> {
  const appended: WalMessage[] = [];
  for (let i = 0; i < count; i += 100) {
    const window: Promise<WalMessage>[] = [];
    for (let j = i; j < Math.min(count, i + 100); j++) {
      const vchannel = vchannels[j % vchannels.length] as string;
      window.push(wal.append({ type: 'Insert', vchannel, payload }));
    }
    appended.push(...(await Promise.all(window)));
  }
  return appended;
}

/** Reads until the message with id `last` (inclusive). */
async function readThrough(reader: JetStreamReader, last: bigint): Promise<WalMessage[]> {
  const seen: WalMessage[] = [];
  while (seen.length === 0 || BigInt((seen.at(-1) as WalMessage).id.key) < last) {
    seen.push(...(await reader.next()));
  }
  return seen;
}

describe('multi-subject filters', () => {
  test('are used from nats-server 2.10.0 on (a pre-release suffix ignored, as the client does)', () => {
    const versions = ['2.9.10', '2.9.99', '2.10.0', '2.10.0-RC.1', '2.10.22', '2.11.3', '3.0.0'];
    expect(versions.map(supportsMultiSubjectFilters)).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(supportsMultiSubjectFilters(undefined)).toBe(false);
    expect(supportsMultiSubjectFilters('unknown')).toBe(false);
  });

  test("a hinted reader reads its vchannel's, the broadcasts' and the ticks' subjects", () => {
    const subjects = channelSubjects('p0');
    expect(hintedSubjects(subjects, 'v 1', '2.10.0')).toEqual([
      'rxwal.p0.v.v=201',
      'rxwal.p0.b',
      'rxwal.p0.t',
    ]);
    expect(hintedSubjects(subjects, '', '2.10.0')).toBeUndefined(); // every vchannel
    expect(hintedSubjects(subjects, 'v1', '2.9.10')).toBeUndefined(); // filterVChannel does it
  });
});

describe('the gap rule', () => {
  const at = (nextSequence: bigint, filtered: boolean, lastDelivery = 3, fresh = false) => ({
    nextSequence,
    fresh,
    filtered,
    lastDelivery,
  });

  test('unfiltered: the next stream sequence is taken, a higher one is a gap unless the consumer is fresh', () => {
    expect(classifyDelivery(at(10n, false), 10n, 4)).toBe('take');
    expect(classifyDelivery(at(10n, false), 12n, 4)).toBe('gap');
    expect(classifyDelivery(at(10n, false, 0, true), 12n, 1)).toBe('take');
    expect(classifyDelivery(at(10n, false), 9n, 4)).toBe('stale');
  });

  test('filtered: stream sequences may skip; the delivery sequence may not', () => {
    expect(classifyDelivery(at(10n, true), 17n, 4)).toBe('take');
    expect(classifyDelivery(at(10n, true), 10n, 5)).toBe('gap');
    expect(classifyDelivery(at(10n, true), 17n, 3)).toBe('gap'); // a repeated delivery
    expect(classifyDelivery(at(10n, true, 0, true), 40n, 1)).toBe('take');
    expect(classifyDelivery(at(10n, true), 9n, 4)).toBe('stale');
  });
});

describeWithNats('JetStreamReader on one nats-server', () => {
  const nats = walsOnOneServer('reader');
  const open = (channel: string, readBatchSize?: number): Promise<JetStreamWal> =>
    nats.open(channel, readBatchSize === undefined ? {} : { readBatchSize });

  test('looks its consumer up once, not per fetch, and never asks for more than twice readBatchSize', async () => {
    const wal = await open('lookups', 100);
    await fill(wal, 1000, ['v0', 'v1']);
    const last = BigInt((await wal.syncTimeTick({ persisted: true })).id.key);
    const spy = await ApiSpy.start(nats.server(), wal.stream);
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

describeWithNats('a filtered JetStreamReader on nats-server 2.9', () => {
  const nats = walsOnOneServer('filtered');
  const open = (channel: string, connection?: NatsConnection): Promise<JetStreamWal> =>
    nats.open(channel, connection === undefined ? {} : { connection });

  test('a server announcing 2.10.0 gets filter_subjects; a refusal falls back to the whole stream', async () => {
    const nc = await connect({ servers: nats.server().url, user: USER, pass: PASSWORD });
    // the same connection, announcing a newer server (the client's own checks still see 2.9.10)
    const newer = new Proxy(nc, {
      get(target, property) {
        if (property === 'info') return { ...target.info, version: '2.10.0' };
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    try {
      const wal = await open('announced', newer);
      await fill(wal, 30, ['v0', 'v1', '']);
      const last = BigInt((await wal.syncTimeTick({ persisted: true })).id.key);
      const subjects = channelSubjects('announced');
      const hinted = wal.read(DeliverPolicy.all(), { vchannel: 'v1' }) as JetStreamReader;
      expect(hinted.consumerConfig(7n)).toMatchObject({
        filter_subjects: [subjects.vchannel('v1'), subjects.broadcast, subjects.timeTick],
        opt_start_seq: 7,
      });
      expect(hinted.consumerConfig(7n)).not.toHaveProperty('filter_subject');
      const everything = wal.read(DeliverPolicy.all()) as JetStreamReader;
      expect(everything.consumerConfig(7n)).not.toHaveProperty('filter_subjects');
      everything.close();
      // 2.9.10 cannot: the client refuses filter_subjects, and the reader reads everything
      const seen = await readThrough(hinted, last);
      hinted.close();
      expect(hinted.filtered).toBe(false);
      expect(seen.map((m) => Number(m.id.key))).toEqual(
        Array.from({ length: Number(last) }, (_, i) => i + 1),
      );
    } finally {
      await nc.close();
    }
  });

  test('stream-sequence gaps of a filter are no gaps, and an empty fetch over other subjects is no stall', async () => {
    const wal = await open('gaps');
    const appended = await fill(wal, 40, ['v0', 'v1', 'v2', 'v3']);
    const subject = channelSubjects('gaps').vchannel('v1');
    const modules = await loadNatsModules();
    const jsm = await jetstreamManager(wal.connection);
    const context: ReaderContext = {
      modules,
      js: jetstream(wal.connection),
      jsm,
      stream: wal.stream,
      codec: rawPayloadCodec,
      batchSize: 3, // fetches end between the gaps and across them
      watchdogMs: 1000,
      scheduler: asyncScheduler,
      logger: silentLogger(),
      release: () => undefined,
    };
    const spy = await ApiSpy.start(nats.server(), wal.stream);
    const reader = new JetStreamReader(context, { sequence: 1n }, DeliverPolicy.all(), [subject]);
    try {
      const seen: WalMessage[] = [];
      while (seen.length < 10) seen.push(...(await reader.next()));
      expect(seen.map((m) => m.vchannel)).toEqual(Array<string>(10).fill('v1'));
      const v1 = appended.filter((m) => m.vchannel === 'v1').map((m) => m.id.key);
      expect(seen.map((m) => m.id.key)).toEqual(v1); // every fourth stream sequence
      expect(reader.recreated).toBe(1); // no gap was seen in the skipped sequences
      // the stream grows by other subjects only: the next fetch ends empty, the watchdog asks
      // the consumer (its second INFO request after the lookup) and finds nothing pending
      await fill(wal, 8, ['v0', 'v2']);
      await spy.until('INFO', 2);
      const later = await wal.append({ type: 'Insert', vchannel: 'v1', payload });
      const [next] = await reader.next();
      expect(next?.id.key).toBe(later.id.key);
      expect(reader.recreated).toBe(1);
      expect(spy.of('DELETE')).toHaveLength(0);
    } finally {
      reader.close();
      await spy.stop();
    }
  });
});
