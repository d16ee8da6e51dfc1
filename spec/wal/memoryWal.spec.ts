import { ClosedError, ConfigError } from '../../lib/errors.js';
import { MessageType, type WalMessage } from '../../lib/message/message.js';
import { messageId } from '../../lib/message/messageId.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { createMemoryWal, DEFAULT_READ_BATCH, type MemoryWal } from '../../lib/wal/memoryWal.js';
import type { WalReader } from '../../lib/wal/wal.js';
import { settle, VirtualClock } from '../../lib/testing/index.js';
import { watch } from '../support/promises.js';

/** A raw log of `n` inserts with ticks 101, 102, … (ids 1..n). */
function rawLog(n: number): MemoryWal {
  const wal = createMemoryWal({ channel: 'p0', scheduler: new VirtualClock().scheduler });
  for (let i = 1; i <= n; i++)
    wal.appendRaw({ type: MessageType.Insert, timeTick: 100 + i, vchannel: 'v1', payload: i });
  return wal;
}

const keys = (batch: readonly WalMessage[]): string[] => batch.map((m) => m.id.key);

describe('createMemoryWal', () => {
  describe('read(policy) positions', () => {
    it('all() starts at the first message', async () => {
      const reader = rawLog(3).read(DeliverPolicy.all());
      expect(keys(await reader.next())).toEqual(['1', '2', '3']);
      expect(reader.resolvedPolicy).toEqual(DeliverPolicy.all());
    });

    it('startFrom(id) includes the id, startAfter(id) excludes it', async () => {
      const wal = rawLog(5);
      expect(keys(await wal.read(DeliverPolicy.startFrom(messageId(3))).next())).toEqual([
        '3',
        '4',
        '5',
      ]);
      expect(keys(await wal.read(DeliverPolicy.startAfter(messageId(3))).next())).toEqual([
        '4',
        '5',
      ]);
      expect(keys(await wal.read(DeliverPolicy.startFrom(messageId(0))).next())).toEqual([
        '1',
        '2',
        '3',
        '4',
        '5',
      ]);
      // ids start at 1: nothing sits at 0, so after 0 is from 1
      expect(keys(await wal.read(DeliverPolicy.startAfter(messageId(0))).next())).toEqual([
        '1',
        '2',
        '3',
        '4',
        '5',
      ]);
    });

    it('startFrom/startAfter beyond the end wait for the next message', async () => {
      const wal = rawLog(2);
      const from = watch(wal.read(DeliverPolicy.startFrom(messageId(9))).next());
      const after = watch(wal.read(DeliverPolicy.startAfter(messageId(2))).next());
      await settle();
      expect(from.state).toBe('pending');
      expect(after.state).toBe('pending');
      wal.appendRaw({ type: MessageType.Insert, timeTick: 200 });
      await settle();
      expect(keys(from.value ?? [])).toEqual(['3']);
      expect(keys(after.value ?? [])).toEqual(['3']);
    });

    it('latest() sees only later messages and resolves to startAfter(last id)', async () => {
      const wal = rawLog(3);
      const reader = wal.read(DeliverPolicy.latest());
      expect(reader.resolvedPolicy).toEqual(DeliverPolicy.startAfter(messageId(3)));
      const next = watch(reader.next());
      await settle();
      expect(next.state).toBe('pending');
      wal.appendRaw({ type: MessageType.Insert, timeTick: 300 });
      await settle();
      expect(keys(next.value ?? [])).toEqual(['4']);
    });

    it('latest() on an empty log resolves to all()', () => {
      const wal = createMemoryWal();
      expect(wal.read(DeliverPolicy.latest()).resolvedPolicy).toEqual(DeliverPolicy.all());
    });

    it('rejects a bad policy or a foreign id with ConfigError', () => {
      const wal = rawLog(1);
      expect(() => wal.read({ kind: 'sometime' } as unknown as DeliverPolicy)).toThrow(ConfigError);
      const foreign = { key: 'x', compare: () => 0, toString: () => 'x' };
      expect(() => wal.read(DeliverPolicy.startFrom(foreign))).toThrow(ConfigError);
    });
  });

  describe('reader next(max)', () => {
    it('returns batches of at most max messages, 256 by default', async () => {
      const wal = rawLog(600);
      const reader = wal.read(DeliverPolicy.all());
      expect(DEFAULT_READ_BATCH).toBe(256);
      expect((await reader.next(2)).map((m) => m.payload)).toEqual([1, 2]);
      expect(await reader.next()).toHaveLength(256);
      expect(keys(await reader.next(1))).toEqual(['259']);
      expect(await reader.next(1000)).toHaveLength(341);
    });

    it('waits for writes and returns what one write brought', async () => {
      const wal = rawLog(0);
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
      await expect(rawLog(1).read(DeliverPolicy.all()).next(max)).rejects.toBeInstanceOf(
        ConfigError,
      );
    });

    it('close() rejects a waiting next() with ClosedError and releases its waiter', async () => {
      const wal = rawLog(1);
      const reader = wal.read(DeliverPolicy.startAfter(messageId(1)));
      const pending = reader.next();
      await settle();
      reader.close();
      await expect(pending).rejects.toBeInstanceOf(ClosedError);
      // the log no longer calls the closed reader; other readers still get the write
      const other = wal.read(DeliverPolicy.startAfter(messageId(1)));
      const otherNext = watch(other.next());
      wal.appendRaw({ type: MessageType.Insert, timeTick: 500 });
      await settle();
      expect(keys(otherNext.value ?? [])).toEqual(['2']);
      await expect(reader.next()).rejects.toBeInstanceOf(ClosedError);
    });

    it('close() of an idle reader makes next() reject ClosedError', async () => {
      const reader = rawLog(2).read(DeliverPolicy.all());
      reader.close();
      await expect(reader.next()).rejects.toBeInstanceOf(ClosedError);
    });

    it('a closed WAL ends waiting readers with ClosedError after they drained it', async () => {
      const wal = rawLog(1);
      const drained = wal.read(DeliverPolicy.all());
      const behind = wal.read(DeliverPolicy.all());
      expect(keys(await drained.next())).toEqual(['1']);
      const waiting = drained.next();
      await settle();
      await wal.close();
      await expect(waiting).rejects.toBeInstanceOf(ClosedError);
      expect(keys(await behind.next())).toEqual(['1']);
      await expect(behind.next()).rejects.toBeInstanceOf(ClosedError);
      expect(() => wal.read(DeliverPolicy.all())).toThrow(ClosedError);
    });
  });

  describe('appendRaw', () => {
    it('stores messages exactly as given: out-of-order ticks, duplicates, earlier lastConfirmedIds', async () => {
      const wal = createMemoryWal();
      const given: WalMessage[] = [
        wal.appendRaw({ type: MessageType.TimeTick, timeTick: 100 }),
        wal.appendRaw({
          type: MessageType.Insert,
          timeTick: 105,
          vchannel: 'v1',
          payload: { pk: 1 },
        }),
        wal.appendRaw({
          type: MessageType.Insert,
          timeTick: 102,
          vchannel: 'v2',
          lastConfirmedId: 1,
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
          properties: { a: 'b' },
          size: 3,
        }),
        wal.appendRaw({ type: MessageType.TimeTick, timeTick: 101 }),
      ];
      expect(keys(given)).toEqual(['1', '2', '3', '4', '5', '6']);
      expect(given.map((m) => m.timeTick)).toEqual([100n, 105n, 102n, 102n, 99n, 101n]);
      expect(given[4]?.lastConfirmedId.key).toBe('2');
      expect(given[4]?.size).toBe(3);
      expect(wal.length).toBe(6);
      const read = await wal.read(DeliverPolicy.all()).next();
      expect(read).toEqual(given);
      for (let i = 0; i < given.length; i++) expect(read[i]).toBe(given[i]);
      expect(wal.writeAheadBuffer).toBeUndefined();
    });

    it('refuses what would break an invariant scanners rely on, keeping what it already holds', async () => {
      const wal = createMemoryWal();
      const first = wal.appendRaw({ type: MessageType.Insert, timeTick: 5 });
      expect(() =>
        wal.appendRaw({ type: MessageType.Insert, timeTick: 6, lastConfirmedId: 9 }),
      ).toThrow(/appendRaw lastConfirmedId/);
      expect(() =>
        wal.appendRaw({ type: MessageType.TimeTick, timeTick: 7, persisted: false }),
      ).toThrow(/appendRaw persisted/);
      expect(() => wal.appendRaw({ id: 0, type: MessageType.Insert, timeTick: 8 })).toThrow(
        /appendRaw id/,
      );
      expect(wal.length).toBe(1);
      expect(await wal.read(DeliverPolicy.all()).next()).toEqual([first]);
      expect(wal.appendRaw({ type: MessageType.Insert, timeTick: 9 }).id.key).toBe('2');
    });

    it('keeps given ids: sparse and repeated ids, positions by id order', async () => {
      const wal = createMemoryWal();
      const stored = [10, 20, 20, 31].map((id, i) =>
        wal.appendRaw({ id, type: MessageType.Insert, timeTick: 100 + i }),
      );
      expect(keys(stored)).toEqual(['10', '20', '20', '31']);
      expect(wal.appendRaw({ type: MessageType.Insert, timeTick: 200 }).id.key).toBe('32');
      const from = async (policy: DeliverPolicy): Promise<number[]> =>
        (await wal.read(policy).next()).map((m) => Number(m.timeTick));
      expect(await from(DeliverPolicy.startFrom(messageId(15)))).toEqual([101, 102, 103, 200]);
      expect(await from(DeliverPolicy.startFrom(messageId(20)))).toEqual([101, 102, 103, 200]);
      expect(await from(DeliverPolicy.startAfter(messageId(20)))).toEqual([103, 200]);
      expect(await from(DeliverPolicy.startAfter(messageId(5)))).toEqual([100, 101, 102, 103, 200]);
    });

    it('throws ConfigError for an id below the last one or one that is not numeric', () => {
      const wal = createMemoryWal();
      wal.appendRaw({ id: 5, type: MessageType.Insert, timeTick: 1 });
      expect(() => wal.appendRaw({ id: 4, type: MessageType.Insert, timeTick: 2 })).toThrow(
        ConfigError,
      );
      const foreign = { key: 'x', compare: () => 0, toString: () => 'x' };
      expect(() => wal.appendRaw({ id: foreign, type: MessageType.Insert, timeTick: 2 })).toThrow(
        ConfigError,
      );
      expect(wal.length).toBe(1);
    });

    it('validates the message like createMessage', () => {
      const wal = createMemoryWal();
      expect(() => wal.appendRaw({ type: '', timeTick: 1 })).toThrow();
      expect(() => wal.appendRaw(null as unknown as { type: string; timeTick: number })).toThrow(
        ConfigError,
      );
      expect(wal.length).toBe(0);
    });

    it('after the writer was used throws ConfigError', async () => {
      const wal = createMemoryWal({ scheduler: new VirtualClock().scheduler });
      await wal.append({ type: MessageType.Insert });
      expect(() => wal.appendRaw({ type: MessageType.Insert, timeTick: 1 })).toThrow(ConfigError);
      await wal.close();
    });

    it('makes the writer reject ConfigError afterwards', async () => {
      const clock = new VirtualClock();
      const wal = createMemoryWal({ scheduler: clock.scheduler });
      wal.appendRaw({ type: MessageType.Insert, timeTick: 1 });
      await expect(wal.append({ type: MessageType.Insert })).rejects.toBeInstanceOf(ConfigError);
      await expect(wal.beginTxn({ vchannel: 'v1' })).rejects.toBeInstanceOf(ConfigError);
      await expect(wal.syncTimeTick()).rejects.toBeInstanceOf(ConfigError);
      wal.requestPersistedTimeTick?.(); // a no-op: the writer never started
      await settle();
      expect(wal.length).toBe(1);
      expect(wal.writeAheadBuffer).toBeUndefined();
      expect(clock.pendingTimers).toBe(0);
    });

    it('throws ClosedError after close', async () => {
      const wal = createMemoryWal();
      await wal.close();
      expect(() => wal.appendRaw({ type: MessageType.Insert, timeTick: 1 })).toThrow(ClosedError);
    });
  });

  describe('readOnly()', () => {
    it('is a view of the same log with accessMode ro and no write-ahead buffer', async () => {
      const clock = new VirtualClock();
      const wal = createMemoryWal({ channel: 'p7', scheduler: clock.scheduler });
      await wal.append({ type: MessageType.Insert, vchannel: 'v1' });
      expect(wal.accessMode).toBe('rw');
      expect(wal.writeAheadBuffer).toBeDefined();
      const view = wal.readOnly();
      expect(view.accessMode).toBe('ro');
      expect(view.channel).toBe('p7');
      expect('writeAheadBuffer' in view).toBe(false);
      expect(view.writeAheadBuffer).toBeUndefined();
      expect(view.requestPersistedTimeTick).toBeUndefined();
      expect(Object.isFrozen(view)).toBe(true);
      expect(wal.readOnly()).toBe(view);
      const reader: WalReader = view.read(DeliverPolicy.all());
      expect((await reader.next()).map((m) => m.type)).toEqual([
        MessageType.TimeTick,
        MessageType.Insert,
      ]);
      await wal.close();
    });
  });

  describe('options', () => {
    it('defaults the channel to rxwal', () => {
      expect(createMemoryWal().channel).toBe('rxwal');
    });

    it.each([[''], [5], [{}]])('throws ConfigError for channel %p', (channel) => {
      expect(() => createMemoryWal({ channel: channel as unknown as string })).toThrow(ConfigError);
    });

    it('throws ConfigError for options that are not an object, and for bad writer options', () => {
      expect(() => createMemoryWal(null as unknown as undefined)).toThrow(ConfigError);
      expect(() => createMemoryWal({ timeTickInterval: 0 })).toThrow(ConfigError);
      expect(() => createMemoryWal({ timeTickInterval: '5 parsecs' })).toThrow(ConfigError);
      expect(() => createMemoryWal({ writeAheadBuffer: { capacity: 'lots' } })).toThrow(
        ConfigError,
      );
      expect(() => createMemoryWal({ writeAheadBuffer: { keepalive: '5 parsecs' } })).toThrow(
        ConfigError,
      );
      expect(() =>
        createMemoryWal({ scheduler: {} as unknown as VirtualClock['scheduler'] }),
      ).toThrow(ConfigError);
    });
  });
});
