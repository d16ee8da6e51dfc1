import { Writable } from 'node:stream';

import pino from 'pino';
import { take } from 'rxjs';

import { checkpointOf, type Checkpoint } from '../../lib/checkpoint/checkpoint.js';
import {
  memoryCheckpointStore,
  type CheckpointStore,
} from '../../lib/checkpoint/checkpointStore.js';
import { ConfigError, WalError } from '../../lib/errors.js';
import type { WalMessage } from '../../lib/message/message.js';
import { createInMemoryMetrics } from '../../lib/observability/metrics.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { scanWal, type ScanOptions } from '../../lib/scanner/scanWal.js';
import { createMemoryWal, type MemoryWal } from '../../lib/wal/memoryWal.js';
import type { ReadableWal, WalReader } from '../../lib/wal/wal.js';
import { configErrorOf } from '../support/errors.js';
import { settle, VirtualClock } from '../../lib/testing/index.js';

/** A memory store that also remembers every checkpoint saved, in order (by id). */
function recordingStore(initial?: Checkpoint): CheckpointStore & { saved: string[] } {
  const inner = memoryCheckpointStore();
  const saved: string[] = [];
  let first = initial;
  return {
    saved,
    load: async () => {
      if (first !== undefined) {
        await inner.save(first);
        first = undefined;
      }
      return inner.load();
    },
    save: async (cp) => {
      await inner.save(cp);
      saved.push(cp.id.key);
    },
  };
}

/** A raw log: ticks every 3 records, ids 1..n; data ids are the keys delivered. */
function rawLog(wal: MemoryWal, n: number): void {
  for (let i = 1; i <= n; i++) {
    if (i % 3 === 0) wal.appendRaw({ type: 'TimeTick', timeTick: BigInt(i * 10) });
    else wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: BigInt(i * 10) });
  }
}

describe('scanWal checkpoint: { store, every }', () => {
  let clock: VirtualClock;
  let wal: MemoryWal;
  beforeEach(() => {
    clock = new VirtualClock();
    wal = createMemoryWal({ channel: 'p0', scheduler: clock.scheduler });
  });
  afterEach(async () => {
    const closing = wal.close();
    await clock.advance(1);
    await closing;
  });

  const options = (extra: Partial<ScanOptions>): ScanOptions => ({
    scheduler: clock.scheduler,
    ...extra,
  });

  const ids = (ms: readonly WalMessage[]): string[] => ms.map((m) => m.id.key);

  /** Appends `windows` windows of (insert, insert, tick), letting the scanner take each in turn. */
  async function feed(windows: number): Promise<void> {
    for (let w = 0; w < windows; w++) {
      const base = BigInt(nextTick);
      wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: base + 1n });
      wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: base + 2n });
      wal.appendRaw({ type: 'TimeTick', timeTick: base + 3n });
      nextTick += 10;
      await clock.advance(2);
    }
  }
  let nextTick = 10;
  beforeEach(() => {
    nextTick = 10;
  });

  test('push: saves as messages are handled (the newest when saves queue up); a restart delivers exactly the rest', async () => {
    const store = recordingStore();
    const first: WalMessage[] = [];
    const sub = scanWal(wal, options({ checkpoint: { store } }))
      .pipe(take(5))
      .subscribe((m) => first.push(m));
    await feed(4);
    expect(sub.closed).toBe(true);
    expect(ids(first)).toEqual(['1', '2', '3', '4', '5']);
    // each burst saves its first message at once and its newest once that save is done
    expect(store.saved).toEqual(['1', '3', '4', '5']);

    const rest: WalMessage[] = [];
    const again = scanWal(wal, options({ checkpoint: { store } })).subscribe((m) => rest.push(m));
    await clock.advance(5);
    again.unsubscribe();
    expect(ids(rest)).toEqual(['6', '7', '8', '9', '10', '11', '12']);
  });

  test('every.messages: saves every n handled messages and flushes the rest on close', async () => {
    const store = recordingStore();
    const sub = scanWal(
      wal,
      options({ checkpoint: { store, every: { messages: 3 } } }),
    ).subscribe();
    await feed(3);
    expect(store.saved).toEqual(['3', '6', '9']);
    wal.appendRaw({ type: 'TimeTick', timeTick: 1000n });
    await clock.advance(2);
    expect(store.saved).toEqual(['3', '6', '9']);
    sub.unsubscribe();
    await settle();
    expect(store.saved).toEqual(['3', '6', '9', '10']);
  });

  test('every.interval: at most one save per interval, a trailing save when it is up', async () => {
    const store = recordingStore();
    const sub = scanWal(
      wal,
      options({ checkpoint: { store, every: { interval: '100ms' } } }),
    ).subscribe();
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 10n });
    wal.appendRaw({ type: 'TimeTick', timeTick: 20n });
    await clock.advance(50);
    expect(store.saved).toEqual([]);
    await clock.advance(60);
    expect(store.saved).toEqual(['2']);
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 30n });
    wal.appendRaw({ type: 'TimeTick', timeTick: 40n });
    await clock.advance(20);
    expect(store.saved).toEqual(['2']);
    await clock.advance(100);
    expect(store.saved).toEqual(['2', '4']);
    sub.unsubscribe();
    await settle();
    expect(store.saved).toEqual(['2', '4']); // nothing new to flush
  });

  test('every with both: whichever comes first', async () => {
    const store = recordingStore();
    const sub = scanWal(
      wal,
      options({ checkpoint: { store, every: { messages: 2, interval: 1000 } } }),
    )
      .pipe(take(5))
      .subscribe();
    await feed(1);
    expect(store.saved).toEqual(['2']);
    await clock.advance(1000);
    expect(store.saved).toEqual(['2', '3']); // the interval was up
    await feed(1);
    expect(sub.closed).toBe(true);
    // closing inside the 5th message's next flushes 4, then 5 is handled (its next returned)
    expect(store.saved).toEqual(['2', '3', '4', '5']);
  });

  test('pull: a message is handled when the consumer asks for the next one; the one in hand at break is not', async () => {
    rawLog(wal, 9);
    const store = recordingStore();
    const seen: string[] = [];
    const consuming = (async () => {
      for await (const m of scanWal(wal, options({ checkpoint: { store } }))) {
        seen.push(m.id.key);
        if (m.id.key === '2') expect(store.saved).toEqual(['1']);
        if (m.id.key === '4') break;
      }
    })();
    await clock.advance(10);
    await consuming;
    await settle();
    expect(seen).toEqual(['1', '2', '3', '4']);
    expect(store.saved).toEqual(['1', '2', '3']); // 4 is delivered again after a restart
    const again: string[] = [];
    for await (const m of scanWal(wal, options({ checkpoint: { store } }))) {
      again.push(m.id.key);
      if (m.id.key === '6') break;
    }
    expect(again).toEqual(['4', '5', '6']);
  });

  test('a checkpoint in the store wins over resumeFrom and deliverPolicy; an empty store uses them', async () => {
    rawLog(wal, 9);
    const m4 = wal.read(DeliverPolicy.all());
    const all = await m4.next(9);
    m4.close();
    const at = (key: string): Checkpoint =>
      checkpointOf(all.find((m) => m.id.key === key) as WalMessage);
    const got = async (store: CheckpointStore, extra: Partial<ScanOptions>): Promise<string[]> => {
      const seen: WalMessage[] = [];
      const sub = scanWal(wal, options({ checkpoint: { store }, ...extra })).subscribe((m) =>
        seen.push(m),
      );
      await clock.advance(5);
      sub.unsubscribe();
      return ids(seen);
    };
    expect(await got(recordingStore(at('5')), { resumeFrom: at('2') })).toEqual([
      '6',
      '7',
      '8',
      '9',
    ]);
    expect(await got(recordingStore(), { resumeFrom: at('2') })).toEqual([
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
    expect(
      await got(recordingStore(), { deliverPolicy: DeliverPolicy.startFrom(all[6]!.id) }),
    ).toEqual(['7', '8', '9']);
  });

  test('a failing save fails the scanner with that error', async () => {
    rawLog(wal, 3);
    const failure = new Error('disk full');
    const store: CheckpointStore = {
      load: () => Promise.resolve(undefined),
      save: () => Promise.reject(failure),
    };
    const errors: unknown[] = [];
    scanWal(wal, options({ checkpoint: { store } })).subscribe({
      error: (e: unknown) => errors.push(e),
    });
    await clock.advance(5);
    expect(errors).toEqual([failure]);
  });

  test('a failing or throwing load fails the scanner; a loaded non-checkpoint is a ConfigError', async () => {
    const failure = new Error('no such bucket');
    const stores: CheckpointStore[] = [
      { load: () => Promise.reject(failure), save: () => Promise.resolve() },
      {
        load: () => {
          throw failure;
        },
        save: () => Promise.resolve(),
      },
      { load: () => Promise.resolve({ timeTick: 'x' } as never), save: () => Promise.resolve() },
    ];
    const errors: unknown[] = [];
    for (const store of stores)
      scanWal(wal, options({ checkpoint: { store } })).subscribe({
        error: (e: unknown) => errors.push(e),
      });
    await clock.advance(5);
    expect(errors.slice(0, 2)).toEqual([failure, failure]);
    expect(errors[2]).toBeInstanceOf(ConfigError);
    expect((errors[2] as ConfigError).option).toBe('checkpoint.store.load().timeTick');
  });

  test('bad checkpoint options are ConfigErrors naming the option', () => {
    const store = memoryCheckpointStore();
    const bad = (extra: Partial<ScanOptions>): string =>
      configErrorOf(() => scanWal(wal, extra)).option;
    expect(bad({ checkpoint: 3 as never })).toBe('checkpoint');
    expect(bad({ checkpoint: { store: {} as never } })).toBe('checkpoint.store');
    expect(bad({ checkpoint: { store, every: 5 as never } })).toBe('checkpoint.every');
    expect(bad({ checkpoint: { store, every: { messages: 0 } } })).toBe(
      'checkpoint.every.messages',
    );
    expect(bad({ checkpoint: { store, every: { interval: '5 parsecs' } } })).toBe(
      'checkpoint.every.interval',
    );
    expect(bad({ resumeFrom: { timeTick: 1n } as never })).toBe('resumeFrom.id');
    expect(bad({ maxRetries: -1 })).toBe('maxRetries');
    expect(bad({ maxRetries: 1.5 })).toBe('maxRetries');
  });
});

describe('scanWal retries', () => {
  /** A WAL whose readers fail their first `failures` next() calls (counted over all readers). */
  function failingWal(
    inner: ReadableWal,
    failures: number | ((call: number) => boolean),
    make: () => Error,
  ): ReadableWal {
    const fails = typeof failures === 'number' ? (call: number) => call <= failures : failures;
    let calls = 0;
    return {
      channel: inner.channel,
      accessMode: 'ro',
      read: (policy): WalReader => {
        const reader = inner.read(policy);
        return {
          next: (max) => (fails(++calls) ? Promise.reject(make()) : reader.next(max)),
          close: () => reader.close(),
        };
      },
    };
  }

  function captureLogs(): { logger: pino.Logger; lines: { level: number; msg: string }[] } {
    const lines: { level: number; msg: string }[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as { level: number; msg: string });
        done();
      },
    });
    return { logger: pino({ level: 'debug' }, stream), lines };
  }

  let clock: VirtualClock;
  let wal: MemoryWal;
  beforeEach(() => {
    clock = new VirtualClock();
    wal = createMemoryWal({ channel: 'p0', scheduler: clock.scheduler });
    rawLog(wal, 3);
  });
  afterEach(async () => {
    const closing = wal.close();
    await clock.advance(1);
    await closing;
  });

  test('retries are counted by code, logged once per streak at warn, and the streak end at info', async () => {
    const metrics = createInMemoryMetrics();
    const { logger, lines } = captureLogs();
    const faulty = failingWal(wal, 3, () => new WalError('READ_FAILED', 'the disk hiccuped'));
    const seen: string[] = [];
    const sub = scanWal(faulty, {
      scheduler: clock.scheduler,
      metrics,
      logger,
      backoff: { initial: 1, max: 4 },
    }).subscribe((m) => seen.push(m.id.key));
    await clock.advance(100);
    sub.unsubscribe();
    await settle();
    expect(seen).toEqual(['1', '2', '3']);
    expect(metrics.snapshot().retries).toEqual({ READ_FAILED: 3 });
    const warn = lines.filter((l) => l.level === 40 && /read failed/.test(l.msg));
    const debug = lines.filter((l) => l.level === 20 && /read failed again/.test(l.msg));
    const recovered = lines.filter((l) => l.level === 30 && /reading again/.test(l.msg));
    expect([warn.length, debug.length, recovered.length]).toEqual([1, 2, 1]);
  });

  test('maxRetries: after that many failed retries in a row the scanner fails with the last error', async () => {
    let n = 0;
    const faulty = failingWal(wal, 100, () => new Error(`read error ${++n}`));
    const metrics = createInMemoryMetrics();
    const errors: unknown[] = [];
    scanWal(faulty, {
      scheduler: clock.scheduler,
      metrics,
      maxRetries: 2,
      backoff: { initial: 1, max: 1 },
    }).subscribe({ error: (e: unknown) => errors.push(e) });
    await clock.advance(50);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('read error 3');
    expect(metrics.snapshot().retries).toEqual({ Error: 2 });
  });

  test('maxRetries counts a streak: a successful read starts it over', async () => {
    // calls 1, 2, 4 and 5 fail: four failures, never three in a row
    const faulty = failingWal(
      wal,
      (call) => [1, 2, 4, 5].includes(call),
      () => new Error('flaky'),
    );
    const errors: unknown[] = [];
    const seen: string[] = [];
    const sub = scanWal(faulty, {
      scheduler: clock.scheduler,
      maxRetries: 2,
      readBatchSize: 1,
      backoff: { initial: 1, max: 1 },
    }).subscribe({
      next: (m) => seen.push(m.id.key),
      error: (e: unknown) => errors.push(e),
    });
    await clock.advance(50);
    sub.unsubscribe();
    expect(errors).toEqual([]);
    expect(seen).toEqual(['1', '2', '3']);
  });

  test('maxRetries: 0 fails at the first error', async () => {
    const faulty = failingWal(wal, 1, () => new Error('once'));
    const errors: unknown[] = [];
    scanWal(faulty, { scheduler: clock.scheduler, maxRetries: 0 }).subscribe({
      error: (e: unknown) => errors.push(e),
    });
    await clock.advance(5);
    expect((errors[0] as Error).message).toBe('once');
  });
});
