import { take, type Subscription } from 'rxjs';

import { ClosedError, CorruptRecordError, ConfigError } from '../../lib/errors.js';
import type { WalMessage } from '../../lib/message/message.js';
import { messageId } from '../../lib/message/messageId.js';
import { createInMemoryMetrics, type ScannerModel } from '../../lib/observability/metrics.js';
import { switchableSource } from '../../lib/operators/switchableSource.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { createMemoryWal, type MemoryWal } from '../../lib/wal/memoryWal.js';
import type { ReadableWal, WalReader } from '../../lib/wal/wal.js';
import type { WriteAheadBuffer } from '../../lib/wal/writeAheadBuffer.js';
import { formatWalMessage } from '../../lib/testing/notation.js';
import { settle, VirtualClock } from '../../lib/testing/index.js';
import { watchedReads } from '../support/watchedReads.js';

/** Wraps a WAL so tests can make its readers fail or end. */
function faultyWal(
  wal: ReadableWal,
  fault: (call: { reader: number; next: number }) => 'fail' | 'end' | 'corrupt' | undefined,
): ReadableWal & { reads: DeliverPolicy[] } {
  const reads: DeliverPolicy[] = [];
  return {
    channel: wal.channel,
    accessMode: wal.accessMode,
    get writeAheadBuffer() {
      return wal.writeAheadBuffer;
    },
    reads,
    read(policy) {
      reads.push(policy);
      const readerNo = reads.length;
      const inner = wal.read(policy);
      let nextNo = 0;
      const reader: WalReader = {
        async next(max) {
          const kind = fault({ reader: readerNo, next: ++nextNo });
          if (kind === 'fail') throw new Error(`read error ${readerNo}/${nextNo}`);
          if (kind === 'end') return [];
          if (kind === 'corrupt') throw new CorruptRecordError('7', 'bad checksum');
          return inner.next(max);
        },
        close: () => inner.close(),
      };
      return reader;
    },
  };
}

function collect(source: ReturnType<typeof switchableSource>): {
  seen: WalMessage[];
  errors: unknown[];
  sub: Subscription;
} {
  const seen: WalMessage[] = [];
  const errors: unknown[] = [];
  const sub = source.subscribe({
    next: (m) => seen.push(m),
    error: (e: unknown) => errors.push(e),
  });
  return { seen, errors, sub };
}

describe('switchableSource', () => {
  let clock: VirtualClock;
  let wal: MemoryWal;

  beforeEach(() => {
    clock = new VirtualClock();
    wal = createMemoryWal({ channel: 'p0', scheduler: clock.scheduler, timeTickInterval: '200ms' });
  });

  afterEach(async () => {
    const closing = wal.close();
    await clock.advance(1);
    await closing;
  });

  test('T-SA-1 read error keeps retrying with backoff, close is clean', async () => {
    const syncs: number[] = [];
    const reads: number[] = [];
    const wabCalls: string[] = [];
    const failing: ReadableWal = {
      channel: '',
      accessMode: 'rw',
      writeAheadBuffer: {
        readFromExclusiveTimeTick: () => {
          wabCalls.push('readFromExclusiveTimeTick');
          return Promise.reject(new Error('unexpected'));
        },
      },
      requestPersistedTimeTick: () => syncs.push(clock.now()),
      read: () => {
        reads.push(clock.now());
        throw new Error('read error');
      },
    };
    const metrics = createInMemoryMetrics();
    const out = collect(
      switchableSource(failing, {
        name: 'scanner',
        scheduler: clock.scheduler,
        random: () => 0.5,
        metrics,
      }),
    );
    await clock.advance(1000);
    expect(syncs).toEqual([0]); // start-up asked for a persisted time tick (S1)
    // retried after 100, 200, 400 ms of backoff (jitter factor 1.0 with random() = 0.5) (S2)
    expect(reads).toEqual([0, 100, 300, 700]);
    out.sub.unsubscribe();
    expect(out.errors).toEqual([]);
    expect(out.seen).toEqual([]);
    expect(wabCalls).toEqual([]);
    expect(clock.pendingTimers).toBe(0); // the backoff timer was released
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 0 });
  });

  test('backoff jitter stays within ±50 % and caps at 5 s', async () => {
    const reads: number[] = [];
    const failing: ReadableWal = {
      channel: 'p0',
      accessMode: 'ro',
      read: () => {
        reads.push(clock.now());
        throw new Error('read error');
      },
    };
    let flip = 0;
    const out = collect(
      switchableSource(failing, {
        scheduler: clock.scheduler,
        random: () => (flip++ % 2 === 0 ? 0 : 0.999),
      }),
    );
    await clock.advance(40_000, 5);
    out.sub.unsubscribe();
    const gaps = reads.slice(1).map((t, i) => t - (reads[i] as number));
    const bases = [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000];
    bases.forEach((base, i) => {
      const gap = gaps[i] as number;
      expect(gap).toBeGreaterThanOrEqual(Math.floor(base * 0.5));
      expect(gap).toBeLessThanOrEqual(Math.ceil(base * 1.5) + 5);
    });
  });

  test('catches up, then switches to tailing at a time tick the buffer serves', async () => {
    const metrics = createInMemoryMetrics();
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 1 });
    await wal.syncTimeTick();
    const out = collect(switchableSource(wal, { scheduler: clock.scheduler, metrics }));
    await clock.advance(10);
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 1 });
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 2 });
    await clock.advance(250);
    const inserts = out.seen.filter((m) => m.type === 'Insert').map((m) => m.payload);
    expect(inserts).toEqual([1, 2]);
    const ticks = out.seen.filter((m) => m.type === 'TimeTick').map((m) => m.timeTick);
    expect([...ticks].sort((a, b) => (a < b ? -1 : 1))).toEqual(ticks); // never backwards
    out.sub.unsubscribe();
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 0 });
  });

  test('a read-only WAL never tails and sees new messages in catch-up', async () => {
    const metrics = createInMemoryMetrics();
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 1 });
    const out = collect(switchableSource(wal.readOnly(), { scheduler: clock.scheduler, metrics }));
    await clock.advance(10);
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 2 });
    await clock.advance(450);
    expect(out.seen.filter((m) => m.type === 'Insert').map((m) => m.payload)).toEqual([1, 2]);
    expect(metrics.snapshot().scanners).toEqual({ catchup: 1, tailing: 0 });
    out.sub.unsubscribe();
  });

  test('an rw WAL without a writer (appendRaw) stays in catch-up and sees new raw records', async () => {
    wal.appendRaw({ type: 'TimeTick', timeTick: 10n });
    const metrics = createInMemoryMetrics();
    const out = collect(switchableSource(wal, { scheduler: clock.scheduler, metrics }));
    await clock.advance(10);
    wal.appendRaw({ type: 'Insert', timeTick: 12n, vchannel: 'v1' });
    await clock.advance(10);
    expect(out.seen.map(formatWalMessage)).toEqual(['TimeTick @10 #1', 'Insert v1 @12 #2']);
    expect(metrics.snapshot().scanners).toEqual({ catchup: 1, tailing: 0 });
    out.sub.unsubscribe();
  });

  test('a failed pass resumes after the last handed-over time tick, not from the policy', async () => {
    wal.appendRaw({ type: 'Insert', timeTick: 1n });
    wal.appendRaw({ type: 'TimeTick', timeTick: 2n });
    wal.appendRaw({ type: 'Insert', timeTick: 3n });
    wal.appendRaw({ type: 'TimeTick', timeTick: 4n, lastConfirmedId: 3 });
    wal.appendRaw({ type: 'Insert', timeTick: 5n });
    const faulty = faultyWal(wal, ({ reader, next }) =>
      reader === 1 && next === 2 ? 'fail' : undefined,
    );
    const out = collect(
      switchableSource(faulty, { scheduler: clock.scheduler, readBatchSize: 4, random: () => 0.5 }),
    );
    await clock.advance(200);
    // first pass handed #1..#4, then failed; the retry starts right after TT@4 in the log
    expect(faulty.reads).toEqual([DeliverPolicy.all(), DeliverPolicy.startAfter(messageId(4))]);
    expect(out.seen.map((m) => m.id.key)).toEqual(['1', '2', '3', '4', '5']);
    out.sub.unsubscribe();
  });

  test.each([1, 2, 3, 4, 5, 6, 7])(
    'batches of %i: a pass failing after any batch resumes after the last time tick it handed over',
    async (size) => {
      wal.appendRaw({ type: 'Insert', timeTick: 1n }); // #1
      wal.appendRaw({ type: 'TimeTick', timeTick: 2n }); // #2
      wal.appendRaw({ type: 'Insert', timeTick: 3n }); // #3
      wal.appendRaw({ type: 'Insert', timeTick: 4n }); // #4
      wal.appendRaw({ type: 'TimeTick', timeTick: 5n, lastConfirmedId: 3 }); // #5
      wal.appendRaw({ type: 'Insert', timeTick: 6n }); // #6
      wal.appendRaw({ type: 'TimeTick', timeTick: 7n }); // #7
      const ticks = new Set([2, 5, 7]);
      for (let failAt = 1; (failAt - 1) * size <= 7; failAt++) {
        const faulty = faultyWal(wal.readOnly(), ({ reader, next }) =>
          reader === 1 && next === failAt ? 'fail' : undefined,
        );
        const out = collect(
          switchableSource(faulty, { scheduler: clock.scheduler, readBatchSize: size }),
        );
        await clock.advance(1000);
        const handed = Math.min(7, (failAt - 1) * size);
        const lastTick = [...ticks].filter((id) => id <= handed).pop();
        // after a handed-over tick: right after it; before any: from the first handed message
        const resumed =
          lastTick !== undefined
            ? DeliverPolicy.startAfter(messageId(lastTick))
            : handed > 0
              ? DeliverPolicy.startFrom(messageId(1))
              : DeliverPolicy.all();
        expect(faulty.reads).toEqual([DeliverPolicy.all(), resumed]);
        const replayedFrom = lastTick !== undefined ? lastTick + 1 : 1;
        const expected = [
          ...Array.from({ length: handed }, (_, i) => String(i + 1)),
          ...Array.from({ length: 8 - replayedFrom }, (_, i) => String(replayedFrom + i)),
        ];
        expect(out.seen.map((m) => m.id.key)).toEqual(expected);
        expect(out.errors).toEqual([]);
        out.sub.unsubscribe();
      }
    },
  );

  test('a retry after a time tick keeps a later message with the same tick', async () => {
    wal.appendRaw({ type: 'TimeTick', timeTick: 10n });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 10n });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 9n }); // late: below the released 10
    wal.appendRaw({ type: 'TimeTick', timeTick: 20n });
    const faulty = faultyWal(wal.readOnly(), ({ reader, next }) =>
      reader === 1 && next === 2 ? 'fail' : undefined,
    );
    const out = collect(
      switchableSource(faulty, { scheduler: clock.scheduler, readBatchSize: 1, random: () => 0.5 }),
    );
    await clock.advance(200);
    // the equal-tick insert is handed over; the late one (a violation) is not handed again
    expect(out.seen.map(formatWalMessage)).toEqual([
      'TimeTick @10 #1',
      'Insert v1 @10 #2',
      'TimeTick @20 #4',
    ]);
    out.sub.unsubscribe();
  });

  test('a retry before any time tick re-reads from the first handed-over message', async () => {
    wal.appendRaw({ type: 'Insert', timeTick: 5n });
    wal.appendRaw({ type: 'Insert', timeTick: 6n });
    wal.appendRaw({ type: 'Insert', timeTick: 7n });
    const faulty = faultyWal(wal.readOnly(), ({ reader, next }) =>
      reader === 1 && next === 2 ? 'end' : undefined,
    );
    const out = collect(
      switchableSource(faulty, { scheduler: clock.scheduler, readBatchSize: 2, random: () => 0.5 }),
    );
    await clock.advance(200);
    expect(faulty.reads).toEqual([DeliverPolicy.all(), DeliverPolicy.startFrom(messageId(1))]);
    // #1 and #2 are handed again: no time tick released them yet, so downstream the reorder
    // buffer drops the replays as duplicate ids
    expect(out.seen.map((m) => m.id.key)).toEqual(['1', '2', '1', '2', '3']);
    out.sub.unsubscribe();
  });

  test('a reader whose stream ends without error is retried', async () => {
    wal.appendRaw({ type: 'TimeTick', timeTick: 1n });
    const faulty = faultyWal(wal.readOnly(), ({ reader }) => (reader === 1 ? 'end' : undefined));
    const out = collect(
      switchableSource(faulty, { scheduler: clock.scheduler, random: () => 0.5 }),
    );
    await clock.advance(150);
    expect(faulty.reads).toHaveLength(2);
    expect(out.seen.map(formatWalMessage)).toEqual(['TimeTick @1 #1']);
    out.sub.unsubscribe();
  });

  test('an unrecoverable error (corrupt record) ends the Observable with that error', async () => {
    wal.appendRaw({ type: 'TimeTick', timeTick: 1n });
    const faulty = faultyWal(wal.readOnly(), () => 'corrupt');
    const out = collect(switchableSource(faulty, { scheduler: clock.scheduler }));
    await clock.advance(10);
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toBeInstanceOf(CorruptRecordError);
  });

  test('closing the WAL ends a tailing scanner with ClosedError', async () => {
    await wal.append({ type: 'Insert' });
    const out = collect(switchableSource(wal, { scheduler: clock.scheduler }));
    await clock.advance(10);
    const closing = wal.close();
    await clock.advance(1);
    await closing;
    await settle();
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toBeInstanceOf(ClosedError);
  });

  test('closing the WAL ends a catching-up scanner with ClosedError', async () => {
    wal.appendRaw({ type: 'Insert', timeTick: 1n });
    const out = collect(switchableSource(wal.readOnly(), { scheduler: clock.scheduler }));
    await clock.advance(10);
    await wal.close();
    await settle();
    expect(out.errors[0]).toBeInstanceOf(ClosedError);
  });

  test('take(n) closes the reader and leaves no timer', async () => {
    for (let i = 1; i <= 10; i++) wal.appendRaw({ type: 'Insert', timeTick: BigInt(i) });
    const seen: WalMessage[] = [];
    let completed = false;
    switchableSource(wal, { scheduler: clock.scheduler })
      .pipe(take(3))
      .subscribe({ next: (m) => seen.push(m), complete: () => (completed = true) });
    await clock.advance(10);
    expect(seen.map((m) => m.id.key)).toEqual(['1', '2', '3']);
    expect(completed).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  test('after an eviction it catches up from the last consumed message, handing nothing over twice', async () => {
    const small = createMemoryWal({
      channel: 'p1',
      scheduler: clock.scheduler,
      timeTickInterval: '20ms',
      writeAheadBuffer: { capacity: 64, keepalive: '50ms' },
    });
    const metrics = createInMemoryMetrics();
    const switches: string[] = [];
    const counting = {
      ...metrics,
      switchModel: (from: ScannerModel | undefined, to: ScannerModel) =>
        switches.push(`${from}->${to}`),
    };
    let blocked = false;
    let unblock: () => void = () => undefined;
    const flowControl = {
      whenReady: () => (blocked ? new Promise<void>((resolve) => (unblock = resolve)) : undefined),
    };
    const txn = await small.beginTxn({ vchannel: 'v1', keepalive: '1h' });
    await txn.append({ type: 'Insert', payload: 'early body' });
    const out = collect(
      switchableSource(small, { scheduler: clock.scheduler, metrics: counting, flowControl }),
    );
    await clock.advance(30);
    expect(switches).toContain('catchup->tailing');
    blocked = true; // a slow consumer: the tailing reader falls behind the buffer's retention
    for (let i = 0; i < 10; i++) {
      await txn.append({ type: 'Insert', payload: `body ${i}` });
      await small.append({ type: 'Insert', vchannel: 'v2', payload: 'x'.repeat(40) });
      await clock.advance(20);
    }
    await txn.commit();
    blocked = false;
    unblock();
    await clock.advance(200, 10);
    expect(switches).toContain('tailing->catchup');
    const data = out.seen.filter((m) => m.type !== 'TimeTick');
    const ids = data.map((m) => m.id.key);
    expect(new Set(ids).size).toBe(ids.length); // each data message handed over once
    expect(data.map((m) => m.payload)).toEqual(
      expect.arrayContaining(['early body', 'body 0', 'body 9']),
    );
    expect(data.filter((m) => m.type === 'CommitTxn')).toHaveLength(1);
    out.sub.unsubscribe();
    const closing = small.close();
    await clock.advance(1);
    await closing;
  });

  test('a recoverable tailing error closes the buffer reader and catches up from the log', async () => {
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 1 });
    await wal.syncTimeTick();
    let failNext = true;
    const closedReaders: boolean[] = [];
    const buffer: WriteAheadBuffer = {
      async readFromExclusiveTimeTick(tt, o) {
        const inner = await (wal.writeAheadBuffer as WriteAheadBuffer).readFromExclusiveTimeTick(
          tt,
          o,
        );
        const index = closedReaders.push(false) - 1;
        return {
          async next() {
            if (failNext) {
              failNext = false;
              throw new Error('transient blip');
            }
            return inner.next();
          },
          close() {
            closedReaders[index] = true;
            inner.close();
          },
        };
      },
    };
    const custom: ReadableWal = {
      channel: 'p0',
      accessMode: 'rw',
      read: (p) => wal.read(p),
      writeAheadBuffer: buffer,
    };
    const metrics = createInMemoryMetrics();
    const out = collect(
      switchableSource(custom, { scheduler: clock.scheduler, metrics, random: () => 0.5 }),
    );
    await clock.advance(5); // inside the 100 ms backoff after the failure
    expect(closedReaders[0]).toBe(true);
    expect(metrics.snapshot().scanners).toEqual({ catchup: 1, tailing: 0 });
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 2 });
    await clock.advance(400);
    expect(out.seen.filter((m) => m.type === 'Insert').map((m) => m.payload)).toEqual([1, 2]);
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 1 }); // joined again
    out.sub.unsubscribe();
  });

  test("reads each batch's id keys and time ticks before handing its first message on", async () => {
    // The warming of a batch (lib/internal/warmMessages.ts): a scattered batch's keys and ticks
    // are fetched in one tight loop before the stages meet them one at a time.
    const reads = { key: 0, timeTick: 0 };
    for (let i = 0; i < 3; i++) wal.appendRaw({ type: 'Insert', timeTick: 10 + i, vchannel: 'v1' });
    wal.appendRaw({ type: 'TimeTick', timeTick: 20 });
    const batched: ReadableWal = {
      channel: wal.channel,
      accessMode: 'ro',
      read(policy) {
        const inner = wal.read(policy);
        return {
          next: async (max) => (await inner.next(max)).map((m) => watchedReads(m, reads)),
          close: () => inner.close(),
        };
      },
    };
    const atFirst: { key: number; timeTick: number }[] = [];
    const sub = switchableSource(batched, { scheduler: clock.scheduler }).subscribe(() => {
      atFirst.push({ ...reads });
    });
    await clock.advance(1);
    sub.unsubscribe();
    expect(atFirst).toHaveLength(4);
    // all four keys and ticks were read once before the first message went on
    expect(atFirst[0]).toEqual({ key: 4, timeTick: 4 });
  });

  test('hands on a message its warming cannot read, for the stage that reads it to report', async () => {
    wal.appendRaw({ type: 'Insert', timeTick: 10, vchannel: 'v1' });
    wal.appendRaw({ type: 'TimeTick', timeTick: 20 });
    let opened = 0;
    const noIds: ReadableWal = {
      channel: wal.channel,
      accessMode: 'ro',
      read(policy) {
        opened++;
        const inner = wal.read(policy);
        return {
          next: async (max) =>
            (await inner.next(max)).map((m) => ({ ...m, id: undefined }) as unknown as WalMessage),
          close: () => inner.close(),
        };
      },
    };
    const out = collect(switchableSource(noIds, { scheduler: clock.scheduler }));
    await clock.advance(1);
    out.sub.unsubscribe();
    expect(out.errors).toEqual([]);
    expect(out.seen.map((m) => m.type)).toEqual(['Insert', 'TimeTick']);
    expect(opened).toBe(1); // not a read error: no retry
  });

  test('rejects bad options with ConfigError', () => {
    expect(() => switchableSource({} as ReadableWal)).toThrow(ConfigError);
    expect(() => switchableSource(wal, { readBatchSize: 0 })).toThrow(ConfigError);
    expect(() => switchableSource(wal, { backoff: { initial: '5 parsecs' } })).toThrow(
      /backoff.initial/,
    );
    expect(() =>
      switchableSource(wal, { deliverPolicy: { kind: 'sometime' } as unknown as DeliverPolicy }),
    ).toThrow(ConfigError);
  });
});
