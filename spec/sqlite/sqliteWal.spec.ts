import { existsSync, writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';

import {
  ClosedError,
  ConfigError,
  CorruptRecordError,
  FencedError,
  InvalidMessageError,
} from '../../lib/errors.js';
import { MessageType, type WalMessage } from '../../lib/message/message.js';
import { messageId } from '../../lib/message/messageId.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import {
  DEFAULT_SQLITE_READ_BATCH,
  jsonPayloadCodec,
  openSqliteWal,
  SQLITE_SCHEMA_VERSION,
  sqliteWalStats,
  type PayloadCodec,
  type SqliteWal,
  type SqliteWalOptions,
} from '../../lib/sqlite/index.js';
import type { WalReader } from '../../lib/wal/wal.js';
import { settle, VirtualClock } from '../../lib/testing/index.js';
import { tempFiles } from './support/files.js';
import { watch } from '../support/promises.js';

const files = tempFiles();
afterAll(() => files.cleanup());

const open: SqliteWal[] = [];
afterEach(async () => {
  for (const wal of open.splice(0)) await wal.close();
});

async function openWal(path = files.path(), options: SqliteWalOptions = {}): Promise<SqliteWal> {
  const wal = await openSqliteWal(path, {
    channel: 'p0',
    scheduler: new VirtualClock().scheduler,
    synchronous: 'normal',
    ...options,
  });
  open.push(wal);
  return wal;
}

/** A raw log of `n` inserts with ticks 101, 102, … (ids 1..n), payload = the index as bytes. */
async function rawLog(n: number, path = files.path()): Promise<SqliteWal> {
  const wal = await openWal(path);
  for (let i = 1; i <= n; i++)
    wal.appendRaw({
      type: MessageType.Insert,
      timeTick: 100 + i,
      vchannel: 'v1',
      payload: Buffer.from(String(i)),
    });
  return wal;
}

const keys = (batch: readonly WalMessage[]): string[] => batch.map((m) => m.id.key);
const payloads = (batch: readonly WalMessage[]): string[] => batch.map((m) => String(m.payload));

describe('openSqliteWal', () => {
  describe('read(policy) positions', () => {
    it('all() starts at the first message', async () => {
      const reader = (await rawLog(3)).read(DeliverPolicy.all());
      expect(keys(await reader.next())).toEqual(['1', '2', '3']);
      expect(reader.resolvedPolicy).toEqual(DeliverPolicy.all());
    });

    it('startFrom(id) includes the id, startAfter(id) excludes it', async () => {
      const wal = await rawLog(5);
      const from = async (policy: DeliverPolicy): Promise<string[]> =>
        keys(await wal.read(policy).next());
      expect(await from(DeliverPolicy.startFrom(messageId(3)))).toEqual(['3', '4', '5']);
      expect(await from(DeliverPolicy.startAfter(messageId(3)))).toEqual(['4', '5']);
      expect(await from(DeliverPolicy.startFrom(messageId(0)))).toEqual(['1', '2', '3', '4', '5']);
      expect(await from(DeliverPolicy.startAfter(messageId(0)))).toEqual(['1', '2', '3', '4', '5']);
    });

    it('a position past the largest row id (2^63 − 1) waits instead of failing the read', async () => {
      const wal = await rawLog(2);
      const after = watch(wal.read(DeliverPolicy.startAfter(messageId(2n ** 63n))).next());
      const from = watch(wal.read(DeliverPolicy.startFrom(messageId(2n ** 64n - 1n))).next());
      await settle();
      expect(after.state).toBe('pending');
      expect(from.state).toBe('pending');
    });

    it('startFrom/startAfter beyond the end wait for the next message', async () => {
      const wal = await rawLog(2);
      const from = watch(wal.read(DeliverPolicy.startFrom(messageId(9))).next());
      const after = watch(wal.read(DeliverPolicy.startAfter(messageId(2))).next());
      await settle();
      expect(from.state).toBe('pending');
      expect(after.state).toBe('pending');
      wal.appendRaw({ type: MessageType.Insert, timeTick: 200 });
      await settle();
      expect(from.state).toBe('pending'); // id 3 is still before 9
      expect(keys(after.value ?? [])).toEqual(['3']);
      wal.appendRaw({ id: 9, type: MessageType.Insert, timeTick: 201 });
      await settle();
      expect(keys(from.value ?? [])).toEqual(['9']);
    });

    it('latest() sees only later messages and resolves to startAfter(last id)', async () => {
      const wal = await rawLog(3);
      const reader = wal.read(DeliverPolicy.latest());
      expect(reader.resolvedPolicy).toEqual(DeliverPolicy.startAfter(messageId(3)));
      const next = watch(reader.next());
      await settle();
      expect(next.state).toBe('pending');
      wal.appendRaw({ type: MessageType.Insert, timeTick: 300 });
      await settle();
      expect(keys(next.value ?? [])).toEqual(['4']);
    });

    it('latest() on an empty log resolves to all()', async () => {
      const wal = await openWal();
      expect(wal.read(DeliverPolicy.latest()).resolvedPolicy).toEqual(DeliverPolicy.all());
    });

    it('rejects a bad policy or a foreign id with ConfigError', async () => {
      const wal = await rawLog(1);
      expect(() => wal.read({ kind: 'sometime' } as unknown as DeliverPolicy)).toThrow(ConfigError);
      const foreign = { key: 'x', compare: () => 0, toString: () => 'x' };
      expect(() => wal.read(DeliverPolicy.startFrom(foreign))).toThrow(ConfigError);
    });
  });

  describe('reader next(max)', () => {
    it('returns batches of at most max messages, 256 by default, decoded from the rows', async () => {
      const wal = await rawLog(600);
      const reader = wal.read(DeliverPolicy.all());
      expect(DEFAULT_SQLITE_READ_BATCH).toBe(256);
      expect(payloads(await reader.next(2))).toEqual(['1', '2']);
      expect(await reader.next()).toHaveLength(256);
      expect(keys(await reader.next(1))).toEqual(['259']);
      expect(await reader.next(1000)).toHaveLength(341);
    });

    it('readBatchSize sets the default batch', async () => {
      const path = files.path();
      await (await rawLog(10, path)).close();
      const wal = await openWal(path, { readBatchSize: 4 });
      expect(keys(await wal.read(DeliverPolicy.all()).next())).toEqual(['1', '2', '3', '4']);
    });

    it('waits for writes and returns what one write brought', async () => {
      const wal = await rawLog(0);
      const reader = wal.read(DeliverPolicy.all());
      const next = watch(reader.next(10));
      await settle();
      expect(next.state).toBe('pending');
      wal.appendRaw({ type: MessageType.Insert, timeTick: 1 });
      wal.appendRaw({ type: MessageType.Insert, timeTick: 2 });
      await settle();
      expect(keys(next.value ?? [])).toEqual(['1', '2']);
    });

    it.each([0, -1, 1.5, Number.NaN])('rejects next(%p) with ConfigError', async (max) => {
      await expect((await rawLog(1)).read(DeliverPolicy.all()).next(max)).rejects.toBeInstanceOf(
        ConfigError,
      );
    });

    it('close() rejects a waiting next() with ClosedError and releases its waiter', async () => {
      const wal = await rawLog(1);
      const reader = wal.read(DeliverPolicy.startAfter(messageId(1)));
      const pending = reader.next();
      await settle();
      reader.close();
      await expect(pending).rejects.toBeInstanceOf(ClosedError);
      const other = wal.read(DeliverPolicy.startAfter(messageId(1)));
      const otherNext = watch(other.next());
      wal.appendRaw({ type: MessageType.Insert, timeTick: 500 });
      await settle();
      expect(keys(otherNext.value ?? [])).toEqual(['2']);
      await expect(reader.next()).rejects.toBeInstanceOf(ClosedError);
    });

    it('closing the WAL ends waiting and idle readers with ClosedError', async () => {
      const wal = await rawLog(1);
      const drained = wal.read(DeliverPolicy.all());
      const behind = wal.read(DeliverPolicy.all());
      expect(keys(await drained.next())).toEqual(['1']);
      const waiting = drained.next();
      await settle();
      await wal.close();
      await expect(waiting).rejects.toBeInstanceOf(ClosedError);
      // the file is closed: unlike the memory WAL, nothing more can be read from it
      await expect(behind.next()).rejects.toBeInstanceOf(ClosedError);
      expect(() => wal.read(DeliverPolicy.all())).toThrow(ClosedError);
    });

    it('a damaged row: the reader returns the rows before it, then rejects CorruptRecordError naming the row', async () => {
      const path = files.path();
      const wal = await rawLog(4, path);
      const other = new Database(path);
      other.prepare('UPDATE rxwal_log SET record = ? WHERE id = 3').run(Buffer.from('garbage'));
      other.close();
      const reader = wal.read(DeliverPolicy.all());
      expect(keys(await reader.next())).toEqual(['1', '2']);
      const error: unknown = await reader.next().catch((err: unknown) => err);
      expect(error).toBeInstanceOf(CorruptRecordError);
      expect((error as CorruptRecordError).record).toBe('3');
      // a row that is not even a blob
      const again = new Database(path);
      again.prepare("UPDATE rxwal_log SET record = 'text' WHERE id = 1").run();
      again.close();
      await expect(wal.read(DeliverPolicy.all()).next()).rejects.toThrow(/record 1: .*not bytes/);
    });

    it('a damaged row ends a scanner with CorruptRecordError', async () => {
      const path = files.path();
      const wal = await rawLog(3, path);
      wal.appendRaw({ type: MessageType.TimeTick, timeTick: 200 });
      const other = new Database(path);
      const record = other
        .prepare('SELECT record FROM rxwal_log WHERE id = 2')
        .pluck()
        .get() as Buffer;
      record[10] = (record[10] as number) ^ 1;
      other.prepare('UPDATE rxwal_log SET record = ? WHERE id = 2').run(record);
      other.close();
      const clock = new VirtualClock();
      const errors: unknown[] = [];
      const seen: string[] = [];
      scanWal(wal, { scheduler: clock.scheduler }).subscribe({
        next: (m) => seen.push(m.id.key),
        error: (err: unknown) => errors.push(err),
      });
      await clock.advance(10);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(CorruptRecordError);
      expect((errors[0] as CorruptRecordError).record).toBe('2');
      expect(seen).toEqual([]); // nothing was released: no time tick got through
    });
  });

  describe('appendRaw', () => {
    it('stores messages exactly as given: out-of-order ticks, earlier lastConfirmedIds, sizes', async () => {
      const wal = await openWal();
      const given: WalMessage[] = [
        wal.appendRaw({ type: MessageType.TimeTick, timeTick: 100 }),
        wal.appendRaw({
          type: MessageType.Insert,
          timeTick: 105,
          vchannel: 'v1',
          payload: Buffer.from('x'),
        }),
        wal.appendRaw({
          type: MessageType.Insert,
          timeTick: 102,
          vchannel: 'v2',
          lastConfirmedId: 1,
        }),
        wal.appendRaw({
          type: MessageType.Delete,
          timeTick: 99,
          lastConfirmedId: 2,
          properties: { a: 'b', ключ: '🚀' },
          size: 3,
        }),
        wal.appendRaw({
          type: MessageType.BeginTxn,
          timeTick: 110,
          vchannel: 'v1',
          txn: { txnId: 110, keepalive: Infinity },
        }),
        wal.appendRaw({ type: MessageType.TimeTick, timeTick: (1n << 64n) - 1n }),
      ];
      expect(keys(given)).toEqual(['1', '2', '3', '4', '5', '6']);
      const read = await wal.read(DeliverPolicy.all()).next();
      expect(read).toEqual(given);
      expect(read[4]?.txn).toEqual({ txnId: 110n, keepaliveMs: Infinity });
      expect(wal.writeAheadBuffer).toBeUndefined();
    });

    it('refuses what would break an invariant scanners rely on, keeping what it already holds', async () => {
      const wal = await openWal();
      const first = wal.appendRaw({ type: MessageType.Insert, timeTick: 5 });
      expect(() =>
        wal.appendRaw({ type: MessageType.Insert, timeTick: 6, lastConfirmedId: 9 }),
      ).toThrow(/appendRaw lastConfirmedId/);
      expect(() =>
        wal.appendRaw({ type: MessageType.TimeTick, timeTick: 7, persisted: false }),
      ).toThrow(/appendRaw persisted/);
      expect(() => wal.appendRaw({ id: 1, type: MessageType.Insert, timeTick: 8 })).toThrow(
        /appendRaw id/,
      );
      expect(() =>
        wal.appendRaw({ type: MessageType.Insert, timeTick: 8, payload: 'not bytes' }),
      ).toThrow(InvalidMessageError);
      expect(() => wal.appendRaw({ type: '', timeTick: 1 })).toThrow(InvalidMessageError);
      expect(() => wal.appendRaw(null as unknown as { type: string; timeTick: number })).toThrow(
        ConfigError,
      );
      expect(await wal.read(DeliverPolicy.all()).next()).toEqual([first]);
      expect(wal.appendRaw({ type: MessageType.Insert, timeTick: 9 }).id.key).toBe('2');
    });

    it('keeps given ids: sparse ids above the last one (rows are unique: no duplicates)', async () => {
      const wal = await openWal();
      const stored = [10, 20, 31].map((id, i) =>
        wal.appendRaw({ id, type: MessageType.Insert, timeTick: 100 + i }),
      );
      expect(keys(stored)).toEqual(['10', '20', '31']);
      expect(() => wal.appendRaw({ id: 31, type: MessageType.Insert, timeTick: 1 })).toThrow(
        ConfigError,
      );
      expect(() => wal.appendRaw({ id: 1n << 63n, type: MessageType.Insert, timeTick: 1 })).toThrow(
        /below 2\^63/,
      );
      expect(wal.appendRaw({ type: MessageType.Insert, timeTick: 200 }).id.key).toBe('32');
      const from = async (policy: DeliverPolicy): Promise<number[]> =>
        (await wal.read(policy).next()).map((m) => Number(m.timeTick));
      expect(await from(DeliverPolicy.startFrom(messageId(15)))).toEqual([101, 102, 200]);
      expect(await from(DeliverPolicy.startAfter(messageId(20)))).toEqual([102, 200]);
    });

    it('after the writer was used throws ConfigError, also after reopening', async () => {
      const path = files.path();
      const wal = await openWal(path);
      await wal.append({ type: MessageType.Insert });
      expect(() => wal.appendRaw({ type: MessageType.Insert, timeTick: 1 })).toThrow(ConfigError);
      await wal.close();
      const again = await openWal(path);
      expect(() => again.appendRaw({ type: MessageType.Insert, timeTick: 1 })).toThrow(ConfigError);
    });

    it('makes the writer reject ConfigError afterwards, also after reopening', async () => {
      const path = files.path();
      const clock = new VirtualClock();
      const wal = await openWal(path, { scheduler: clock.scheduler });
      wal.appendRaw({ type: MessageType.Insert, timeTick: 1 });
      await expect(wal.append({ type: MessageType.Insert })).rejects.toBeInstanceOf(ConfigError);
      await expect(wal.beginTxn({ vchannel: 'v1' })).rejects.toBeInstanceOf(ConfigError);
      await expect(wal.syncTimeTick()).rejects.toBeInstanceOf(ConfigError);
      wal.requestPersistedTimeTick?.();
      await settle();
      expect(wal.writeAheadBuffer).toBeUndefined();
      expect(clock.pendingTimers).toBe(0);
      await wal.close();
      const again = await openWal(path);
      await expect(again.append({ type: MessageType.Insert })).rejects.toBeInstanceOf(ConfigError);
      expect((await again.read(DeliverPolicy.all()).next()).length).toBe(1);
    });

    it('throws ClosedError after close', async () => {
      const wal = await openWal();
      await wal.close();
      expect(() => wal.appendRaw({ type: MessageType.Insert, timeTick: 1 })).toThrow(ClosedError);
    });
  });

  describe('the writer', () => {
    it('stores what it acknowledges: reads give the same messages (payloads as Buffers)', async () => {
      const clock = new VirtualClock();
      const wal = await openWal(files.path(), { scheduler: clock.scheduler });
      const insert = await wal.append({
        type: MessageType.Insert,
        vchannel: 'v1',
        payload: Buffer.from('a'),
        properties: { k: 'v' },
      });
      const txn = await wal.beginTxn({ vchannel: 'v2', keepalive: Infinity });
      const body = await txn.append({ type: MessageType.Delete, payload: new Uint8Array([1, 2]) });
      const commit = await txn.commit();
      const tick = await wal.syncTimeTick();
      const read = await wal.read(DeliverPolicy.all()).next();
      expect(read.map((m) => m.type)).toEqual([
        MessageType.TimeTick, // the writer's first, persisted tick
        MessageType.Insert,
        MessageType.BeginTxn,
        MessageType.Delete,
        MessageType.CommitTxn,
        MessageType.TimeTick,
      ]);
      expect(read.slice(1)).toEqual([
        insert,
        txn.begin,
        { ...body, payload: Buffer.from([1, 2]) },
        commit,
        tick,
      ]);
      expect(body.txn).toEqual({ txnId: txn.txnId, keepaliveMs: Infinity });
      expect(body.lastConfirmedId).toEqual(txn.begin.id);
      expect(wal.writeAheadBuffer).toBeDefined();
    });

    it('one write batch is one SQLite transaction: concurrent appends share a commit', async () => {
      const path = files.path();
      const wal = await openWal(path);
      await wal.append({ type: MessageType.Insert }); // the writer's first tick and this
      const observer = new Database(path, { readonly: true });
      const version = observer.prepare('PRAGMA data_version').pluck();
      const count = observer.prepare('SELECT count(*) FROM rxwal_log').pluck();
      const before = version.get() as number;
      expect(count.get()).toBe(2);
      const writes = Array.from({ length: 5 }, () => wal.append({ type: MessageType.Insert }));
      await Promise.all(writes);
      expect(count.get()).toBe(7);
      expect(version.get()).toBe(before + 1);
      observer.close();
    });

    it('lands concurrent appends out of tick order with reorderConcurrentWrites', async () => {
      let seed = 7;
      const wal = await openWal(files.path(), {
        reorderConcurrentWrites: true,
        random: () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646,
      });
      const written = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          wal.append({ type: MessageType.Insert, payload: Buffer.from([i]) }),
        ),
      );
      const ticks = written.map((m) => m.timeTick);
      expect([...ticks].sort((a, b) => (a < b ? -1 : 1))).toEqual(ticks); // call order
      const read = (await wal.read(DeliverPolicy.all()).next(100)).slice(1);
      expect(read.map((m) => m.id.key)).toEqual(
        Array.from({ length: 20 }, (_, i) => String(i + 2)),
      );
      const readTicks = read.map((m) => m.timeTick);
      expect(readTicks).not.toEqual(ticks); // the log holds them out of tick order
      for (const m of read) expect(m.lastConfirmedId.key).toBe('2'); // the batch's first id
    });

    it('a payload the codec refuses rejects that append only, not its batch', async () => {
      const wal = await openWal();
      const results = await Promise.allSettled([
        wal.append({ type: MessageType.Insert, payload: Buffer.from('ok') }),
        wal.append({ type: MessageType.Insert, payload: { not: 'bytes' } }),
        wal.append({ type: MessageType.Insert, vchannel: 'v\uD800' }),
        wal.append({ type: MessageType.Insert, properties: { '\uDC00': 'x' } }),
      ]);
      expect(results.map((r) => r.status)).toEqual([
        'fulfilled',
        'rejected',
        'rejected',
        'rejected',
      ]);
      for (const r of results.slice(1))
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(InvalidMessageError);
      expect(keys(await wal.read(DeliverPolicy.all()).next())).toEqual(['1', '2']);
    });

    it('stores JSON payloads with jsonPayloadCodec, and the file remembers its codec', async () => {
      const path = files.path();
      const wal = await openWal(path, { payloadCodec: jsonPayloadCodec });
      await wal.append({ type: MessageType.Insert, payload: { pk: 1, name: 'ü' } });
      await wal.close();
      const again = await openWal(path); // the json codec is found by itself
      expect(again.payloadCodec).toBe(jsonPayloadCodec);
      const read = await again.read(DeliverPolicy.all()).next();
      expect(read[1]?.payload).toEqual({ pk: 1, name: 'ü' });
      await again.close();
      const other: PayloadCodec = { ...jsonPayloadCodec, name: 'other' };
      await expect(openWal(path, { payloadCodec: other })).rejects.toThrow(/payloadCodec/);
    });

    it('a custom codec is required to reopen a file created with it', async () => {
      const path = files.path();
      const upper: PayloadCodec<string> = {
        name: 'upper',
        encode: (s) => Buffer.from(s.toUpperCase()),
        decode: (b) => Buffer.from(b).toString(),
      };
      const wal = await openWal(path, { payloadCodec: upper as PayloadCodec });
      await wal.append({ type: MessageType.Insert, payload: 'abc' });
      await wal.close();
      await expect(openWal(path)).rejects.toThrow(/created with codec 'upper'/);
      const again = await openWal(path, { payloadCodec: upper as PayloadCodec });
      expect((await again.read(DeliverPolicy.all()).next())[1]?.payload).toBe('ABC');
    });

    it('reopening continues the ids and starts the clock past the newest tick', async () => {
      const path = files.path();
      const clock = new VirtualClock();
      const wal = await openWal(path, { scheduler: clock.scheduler });
      await wal.append({ type: MessageType.Insert });
      const last = await wal.syncTimeTick({ persisted: true });
      await wal.close();
      // a clock that went backwards (another machine, a restart at virtual time 0)
      const again = await openWal(path, { scheduler: new VirtualClock().scheduler });
      const next = await again.append({ type: MessageType.Insert });
      const read = await again.read(DeliverPolicy.startAfter(last.id)).next();
      expect(keys(read)).toEqual(['4', '5']); // the reopened writer's first tick, then the insert
      expect(next.id.key).toBe('5');
      for (const m of read) expect(m.timeTick).toBeGreaterThan(last.timeTick);
    });

    it('a second writer on the same file is fenced', async () => {
      const path = files.path();
      const first = await openWal(path);
      const second = await openWal(path);
      await first.append({ type: MessageType.Insert });
      await expect(second.append({ type: MessageType.Insert })).rejects.toBeInstanceOf(FencedError);
      expect(keys(await first.read(DeliverPolicy.all()).next())).toEqual(['1', '2']);
    });

    it('close() finishes accepted appends; later calls reject ClosedError', async () => {
      const wal = await openWal();
      const accepted = wal.append({ type: MessageType.Insert });
      const closing = wal.close();
      await expect(accepted).resolves.toMatchObject({ type: MessageType.Insert });
      await closing;
      await wal.close(); // idempotent
      await expect(wal.append({ type: MessageType.Insert })).rejects.toBeInstanceOf(ClosedError);
      await expect(wal.beginTxn({ vchannel: 'v1' })).rejects.toBeInstanceOf(ClosedError);
      await expect(wal.syncTimeTick()).rejects.toBeInstanceOf(ClosedError);
      expect(() => wal.read(DeliverPolicy.all())).toThrow(ClosedError);
      expect(() => wal.stats()).toThrow(ClosedError);
    });

    it('a transaction of a closed WAL rejects ClosedError', async () => {
      const wal = await openWal();
      const txn = await wal.beginTxn({ vchannel: 'v1' });
      await wal.close();
      await expect(txn.append({ type: MessageType.Insert })).rejects.toBeInstanceOf(ClosedError);
      await expect(txn.commit()).rejects.toBeInstanceOf(ClosedError);
    });
  });

  describe('readOnly() and read-only files', () => {
    it('readOnly() is a view of the same log with accessMode ro and no write-ahead buffer', async () => {
      const wal = await openWal(files.path(), { channel: 'p7' });
      await wal.append({ type: MessageType.Insert, vchannel: 'v1' });
      expect(wal.accessMode).toBe('rw');
      const view = wal.readOnly();
      expect(view.accessMode).toBe('ro');
      expect(view.channel).toBe('p7');
      expect('writeAheadBuffer' in view).toBe(false);
      expect(view.requestPersistedTimeTick).toBeUndefined();
      expect(Object.isFrozen(view)).toBe(true);
      expect(wal.readOnly()).toBe(view);
      const reader: WalReader = view.read(DeliverPolicy.all());
      expect((await reader.next()).map((m) => m.type)).toEqual([
        MessageType.TimeTick,
        MessageType.Insert,
      ]);
    });

    it('readOnly: true opens an existing file without a writer and polls for rows others commit', async () => {
      const path = files.path();
      const writer = await rawLog(2, path);
      const clock = new VirtualClock();
      const reader = await openWal(path, {
        readOnly: true,
        scheduler: clock.scheduler,
        pollInterval: '20ms',
      });
      expect(reader.accessMode).toBe('ro');
      expect(reader.channel).toBe('p0');
      expect(reader.writeAheadBuffer).toBeUndefined();
      expect(reader.requestPersistedTimeTick).toBeUndefined();
      await expect(reader.append({ type: MessageType.Insert })).rejects.toThrow(/read-only/);
      await expect(reader.syncTimeTick()).rejects.toBeInstanceOf(ConfigError);
      expect(() => reader.appendRaw({ type: MessageType.Insert, timeTick: 1 })).toThrow(
        ConfigError,
      );
      const walReader = reader.read(DeliverPolicy.all());
      expect(keys(await walReader.next())).toEqual(['1', '2']);
      const next = watch(walReader.next());
      writer.appendRaw({ type: MessageType.Insert, timeTick: 300 });
      await clock.advance(19);
      expect(next.state).toBe('pending'); // not polled yet
      await clock.advance(1);
      expect(keys(next.value ?? [])).toEqual(['3']);
      // the poller stops when nobody waits
      await clock.advance(100);
      expect(clock.pendingTimers).toBe(0);
      const waiting = reader.read(DeliverPolicy.latest()).next();
      await settle();
      expect(clock.pendingTimers).toBe(1);
      await reader.close();
      await expect(waiting).rejects.toBeInstanceOf(ClosedError);
      expect(clock.pendingTimers).toBe(0);
    });

    it('readOnly: true refuses a missing file, a non-rxwal database and an old schema', async () => {
      await expect(openWal(files.path('missing.db'), { readOnly: true })).rejects.toThrow(
        /cannot be opened read-only/,
      );
      const foreign = files.path('foreign.db');
      const db = new Database(foreign);
      db.exec('CREATE TABLE t (x)');
      db.close();
      await expect(openWal(foreign, { readOnly: true })).rejects.toThrow(/not an rxwal log/);
      await expect(openWal(foreign)).rejects.toThrow(/database of something else/);
    });
  });

  describe('the file', () => {
    it('uses WAL journal mode and the current schema version with the documented tables', async () => {
      const path = files.path();
      await openWal(path);
      const db = new Database(path, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      expect(
        db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
          .pluck()
          .all(),
      ).toEqual(['rxwal_log', 'rxwal_meta']);
      db.close();
    });

    it('refuses a newer schema version and a file that is not SQLite with ConfigError', async () => {
      const path = files.path();
      await (await openWal(path)).close();
      const db = new Database(path);
      db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
      db.close();
      await expect(openWal(path)).rejects.toThrow(
        `schema version ${SQLITE_SCHEMA_VERSION + 1}, newer than this rxwal supports (${SQLITE_SCHEMA_VERSION})`,
      );
      await expect(openWal(path, { readOnly: true })).rejects.toBeInstanceOf(ConfigError);
      const text = files.path('text.db');
      writeFileSync(text, 'this is not a database, just some text in a file'.repeat(50));
      await expect(openWal(text)).rejects.toThrow(/not an SQLite database/);
    });

    it('keeps its channel: a different one is refused', async () => {
      const path = files.path();
      await (await openWal(path, { channel: 'p9' })).close();
      const again = await openSqliteWal(path, { scheduler: new VirtualClock().scheduler });
      open.push(again);
      expect(again.channel).toBe('p9');
      await expect(openWal(path, { channel: 'p8' })).rejects.toThrow(/channel/);
    });

    it.each<[string, SqliteWalOptions]>([
      ['readOnly', { readOnly: 'yes' as unknown as boolean }],
      ['synchronous', { synchronous: 'off' as unknown as 'full' }],
      ['pollInterval', { pollInterval: 0 }],
      ['pollInterval', { pollInterval: '5 parsecs' }],
      ['readBatchSize', { readBatchSize: 0 }],
      ['timeTickInterval', { timeTickInterval: 0 }],
      ['payloadCodec', { payloadCodec: { name: '' } as unknown as PayloadCodec }],
      ['channel', { channel: '' }],
      ['scheduler', { scheduler: {} as unknown as VirtualClock['scheduler'] }],
    ])('refuses a bad %s with ConfigError', async (option, options) => {
      const error: unknown = await openSqliteWal(files.path(), options).catch(
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toMatch(new RegExp(`^${option}`));
    });

    it.each<[string, SqliteWalOptions]>([
      ['timeTickInterval', { timeTickInterval: 0 }],
      ['timeTickInterval', { timeTickInterval: '5 parsecs' }],
      ['writeAheadBuffer.capacity', { writeAheadBuffer: { capacity: -1 } }],
      ['writeAheadBuffer.keepalive', { writeAheadBuffer: { keepalive: '5 parsecs' } }],
      ['reorderConcurrentWrites', { reorderConcurrentWrites: 'yes' as unknown as boolean }],
      ['random', { random: 5 as unknown as () => number }],
      ['logger', { logger: {} as unknown as NonNullable<SqliteWalOptions['logger']> }],
      ['busyTimeout', { busyTimeout: -1 }],
      ['busyTimeout', { busyTimeout: '5 parsecs' }],
    ])(
      'checks %s read-only as read-write, before the file is touched (issue 9, item 16)',
      async (option, options) => {
        const existing = files.path();
        await (await openWal(existing)).close();
        const readOnly: unknown = await openSqliteWal(existing, {
          ...options,
          readOnly: true,
        }).catch((err: unknown) => err);
        expect(readOnly).toBeInstanceOf(ConfigError);
        expect((readOnly as ConfigError).option).toBe(option);
        const fresh = files.path();
        const readWrite: unknown = await openSqliteWal(fresh, options).catch((err: unknown) => err);
        expect(readWrite).toBeInstanceOf(ConfigError);
        expect((readWrite as ConfigError).option).toBe(option);
        expect(existsSync(fresh)).toBe(false);
      },
    );

    it('refuses a bad path or options with ConfigError', async () => {
      await expect(openSqliteWal('')).rejects.toBeInstanceOf(ConfigError);
      await expect(
        openSqliteWal(files.path(), null as unknown as undefined),
      ).rejects.toBeInstanceOf(ConfigError);
      await expect(openSqliteWal('/nonexistent-dir/x/wal.db')).rejects.toThrow(/cannot be opened/);
    });
  });

  describe('stats', () => {
    it('counts by type and vchannel, the tick range, open transactions, rows and size', async () => {
      const path = files.path();
      const wal = await openWal(path);
      wal.appendRaw({ type: MessageType.TimeTick, timeTick: 100 });
      wal.appendRaw({ type: MessageType.Insert, timeTick: 105, vchannel: 'v1' });
      wal.appendRaw({
        type: MessageType.BeginTxn,
        timeTick: 106,
        vchannel: 'v2',
        txn: { txnId: 106 },
      });
      wal.appendRaw({
        type: MessageType.Insert,
        timeTick: 107,
        vchannel: 'v2',
        txn: { txnId: 106 },
      });
      wal.appendRaw({
        type: MessageType.BeginTxn,
        timeTick: 108,
        vchannel: 'v1',
        txn: { txnId: 108 },
      });
      wal.appendRaw({
        type: MessageType.CommitTxn,
        timeTick: 109,
        vchannel: 'v1',
        txn: { txnId: 108 },
      });
      wal.appendRaw({ type: MessageType.TimeTick, timeTick: (1n << 64n) - 1n });
      const stats = await sqliteWalStats(path);
      expect(stats).toEqual({
        path,
        channel: 'p0',
        schemaVersion: SQLITE_SCHEMA_VERSION,
        payloadCodec: 'raw',
        writtenBy: 'raw',
        messages: 7,
        firstId: messageId(1),
        lastId: messageId(7),
        byType: { BeginTxn: 2, CommitTxn: 1, Insert: 2, TimeTick: 2 },
        byVChannel: { '': 2, v1: 3, v2: 2 },
        timeTicks: { min: 100n, max: (1n << 64n) - 1n },
        openTransactions: [{ txnId: 106n, vchannel: 'v2', beginId: messageId(3), messages: 2 }],
        fileBytes: expect.any(Number),
      });
      expect(stats.fileBytes).toBeGreaterThan(0);
      expect(wal.stats()).toEqual(stats);
    });

    it('of an empty log, and of a missing file', async () => {
      const path = files.path();
      await (await openWal(path)).close();
      expect(await sqliteWalStats(path)).toMatchObject({
        messages: 0,
        firstId: undefined,
        timeTicks: undefined,
        writtenBy: undefined,
        byType: {},
        openTransactions: [],
      });
      await expect(sqliteWalStats(files.path('none.db'))).rejects.toBeInstanceOf(ConfigError);
    });
  });
});
