import { asyncScheduler } from 'rxjs';

import {
  ClosedError,
  ConfigError,
  EvictedError,
  InvalidMessageError,
  TxnExpiredError,
} from '../../lib/errors.js';
import { MessageType, type WalMessage } from '../../lib/message/message.js';
import { sequenceOf, type MessageId } from '../../lib/message/messageId.js';
import { tso } from '../../lib/message/tso.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { createMemoryWal, type MemoryWal, type MemoryWalOptions } from '../../lib/wal/memoryWal.js';
import type { WalTxn } from '../../lib/wal/wal.js';
import { MemoryWriteAheadBuffer, type WabReader } from '../../lib/wal/writeAheadBuffer.js';
import { WalWriter, type LogStorage } from '../../lib/wal/writer.js';
import { settle, VirtualClock } from '../../lib/testing/index.js';
import { seededRandom } from '../support/random.js';

const START_MS = 1_000;

function setup(options: MemoryWalOptions = {}): { clock: VirtualClock; wal: MemoryWal } {
  const clock = new VirtualClock();
  clock.scheduler.frame = START_MS;
  return { clock, wal: createMemoryWal({ channel: 'p0', ...options, scheduler: clock.scheduler }) };
}

function seq(id: MessageId): bigint {
  const s = sequenceOf(id);
  if (s === undefined) throw new Error(`not a numeric id: ${id.key}`);
  return s;
}

async function readLog(wal: MemoryWal): Promise<WalMessage[]> {
  const reader = wal.read(DeliverPolicy.all());
  const out: WalMessage[] = [];
  while (out.length < wal.length) out.push(...(await reader.next(1_000)));
  reader.close();
  return out;
}

function bufferOf(wal: MemoryWal): MemoryWriteAheadBuffer {
  const wab = wal.writeAheadBuffer;
  if (!(wab instanceof MemoryWriteAheadBuffer))
    throw new Error('the writer has no write-ahead buffer yet');
  return wab;
}

const insert = (vchannel = 'v1', payload: unknown = 1) => ({
  type: MessageType.Insert,
  vchannel,
  payload,
});

describe('WalWriter (through createMemoryWal)', () => {
  describe('appending', () => {
    it('returns the written message with its tick, id and last-confirmed id', async () => {
      const { wal } = setup();
      const m = await wal.append({
        type: MessageType.Insert,
        vchannel: 'v1',
        payload: { pk: 1 },
        properties: { k: 'v' },
      });
      expect(m.type).toBe(MessageType.Insert);
      expect(m.vchannel).toBe('v1');
      expect(m.payload).toEqual({ pk: 1 });
      expect(m.properties).toEqual({ k: 'v' });
      expect(m.persisted).toBe(true);
      expect(m.txn).toBeUndefined();
      expect(m.id.key).toBe('2');
      expect(m.lastConfirmedId.key).toBe('2');
      expect(m.size).toBeGreaterThan(0);
      expect(tso.physical(m.timeTick)).toBe(START_MS);
      expect(Object.isFrozen(m)).toBe(true);
      const log = await readLog(wal);
      expect(log[1]).toBe(m);
      expect(m.timeTick).toBeGreaterThan((log[0] as WalMessage).timeTick);
      await wal.close();
    });

    it('resolves each concurrent append with its own message when the log writes them out of order', async () => {
      const { wal } = setup({ reorderConcurrentWrites: true, random: () => 0 });
      await wal.append(insert()); // start the writer
      const [a, b, c, tick] = await Promise.all([
        wal.append({ type: MessageType.Insert, payload: 'a' }),
        wal.append({ type: MessageType.Insert, payload: 'b' }),
        wal.append({ type: MessageType.Insert, payload: 'c' }),
        wal.syncTimeTick(),
      ]);
      expect([a?.payload, b?.payload, c?.payload]).toEqual(['a', 'b', 'c']);
      expect(tick?.type).toBe(MessageType.TimeTick);
      // the log holds them out of call order, while their ticks keep it
      const written = (await readLog(wal)).filter((m) => typeof m.payload === 'string');
      expect(written.map((m) => m.payload)).not.toEqual(['a', 'b', 'c']);
      expect(a!.timeTick < b!.timeTick && b!.timeTick < c!.timeTick).toBe(true);
      await wal.close();
    });

    it('the first use writes a persisted time tick first (id 1) that becomes the write-ahead buffer’s first entry', async () => {
      const { wal } = setup();
      expect(wal.writeAheadBuffer).toBeUndefined();
      await wal.append(insert());
      const [first] = await readLog(wal);
      expect(first?.type).toBe(MessageType.TimeTick);
      expect(first?.persisted).toBe(true);
      expect(first?.id.key).toBe('1');
      expect(first?.lastConfirmedId.key).toBe('1');
      const wab = bufferOf(wal);
      expect(wab.newestOffset).toBe(0);
      const snapshot = wab.snapshotFrom(0, 0n);
      expect(
        snapshot.kind === 'entries' ? snapshot.entries.map((e) => e.message) : snapshot.kind,
      ).toEqual([first]);
      await expect(
        wab.readFromExclusiveTimeTick((first as WalMessage).timeTick - 1n),
      ).rejects.toBeInstanceOf(EvictedError);
      await wal.close();
    });

    it('defaults the vchannel to "" and rejects system types, empty types and bad properties', async () => {
      const { wal } = setup();
      expect((await wal.append({ type: MessageType.Delete })).vchannel).toBe('');
      for (const type of [
        MessageType.TimeTick,
        MessageType.BeginTxn,
        MessageType.CommitTxn,
        MessageType.Txn,
        '',
      ]) {
        await expect(wal.append({ type })).rejects.toBeInstanceOf(InvalidMessageError);
      }
      await expect(
        wal.append({ type: 'Insert', properties: { a: 1 as unknown as string } }),
      ).rejects.toBeInstanceOf(InvalidMessageError);
      await expect(
        wal.append({ type: 'Insert', properties: 'x' as unknown as Record<string, string> }),
      ).rejects.toBeInstanceOf(InvalidMessageError);
      await expect(
        wal.append({ type: 'Insert', vchannel: 3 as unknown as string }),
      ).rejects.toBeInstanceOf(InvalidMessageError);
      await expect(wal.append(null as unknown as { type: string })).rejects.toBeInstanceOf(
        InvalidMessageError,
      );
      await expect(wal.beginTxn({ vchannel: 1 as unknown as string })).rejects.toBeInstanceOf(
        InvalidMessageError,
      );
      await expect(wal.beginTxn({ vchannel: 'v1', keepalive: '5 parsecs' })).rejects.toBeInstanceOf(
        InvalidMessageError,
      );
      expect(wal.length).toBe(2);
      await wal.close();
    });

    it('does not depend on its timer: a tight loop of awaited appends completes without time passing', async () => {
      const { clock, wal } = setup();
      let previous = 0n;
      for (let i = 0; i < 200; i++) {
        const m = await wal.append(insert('v1', i));
        expect(m.timeTick).toBeGreaterThan(previous);
        previous = m.timeTick;
      }
      expect(wal.length).toBe(201);
      expect(clock.now()).toBe(START_MS);
      await wal.close();
    });
  });

  describe('time ticks', () => {
    it('an interval tick is persisted when something was written since the last one, otherwise not persisted, reaching only the write-ahead buffer with id = its last-confirmed id', async () => {
      const { clock, wal } = setup({ timeTickInterval: 100 });
      const data = await wal.append(insert()); // id 2, after the first tick (id 1)
      const [first] = await readLog(wal);
      const reader = await bufferOf(wal).readFromExclusiveTimeTick((first as WalMessage).timeTick);

      await clock.advance(100);
      const log = await readLog(wal);
      expect(log).toHaveLength(3);
      const persistedTick = log[2] as WalMessage;
      expect(persistedTick.type).toBe(MessageType.TimeTick);
      expect(persistedTick.persisted).toBe(true);
      expect(persistedTick.id.key).toBe('3');
      expect(tso.physical(persistedTick.timeTick)).toBe(START_MS + 100);
      expect(await reader.next()).toBe(data);
      expect(await reader.next()).toBe(persistedTick);

      await clock.advance(100);
      expect(wal.length).toBe(3);
      const quiet = await reader.next();
      expect(quiet.type).toBe(MessageType.TimeTick);
      expect(quiet.persisted).toBe(false);
      expect(tso.physical(quiet.timeTick)).toBe(START_MS + 200);
      expect(quiet.id.key).toBe(quiet.lastConfirmedId.key);
      expect(quiet.id.key).toBe('3');
      expect(bufferOf(wal).newestOffset).toBe(2); // not an entry

      await clock.advance(100);
      const quieter = await reader.next();
      expect(quieter.persisted).toBe(false);
      expect(tso.physical(quieter.timeTick)).toBe(START_MS + 300);

      const more = await wal.append(insert());
      await clock.advance(100);
      expect(await reader.next()).toBe(more);
      const next = await reader.next();
      expect(next.persisted).toBe(true);
      expect(next.id.key).toBe('5');
      expect(wal.length).toBe(5);
      await wal.close();
    });

    it('a loop of awaited appends that never lets the timer run still writes a tick each interval (issue 9 item 4)', async () => {
      // Time passes (scheduler.now() moves) but no timer action runs: what a tight loop of
      // awaited appends does to the event loop.
      const { clock, wal } = setup({ timeTickInterval: 200 });
      for (let i = 0; i < 1_000; i++) {
        clock.scheduler.frame += 1;
        await wal.append(insert('v1', i));
      }
      expect(clock.scheduler.actions.length).toBeGreaterThan(0); // the interval timer never ran
      const ticks = (await readLog(wal)).filter((m) => m.type === MessageType.TimeTick);
      // the start-up tick at the first append (1 ms in), then one persisted tick per 200 ms
      expect(ticks.map((t) => tso.physical(t.timeTick) - START_MS)).toEqual([
        1, 201, 401, 601, 801,
      ]);
      expect(ticks.every((t) => t.persisted)).toBe(true);
      await wal.close();
    });

    it('a tick written from the append path follows the append that found it due, in the same batch (issue 9 item 4)', async () => {
      const { clock, wal } = setup({ timeTickInterval: 100 });
      await wal.append(insert());
      clock.scheduler.frame += 100; // due, and the timer has not run
      const [a, b] = await Promise.all([
        wal.append(insert('v1', 'a')),
        wal.append(insert('v1', 'b')),
      ]);
      const log = await readLog(wal);
      expect(log.map((m) => m.type)).toEqual([
        MessageType.TimeTick,
        MessageType.Insert,
        MessageType.Insert,
        MessageType.TimeTick,
        MessageType.Insert,
      ]);
      expect(log[2]).toBe(a);
      expect(log[4]).toBe(b);
      const tick = log[3] as WalMessage;
      expect(tick.timeTick).toBeGreaterThan((a as WalMessage).timeTick);
      expect(tick.timeTick).toBeLessThan((b as WalMessage).timeTick);
      // the timer, when it runs at the same instant, finds the tick already written
      await clock.advance(0);
      expect(wal.length).toBe(5);
      await wal.close();
    });

    it('on real time, a tight loop of awaited appends writes ticks at the interval (issue 9 item 4)', async () => {
      const wal = createMemoryWal({ channel: 'real', timeTickInterval: 20 });
      const start = Date.now();
      let appended = 0;
      let previous = start;
      let slowestTurnMs = 0; // the longest time between two appends of the loop
      while (Date.now() - start < 300) {
        await wal.append(insert('v1', appended++));
        const now = Date.now();
        slowestTurnMs = Math.max(slowestTurnMs, now - previous);
        previous = now;
      }
      const ticks = (await readLog(wal)).filter((m) => m.type === MessageType.TimeTick);
      const at = ticks.map((t) => tso.physical(t.timeTick));
      // a timer starved by the loop would have written only the start-up tick
      expect(ticks.length).toBeGreaterThanOrEqual(5);
      for (let i = 1; i < at.length; i++) {
        const gap = (at[i] as number) - (at[i - 1] as number);
        // never more often than the interval (less 1 ms: the due check and the tick's clock
        // read Date.now() apart), and written by the first append after it came due
        expect(gap).toBeGreaterThanOrEqual(19);
        expect(gap).toBeLessThanOrEqual(20 + slowestTurnMs + 2);
      }
      await wal.close();
    });

    it('syncTimeTick() writes a persisted tick after writes and a not-persisted one otherwise', async () => {
      const { wal } = setup();
      const data = await wal.append(insert());
      const persisted = await wal.syncTimeTick();
      expect(persisted.type).toBe(MessageType.TimeTick);
      expect(persisted.persisted).toBe(true);
      expect(persisted.id.key).toBe('3');
      expect(persisted.timeTick).toBeGreaterThan(data.timeTick);
      expect(wal.length).toBe(3);
      const quiet = await wal.syncTimeTick();
      expect(quiet.persisted).toBe(false);
      expect(quiet.id.key).toBe('3');
      expect(quiet.lastConfirmedId.key).toBe('3');
      expect(quiet.timeTick).toBeGreaterThan(persisted.timeTick);
      expect(wal.length).toBe(3);
      await wal.close();
    });

    it('syncTimeTick({ persisted: true }) writes a persisted tick even with nothing new, and it becomes a buffer entry', async () => {
      const { wal } = setup();
      await wal.syncTimeTick({ persisted: true });
      const wab = bufferOf(wal);
      const before = wab.newestOffset;
      const forced = await wal.syncTimeTick({ persisted: true });
      expect(forced.persisted).toBe(true);
      expect(wal.length).toBe(3);
      expect(forced.id.key).toBe('3');
      expect(wab.newestOffset).toBe(before + 1);
      const joined = await wab.readFromExclusiveTimeTick(forced.timeTick - 1n);
      expect(await joined.next()).toBe(forced);
      joined.close();
      await wal.close();
    });

    it('the very first call may be syncTimeTick(): the start-up tick is written first', async () => {
      const { wal } = setup();
      const quiet = await wal.syncTimeTick();
      expect(quiet.persisted).toBe(false);
      expect(quiet.id.key).toBe('1');
      const log = await readLog(wal);
      expect(log).toHaveLength(1);
      expect(log[0]?.persisted).toBe(true);
      expect(quiet.timeTick).toBeGreaterThan((log[0] as WalMessage).timeTick);
      await wal.close();
    });

    it('requestPersistedTimeTick() writes a persisted tick once the writer runs, and does nothing before', async () => {
      const { clock, wal } = setup();
      wal.requestPersistedTimeTick?.();
      await settle();
      expect(wal.length).toBe(0);
      expect(clock.pendingTimers).toBe(0);
      await wal.append(insert());
      wal.requestPersistedTimeTick?.();
      await settle();
      const log = await readLog(wal);
      expect(log).toHaveLength(3);
      expect(log[2]?.type).toBe(MessageType.TimeTick);
      expect(log[2]?.persisted).toBe(true);
      await wal.close();
    });
  });

  describe('transactions and last-confirmed ids', () => {
    it('a message written while a transaction is open is confirmed no later than its begin; after commit it is not held back', async () => {
      const { wal } = setup();
      await wal.append(insert());
      const txn = await wal.beginTxn({ vchannel: 'v1' });
      expect(txn.begin.type).toBe(MessageType.BeginTxn);
      expect(txn.begin.txn?.txnId).toBe(txn.txnId);
      expect(txn.begin.txn?.keepaliveMs).toBe(10_000);
      const begin = seq(txn.begin.id);
      const during = await wal.append(insert('v2'));
      expect(seq(during.lastConfirmedId)).toBeLessThanOrEqual(begin);
      const body = await txn.append({ type: MessageType.Insert, payload: 'b' });
      expect(body.vchannel).toBe('v1');
      expect(body.txn).toBe(txn.begin.txn);
      expect(seq(body.lastConfirmedId)).toBeLessThanOrEqual(begin);
      const tick = await wal.syncTimeTick();
      expect(seq(tick.lastConfirmedId)).toBeLessThanOrEqual(begin);
      const commit = await txn.commit();
      expect(commit.type).toBe(MessageType.CommitTxn);
      expect(commit.txn?.txnId).toBe(txn.txnId);
      const after = await wal.append(insert());
      expect(after.lastConfirmedId.key).toBe(after.id.key);
      await wal.close();
    });

    it('after a rollback the transaction no longer holds back last-confirmed ids', async () => {
      const { wal } = setup();
      const txn = await wal.beginTxn({ vchannel: 'v1' });
      const during = await wal.append(insert());
      expect(during.lastConfirmedId.key).toBe(txn.begin.id.key);
      const rollback = await txn.rollback();
      expect(rollback.type).toBe(MessageType.RollbackTxn);
      const after = await wal.append(insert());
      expect(after.lastConfirmedId.key).toBe(after.id.key);
      const quiet = await wal.syncTimeTick({ persisted: true });
      expect(quiet.lastConfirmedId.key).toBe(quiet.id.key);
      await wal.close();
    });

    it('the oldest open transaction decides; a not-persisted tick takes that id as its own', async () => {
      const { wal } = setup();
      const older = await wal.beginTxn({ vchannel: 'v1' });
      const newer = await wal.beginTxn({ vchannel: 'v2' });
      expect((await wal.append(insert())).lastConfirmedId.key).toBe(older.begin.id.key);
      await older.commit();
      expect((await wal.append(insert())).lastConfirmedId.key).toBe(newer.begin.id.key);
      await wal.syncTimeTick();
      const quiet = await wal.syncTimeTick();
      expect(quiet.persisted).toBe(false);
      expect(quiet.id.key).toBe(newer.begin.id.key);
      expect(quiet.lastConfirmedId.key).toBe(newer.begin.id.key);
      await newer.commit();
      expect((await wal.append(insert())).lastConfirmedId.key).not.toBe(newer.begin.id.key);
      await wal.close();
    });

    it('after the writer expired a transaction by keepalive it no longer holds back ids; its append/commit reject TxnExpiredError', async () => {
      const { clock, wal } = setup();
      const txn = await wal.beginTxn({ vchannel: 'v1', keepalive: '1s' });
      expect(txn.begin.txn?.keepaliveMs).toBe(1_000);
      await clock.advance(999, 111);
      const before = await wal.append(insert());
      expect(before.lastConfirmedId.key).toBe(txn.begin.id.key);
      await clock.advance(1, 1);
      const after = await wal.append(insert());
      expect(after.lastConfirmedId.key).toBe(after.id.key);
      await expect(txn.append(insert())).rejects.toBeInstanceOf(TxnExpiredError);
      await expect(txn.commit()).rejects.toBeInstanceOf(TxnExpiredError);
      await expect(txn.rollback()).rejects.toBeInstanceOf(TxnExpiredError);
      const error = await txn.commit().catch((err: unknown) => err);
      expect((error as TxnExpiredError).txnId).toBe(txn.txnId);
      await wal.close();
    });

    it('a body keeps the transaction alive: the keepalive counts from the last begin/body', async () => {
      const { clock, wal } = setup();
      const txn = await wal.beginTxn({ vchannel: 'v1', keepalive: 1_000 });
      await clock.advance(800, 100);
      await txn.append(insert());
      await clock.advance(800, 100);
      const commit = await txn.commit();
      expect(commit.type).toBe(MessageType.CommitTxn);
      await wal.close();
    });

    it('an expiry judged on the next tick: append/commit at the deadline reject TxnExpiredError before the writer noticed', async () => {
      const { clock, wal } = setup({ timeTickInterval: '1h' });
      const txn = await wal.beginTxn({ vchannel: 'v1', keepalive: 500 });
      await clock.advance(500, 500);
      await expect(txn.commit()).rejects.toBeInstanceOf(TxnExpiredError);
      const next = await wal.beginTxn({ vchannel: 'v1', keepalive: 500 });
      await clock.advance(500, 500);
      await expect(next.append(insert())).rejects.toBeInstanceOf(TxnExpiredError);
      await expect(next.append(insert())).rejects.toBeInstanceOf(TxnExpiredError);
      await wal.close();
    });

    it('a keepalive of Infinity never expires', async () => {
      const { clock, wal } = setup({ timeTickInterval: '10s' });
      const txn = await wal.beginTxn({ vchannel: 'v1', keepalive: Infinity });
      await clock.advance(3_600_000, 600_000);
      expect((await wal.append(insert())).lastConfirmedId.key).toBe(txn.begin.id.key);
      expect((await txn.commit()).type).toBe(MessageType.CommitTxn);
      await wal.close();
    });

    it('after commit, append/commit/rollback reject ClosedError (also while the commit is in flight)', async () => {
      const { wal } = setup();
      const txn = await wal.beginTxn({ vchannel: 'v1' });
      const committing = txn.commit();
      await expect(txn.append(insert())).rejects.toBeInstanceOf(ClosedError);
      await committing;
      await expect(txn.append(insert())).rejects.toBeInstanceOf(ClosedError);
      await expect(txn.commit()).rejects.toBeInstanceOf(ClosedError);
      await expect(txn.rollback()).rejects.toBeInstanceOf(ClosedError);
      await wal.close();
    });
  });

  describe('reference § 1.7 over random workloads with reorderConcurrentWrites', () => {
    interface Outcome {
      log: WalMessage[];
      returned: WalMessage[];
      buffered: WalMessage[];
    }

    async function runWorkload(seed: number): Promise<Outcome> {
      const random = seededRandom(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
      const { clock, wal } = setup({
        reorderConcurrentWrites: true,
        random: seededRandom(seed + 7_919),
        timeTickInterval: 40,
      });
      const returned: WalMessage[] = [];
      const keep = (m: WalMessage): void => {
        returned.push(m);
      };
      keep(await wal.append(insert()));
      const wab = bufferOf(wal);
      const [first] = await readLog(wal);
      const reader: WabReader = await wab.readFromExclusiveTimeTick((first as WalMessage).timeTick);
      const buffered: WalMessage[] = [];
      const tailing = (async () => {
        for (;;) {
          try {
            buffered.push(await reader.next());
          } catch (err) {
            if (err instanceof ClosedError) return;
            throw err;
          }
        }
      })();

      const open: WalTxn[] = [];
      const vchannels = ['v1', 'v2', 'v3', ''];
      for (let round = 0; round < 40; round++) {
        const ops: Promise<void>[] = [];
        const count = 1 + Math.floor(random() * 8);
        for (let i = 0; i < count; i++) {
          const r = random();
          if (r < 0.4) ops.push(wal.append(insert(pick(vchannels), round)).then(keep));
          else if (r < 0.5) {
            ops.push(
              wal.beginTxn({ vchannel: pick(vchannels), keepalive: Infinity }).then((txn) => {
                open.push(txn);
                keep(txn.begin);
              }),
            );
          } else if (r < 0.72 && open.length > 0) ops.push(pick(open).append(insert()).then(keep));
          else if (r < 0.84 && open.length > 0) {
            const txn = open.splice(Math.floor(random() * open.length), 1)[0] as WalTxn;
            ops.push((random() < 0.7 ? txn.commit() : txn.rollback()).then(keep));
          } else if (r < 0.94)
            ops.push(wal.syncTimeTick(random() < 0.3 ? { persisted: true } : {}).then(keep));
          else ops.push(wal.append(insert(pick(vchannels))).then(keep));
        }
        await Promise.all(ops);
        if (random() < 0.3) await clock.advance(1 + Math.floor(random() * 100), 20);
      }
      keep(await wal.syncTimeTick({ persisted: true }));
      await settle();
      const log = await readLog(wal);
      await wal.close();
      await tailing;
      return { log, returned, buffered };
    }

    const byTick = (a: WalMessage, b: WalMessage): number =>
      a.timeTick < b.timeTick ? -1 : a.timeTick > b.timeTick ? 1 : 0;

    it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])(
      'seed %p: reading from m.lastConfirmedId sees every message with a greater tick and the open transactions; the buffer gets tick order',
      async (seed) => {
        const { log, returned, buffered } = await runWorkload(seed);

        // the log numbers its messages densely; every returned persisted message is in it
        log.forEach((m, i) => expect(seq(m.id)).toBe(BigInt(i + 1)));
        for (const m of returned) {
          expect(seq(m.lastConfirmedId)).toBeLessThanOrEqual(seq(m.id));
          if (m.persisted) expect(log[Number(seq(m.id)) - 1]).toBe(m);
          else expect(m.id.key).toBe(m.lastConfirmedId.key);
        }
        // the workload did write out of tick order (otherwise this property is trivial)
        const outOfOrder = log.some(
          (m, i) => i > 0 && m.timeTick < (log[i - 1] as WalMessage).timeTick,
        );
        expect(outOfOrder).toBe(true);

        // transactions in the log: begin, bodies, finish
        const txns = new Map<
          bigint,
          { begin?: WalMessage; finish?: WalMessage; members: WalMessage[] }
        >();
        for (const m of log) {
          if (m.txn === undefined) continue;
          const entry = txns.get(m.txn.txnId) ?? { members: [] };
          txns.set(m.txn.txnId, entry);
          if (m.type === MessageType.BeginTxn) entry.begin = m;
          else if (m.type === MessageType.CommitTxn || m.type === MessageType.RollbackTxn)
            entry.finish = m;
          else entry.members.push(m);
        }
        const checked = new Set(log);
        for (const m of returned) checked.add(m);
        let openAtSome = 0;
        for (const m of checked) {
          const from = Number(seq(m.lastConfirmedId)) - 1;
          const seen = new Set(log.slice(from));
          for (const other of log) {
            if (other.timeTick > m.timeTick && !seen.has(other)) {
              throw new Error(
                `${other.id.key} @${other.timeTick} is not seen reading from ${m.lastConfirmedId.key} (message ${m.id.key} @${m.timeTick})`,
              );
            }
          }
          for (const [txnId, txn] of txns) {
            if (txn.begin === undefined || txn.begin.timeTick >= m.timeTick) continue;
            if (txn.finish !== undefined && txn.finish.timeTick <= m.timeTick) continue;
            openAtSome++;
            for (const member of [txn.begin, ...txn.members]) {
              if (!seen.has(member)) {
                throw new Error(
                  `txn ${txnId}: ${member.id.key} is not seen reading from ${m.lastConfirmedId.key} (message ${m.id.key})`,
                );
              }
            }
          }
        }
        expect(openAtSome).toBeGreaterThan(0);

        // the write-ahead buffer got every persisted message after the first tick, in tick order
        const persisted = buffered.filter((m) => m.persisted);
        expect(persisted).toEqual([...log.slice(1)].sort(byTick));
        expect(persisted.length).toBe(log.length - 1);
        for (let i = 1; i < buffered.length; i++) {
          const previous = buffered[i - 1] as WalMessage;
          const current = buffered[i] as WalMessage;
          if (current.type === MessageType.TimeTick)
            expect(current.timeTick).toBeGreaterThanOrEqual(previous.timeTick);
          else expect(current.timeTick).toBeGreaterThan(previous.timeTick);
        }
        expect(buffered.some((m) => !m.persisted)).toBe(true);
      },
    );
  });

  describe('closing', () => {
    it('then every call rejects ClosedError and waiting readers get ClosedError', async () => {
      const { wal } = setup();
      const accepted = wal.append(insert());
      const txn = await wal.beginTxn({ vchannel: 'v1' });
      const logReader = wal.read(DeliverPolicy.latest());
      const logNext = logReader.next();
      const [first] = await readLog(wal);
      const wabReader = await bufferOf(wal).readFromExclusiveTimeTick(
        (first as WalMessage).timeTick,
      );
      const wabNext = wabReader.next(); // nothing in the buffer after the first tick until the next round
      const joiner = bufferOf(wal).readFromExclusiveTimeTick(
        tso.addDuration(txn.begin.timeTick, '1h'),
      );
      await settle();
      await wal.close();
      await wal.close(); // idempotent
      expect((await accepted).id.key).toBe('2'); // accepted before close: written
      await expect(wal.append(insert())).rejects.toBeInstanceOf(ClosedError);
      await expect(wal.beginTxn({ vchannel: 'v1' })).rejects.toBeInstanceOf(ClosedError);
      await expect(wal.syncTimeTick()).rejects.toBeInstanceOf(ClosedError);
      await expect(wal.syncTimeTick({ persisted: true })).rejects.toBeInstanceOf(ClosedError);
      await expect(txn.append(insert())).rejects.toBeInstanceOf(ClosedError);
      await expect(txn.commit()).rejects.toBeInstanceOf(ClosedError);
      await expect(logNext).rejects.toBeInstanceOf(ClosedError);
      await expect(joiner).rejects.toBeInstanceOf(ClosedError);
      await expect(wabNext).rejects.toBeInstanceOf(ClosedError);
      expect(() => wal.read(DeliverPolicy.all())).toThrow(ClosedError);
    });

    it('finishes what was accepted before close, including the first tick', async () => {
      const { wal } = setup();
      const accepted = [
        wal.append(insert()),
        wal.append(insert()),
        wal.syncTimeTick({ persisted: true }),
      ];
      const closing = wal.close();
      const concurrent = wal.append(insert());
      await closing;
      const written = await Promise.all(accepted);
      expect(written.map((m) => m.id.key)).toEqual(['2', '3', '4']);
      await expect(concurrent).rejects.toBeInstanceOf(ClosedError);
      expect(wal.length).toBe(4);
    });

    it('releases the interval timer (virtual time: no action left)', async () => {
      const { clock, wal } = setup();
      expect(clock.pendingTimers).toBe(0);
      await wal.append(insert());
      expect(clock.pendingTimers).toBe(1);
      await clock.advance(450, 50);
      expect(clock.pendingTimers).toBe(1);
      await wal.close();
      expect(clock.pendingTimers).toBe(0);
    });

    it('releases the interval timer (asyncScheduler: no active timer left)', async () => {
      const timers = (): number =>
        process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      const wal = createMemoryWal({ scheduler: asyncScheduler, timeTickInterval: '1h' });
      await wal.append(insert());
      expect(timers()).toBe(before + 1);
      await wal.close();
      expect(timers()).toBe(before);
    });

    it('closing an unused WAL leaves nothing scheduled', async () => {
      const { clock, wal } = setup();
      await wal.close();
      expect(clock.pendingTimers).toBe(0);
      await expect(wal.append(insert())).rejects.toBeInstanceOf(ClosedError);
      expect(wal.writeAheadBuffer).toBeUndefined();
    });
  });
});

describe('WalWriter over another LogStorage', () => {
  class ArrayStorage implements LogStorage {
    readonly messages: WalMessage[] = [];
    failNext: Error | undefined;
    nextSequence(): bigint {
      return BigInt(this.messages.length + 1);
    }
    async write(messages: readonly WalMessage[]): Promise<void> {
      await Promise.resolve();
      const failure = this.failNext;
      if (failure !== undefined) {
        this.failNext = undefined;
        throw failure;
      }
      this.messages.push(...messages);
    }
  }

  it('a commit whose write failed leaves the transaction open: it can be retried, and expires as usual', async () => {
    const clock = new VirtualClock();
    const storage = new ArrayStorage();
    const writer = new WalWriter(storage, { scheduler: clock.scheduler });
    const txn = await writer.beginTxn({ vchannel: 'v1', keepalive: 100 });
    await txn.append(insert());
    storage.failNext = new Error('disk full');
    await expect(txn.commit()).rejects.toThrow('disk full');
    const commit = await txn.commit(); // the log has no commit yet: trying again works
    expect(commit.type).toBe(MessageType.CommitTxn);

    const abandoned = await writer.beginTxn({ vchannel: 'v1', keepalive: 100 });
    storage.failNext = new Error('disk full');
    await expect(abandoned.rollback()).rejects.toThrow('disk full');
    await clock.advance(150); // past the keepalive: the writer expires it
    const later = await writer.append(insert());
    expect(later.lastConfirmedId.key).toBe(later.id.key);
    await expect(abandoned.commit()).rejects.toBeInstanceOf(TxnExpiredError);
    await writer.close();
  });

  it('beginTxn while closing rejects with ClosedError and writes nothing', async () => {
    const clock = new VirtualClock();
    const storage = new ArrayStorage();
    const writer = new WalWriter(storage, { scheduler: clock.scheduler });
    await writer.append(insert());
    const closing = writer.close();
    await expect(writer.beginTxn({ vchannel: 'v1' })).rejects.toBeInstanceOf(ClosedError);
    await closing;
    expect(storage.messages.filter((m) => m.type === MessageType.BeginTxn)).toHaveLength(0);
  });

  it('a begin whose write failed holds back no last-confirmed id', async () => {
    const clock = new VirtualClock();
    const storage = new ArrayStorage();
    const writer = new WalWriter(storage, { scheduler: clock.scheduler });
    await writer.append(insert()); // started: the first tick and one insert are written
    storage.failNext = new Error('disk full');
    await expect(writer.beginTxn({ vchannel: 'v1' })).rejects.toThrow('disk full');
    const after = await writer.append(insert());
    expect(after.lastConfirmedId.key).toBe(after.id.key);
    await writer.close();
  });

  it('starts its clock past lastTimeTick (a reopened log)', async () => {
    const clock = new VirtualClock();
    const storage = new ArrayStorage();
    const lastTimeTick = tso.compose(50_000, 3);
    const writer = new WalWriter(storage, { scheduler: clock.scheduler, lastTimeTick });
    expect(writer.started).toBe(false);
    const m = await writer.append(insert());
    expect(writer.started).toBe(true);
    expect(storage.messages[0]?.timeTick).toBe(tso.compose(50_000, 4));
    expect(m.timeTick).toBe(tso.compose(50_000, 5));
    await writer.close();
  });

  it('rejects the appends of a failed write with the storage’s error and keeps going', async () => {
    const clock = new VirtualClock();
    const storage = new ArrayStorage();
    const writer = new WalWriter(storage, { scheduler: clock.scheduler });
    await writer.append(insert());
    const failure = new Error('disk full');
    storage.failNext = failure;
    const failed = [writer.append(insert()), writer.append(insert())];
    await expect(failed[0]).rejects.toBe(failure);
    await expect(failed[1]).rejects.toBe(failure);
    const ok = await writer.append(insert());
    expect(ok.id.key).toBe('3');
    expect(storage.messages.map((m) => m.id.key)).toEqual(['1', '2', '3']);
    await writer.close();
  });

  it('does not pile up interval ticks while one is still being written to a slow log', async () => {
    const clock = new VirtualClock();
    const storage = new ArrayStorage();
    const writer = new WalWriter(storage, { scheduler: clock.scheduler, timeTickInterval: 10 });
    await writer.append(insert());
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const write = storage.write.bind(storage);
    storage.write = async (messages) => {
      await gate;
      return write(messages);
    };
    // ten intervals with a write in each, the first interval's tick stuck in the log
    const appends: Promise<WalMessage>[] = [];
    for (let i = 0; i < 10; i++) {
      await clock.advance(10, 10);
      appends.push(writer.append(insert()));
    }
    expect(storage.messages).toHaveLength(2);
    release();
    await Promise.all(appends);
    // only the stuck tick was written meanwhile: the timer skipped the intervals it was in flight
    const ticks = storage.messages.filter((m) => m.type === MessageType.TimeTick);
    expect(ticks).toHaveLength(2);
    expect(storage.messages).toHaveLength(13);
    await writer.close();
  });

  it('keeps ticking after a periodic tick failed to write, and the buffer loses nothing', async () => {
    const clock = new VirtualClock();
    const storage = new ArrayStorage();
    const writer = new WalWriter(storage, { scheduler: clock.scheduler, timeTickInterval: 10 });
    const first = await writer.append(insert());
    storage.failNext = new Error('disk hiccup');
    await clock.advance(10, 10); // the interval tick fails
    expect(storage.messages).toHaveLength(2);
    const second = await writer.append(insert());
    await clock.advance(10, 10);
    expect(storage.messages.map((m) => m.type)).toEqual([
      MessageType.TimeTick,
      MessageType.Insert,
      MessageType.Insert,
      MessageType.TimeTick,
    ]);
    const snapshot = writer.writeAheadBuffer?.snapshotFrom(1, 0n);
    expect(
      snapshot?.kind === 'entries' ? snapshot.entries.map((e) => e.message) : snapshot,
    ).toEqual([first, second, storage.messages[3]]);
    await writer.close();
  });

  it('evicts expired buffer entries on its timer while no tick reaches the buffer (issue 9 item 20)', async () => {
    const clock = new VirtualClock();
    const storage = new ArrayStorage();
    const writer = new WalWriter(storage, {
      scheduler: clock.scheduler,
      timeTickInterval: 10,
      writeAheadBuffer: { keepalive: 50 },
    });
    for (let i = 0; i < 5; i++) await writer.append(insert());
    await clock.advance(10, 10); // a persisted tick closes the round: 7 entries
    const buffer = writer.writeAheadBuffer as MemoryWriteAheadBuffer;
    expect(buffer.length).toBe(7);
    // the log stalls: the next interval's tick stays in flight, nothing is appended to the buffer
    storage.write = () => new Promise<void>(() => undefined);
    void writer.append(insert()); // never acknowledged
    await clock.advance(100, 10);
    // past the keepalive every entry but the newest is gone, though nothing was appended
    expect(buffer.length).toBe(1);
    expect(buffer.bytes).toBe(0);
  });

  it('throws ConfigError for a scheduler that is not a SchedulerLike and for a bad interval', () => {
    const storage = new ArrayStorage();
    expect(
      () =>
        new WalWriter(storage, { scheduler: { now: () => 0 } as unknown as typeof asyncScheduler }),
    ).toThrow(ConfigError);
    expect(() => new WalWriter(storage, { timeTickInterval: -5 })).toThrow(ConfigError);
    expect(() => new WalWriter(storage, { timeTickInterval: 0 })).toThrow(ConfigError);
  });
});
