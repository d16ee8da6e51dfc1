import { BehaviorSubject } from 'rxjs';

import type { MessageType } from '../../lib/message/message.js';
import {
  noopMetrics,
  type ScannerMetrics,
  type ScannerModel,
} from '../../lib/observability/metrics.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { createMemoryWal } from '../../lib/wal/memoryWal.js';
import { settle } from '../../lib/testing/index.js';

/** Counts what the scanner read (every message passes the absent deliver filters). */
function readCounter(): ScannerMetrics & { read: number; pendingBytes: number } {
  const counter = {
    ...noopMetrics,
    read: 0,
    pendingBytes: 0,
    observeMessage(_model: ScannerModel, _type: MessageType, _bytes: number) {
      counter.read++;
    },
    addPendingQueueBytes(delta: number) {
      counter.pendingBytes += delta;
    },
  };
  return counter;
}

describe('scanWal pull API', () => {
  test('a slow consumer over a 100,000-message WAL: read − delivered never exceeds pendingLimit + one read batch', async () => {
    const wal = createMemoryWal({ channel: 'big' });
    for (let i = 1; i <= 50_000; i++) {
      wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: BigInt(2 * i), payload: i });
      wal.appendRaw({ type: 'TimeTick', timeTick: BigInt(2 * i + 1) });
    }
    const pendingLimit = 16;
    const readBatchSize = 64;
    const metrics = readCounter();
    let delivered = 0;
    let worst = 0;
    for await (const m of scanWal(wal, { metrics, pendingLimit, readBatchSize })) {
      delivered++;
      worst = Math.max(worst, metrics.read - delivered);
      if (m.payload === 50_000) break;
      if (delivered % 8 === 0) await settle(); // a slow, asynchronous consumer
    }
    expect(delivered).toBe(99_999); // every insert and the ticks between them, up to the last insert
    expect(worst).toBeLessThanOrEqual(pendingLimit + readBatchSize);
    expect(worst).toBeGreaterThanOrEqual(pendingLimit); // the reader did run ahead, up to the limit
    expect(metrics.pendingBytes).toBe(0); // leaving the loop released the queue
    await wal.close();
  }, 60_000);

  test('leaving the loop with break, throw or return closes the scanner', async () => {
    const wal = createMemoryWal({ channel: 'p', timeTickInterval: '10ms' });
    await wal.append({ type: 'Insert' });
    const pause$ = new BehaviorSubject(false);
    const scan = scanWal(wal, { pause$ });
    for await (const m of scan) {
      if (m.type === 'Insert') break;
    }
    expect(pause$.observed).toBe(false);
    const consume = async (): Promise<void> => {
      for await (const m of scan) {
        if (m.type === 'Insert') throw new Error('consumer failed');
      }
    };
    await expect(consume()).rejects.toThrow('consumer failed');
    expect(pause$.observed).toBe(false);
    const iterator = scan[Symbol.asyncIterator]();
    await iterator.next();
    await expect(iterator.return?.()).resolves.toEqual({ value: undefined, done: true });
    await expect(iterator.next()).resolves.toEqual({ value: undefined, done: true });
    await wal.close();
  });

  test('overlapping next() calls are served in call order (issue 9 item 5)', async () => {
    const wal = createMemoryWal({ channel: 'p' });
    wal.appendRaw({ type: 'TimeTick', timeTick: 1n });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 2n, payload: 'a' });
    wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: 2n, payload: 'b' });
    wal.appendRaw({ type: 'TimeTick', timeTick: 3n });
    const iterator = scanWal(wal)[Symbol.asyncIterator]();
    const settled: number[] = [];
    const calls = [iterator.next(), iterator.next(), iterator.next()];
    const fourth = iterator.next();
    calls.push(fourth);
    calls.forEach((call, i) => void call.then(() => settled.push(i)));
    const last = await fourth;
    // every call before the last one has settled, in call order, when the last one resolves
    expect(settled).toEqual([0, 1, 2, 3]);
    const results = await Promise.all(calls);
    expect(
      results.map((r) => (r.done ? 'done' : `${r.value.type} ${String(r.value.payload)}`)),
    ).toEqual(['TimeTick undefined', 'Insert a', 'Insert b', 'TimeTick undefined']);
    expect(last.done).toBe(false);
    await iterator.return?.();
    await wal.close();
  });

  test('return() settles every next() waiting on an idle log with done (issue 9 item 5)', async () => {
    const wal = createMemoryWal({ channel: 'p' });
    wal.appendRaw({ type: 'TimeTick', timeTick: 1n });
    const metrics = readCounter();
    const iterator = scanWal(wal, { metrics })[Symbol.asyncIterator]();
    await expect(iterator.next()).resolves.toMatchObject({ done: false });
    const waiting = [iterator.next(), iterator.next(), iterator.next()];
    const settled: IteratorResult<unknown>[] = [];
    waiting.forEach((call) => void call.then((r) => settled.push(r)));
    await settle(); // the scanner is idle: nothing more in the log
    expect(settled).toEqual([]);
    await expect(iterator.return?.()).resolves.toEqual({ value: undefined, done: true });
    // settled before return()'s own promise resolved: no waiting on anything else
    expect(settled).toEqual([
      { value: undefined, done: true },
      { value: undefined, done: true },
      { value: undefined, done: true },
    ]);
    await expect(iterator.next()).resolves.toEqual({ value: undefined, done: true });
    expect(metrics.pendingBytes).toBe(0);
    await wal.close();
  });

  test('throw() settles the waiting next() calls with done and rejects itself (issue 9 item 5)', async () => {
    const wal = createMemoryWal({ channel: 'p' });
    const iterator = scanWal(wal)[Symbol.asyncIterator]();
    const waiting = [iterator.next(), iterator.next()];
    const failure = new Error('consumer gave up');
    await expect(iterator.throw?.(failure)).rejects.toBe(failure);
    await expect(Promise.all(waiting)).resolves.toEqual([
      { value: undefined, done: true },
      { value: undefined, done: true },
    ]);
    await wal.close();
  });

  test('a scanner error goes to the first waiting next(), the others are done (issue 9 item 5)', async () => {
    const wal = createMemoryWal({ channel: 'p' });
    wal.appendRaw({ type: 'TimeTick', timeTick: 1n });
    const iterator = scanWal(wal)[Symbol.asyncIterator]();
    await expect(iterator.next()).resolves.toMatchObject({ done: false });
    const first = iterator.next();
    const second = iterator.next();
    const closing = wal.close();
    await expect(first).rejects.toThrow(/closed/);
    await expect(second).resolves.toEqual({ value: undefined, done: true });
    await closing;
  });

  test('a scanner error reaches the loop once; the iterator is done afterwards', async () => {
    const wal = createMemoryWal({ channel: 'p' });
    wal.appendRaw({ type: 'TimeTick', timeTick: 1n });
    const iterator = scanWal(wal)[Symbol.asyncIterator]();
    await expect(iterator.next()).resolves.toMatchObject({ done: false });
    await wal.close();
    await expect(iterator.next()).rejects.toThrow(/closed/);
    await expect(iterator.next()).resolves.toEqual({ value: undefined, done: true });
  });
});
