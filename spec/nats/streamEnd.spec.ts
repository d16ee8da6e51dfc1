/**
 * `logEnd()` of the JetStream WAL: the tracker's caching and refresh rules in virtual time, then
 * against a real nats-server the writer's exact end, a follower's refreshed end, and a scanner
 * reporting its lag from it.
 */
import type { Subscription } from 'rxjs';

import { messageId } from '../../lib/message/messageId.js';
import type { JetStreamWal } from '../../lib/nats/index.js';
import { STREAM_END_REFRESH_MS, StreamEnd, type StreamPosition } from '../../lib/nats/streamEnd.js';
import { silentLogger, type Logger } from '../../lib/observability/logger.js';
import { createInMemoryMetrics } from '../../lib/observability/metrics.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { VirtualClock } from '../../lib/testing/virtualClock.js';
import { ApiSpy } from './support/apiSpy.js';
import { walsOnOneServer } from './support/walsOnServer.js';
import { describeWithNats } from './support/natsServer.js';

jest.setTimeout(30_000);

/** A server answer the test releases when it wants. */
function deferred<T>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('StreamEnd', () => {
  const at = (sequence: bigint, timeTick: bigint): StreamPosition => ({ sequence, timeTick });

  test('answers from what it knows and asks the server again only after the refresh interval', async () => {
    const clock = new VirtualClock();
    const answers: ReturnType<typeof deferred<StreamPosition | undefined>>[] = [];
    const end = new StreamEnd(
      () => {
        answers.push(deferred());
        return (answers.at(-1) as (typeof answers)[number]).promise;
      },
      clock.scheduler,
      silentLogger(),
      at(10n, 500n),
    );
    expect(end.current()).toEqual({ id: messageId(10), timeTick: 500n });
    await clock.advance(STREAM_END_REFRESH_MS - 1);
    end.current();
    expect(answers).toHaveLength(0);
    await clock.advance(1);
    // the old end now, one request under way, joined by later calls
    expect(end.current()).toEqual({ id: messageId(10), timeTick: 500n });
    end.current();
    const joined = end.refresh();
    expect(answers).toHaveLength(1);
    answers[0]?.resolve(at(25n, 900n));
    await expect(joined).resolves.toEqual({ id: messageId(25), timeTick: 900n });
    expect(end.current()).toEqual({ id: messageId(25), timeTick: 900n });
    expect(answers).toHaveLength(1);
    await clock.advance(STREAM_END_REFRESH_MS);
    end.current();
    expect(answers).toHaveLength(2);
  });

  test('only moves forward, takes what the writer acknowledged, and keeps it when a request fails', async () => {
    const warnings: unknown[] = [];
    const logger: Logger = { ...silentLogger(), warn: (obj) => warnings.push(obj) };
    let answer: Promise<StreamPosition | undefined> = Promise.resolve(at(5n, 100n));
    const end = new StreamEnd(() => answer, new VirtualClock().scheduler, logger, undefined);
    expect(end.current()).toBeUndefined(); // an empty stream
    end.observe(at(7n, 300n));
    expect(end.current()).toEqual({ id: messageId(7), timeTick: 300n });
    await end.refresh(); // the server is behind what the writer saw acknowledged
    expect(end.current()).toEqual({ id: messageId(7), timeTick: 300n });
    answer = Promise.reject(new Error('no responders'));
    await expect(end.refresh()).resolves.toEqual({ id: messageId(7), timeTick: 300n });
    expect(warnings).toHaveLength(1);
    end.close();
  });
});

describeWithNats('logEnd() of the JetStream WAL', () => {
  const nats = walsOnOneServer('logend');
  const open = (channel: string, readOnly = false): Promise<JetStreamWal> =>
    nats.open(channel, { readOnly });

  test("the writer's process knows its end at once; a follower learns it from the stream", async () => {
    const wal = await open('ends');
    expect(wal.logEnd()).toBeUndefined();
    const spy = await ApiSpy.start(nats.server(), wal.stream);
    const first = await wal.append({ type: 'Insert', vchannel: 'v1' });
    // exact without asking the server: what the writer had acknowledged
    expect(wal.logEnd()).toEqual({ id: first.id, timeTick: first.timeTick });
    expect(spy.of('STREAM.INFO')).toHaveLength(0);
    await spy.stop();

    const follower = await open('ends', true);
    expect(follower.logEnd()).toEqual({ id: first.id, timeTick: first.timeTick });
    await wal.append({ type: 'Insert', vchannel: 'v2' });
    const tick = await wal.syncTimeTick({ persisted: true });
    expect(follower.logEnd()?.id.key).toBe(first.id.key); // not refreshed yet
    await expect(follower.refreshLogEnd()).resolves.toEqual({
      id: tick.id,
      timeTick: tick.timeTick,
    });
    expect(follower.logEnd()).toEqual({ id: tick.id, timeTick: tick.timeTick });
  });

  test('a scanner on a follower reports its lag from it', async () => {
    const wal = await open('lag');
    for (let i = 0; i < 20; i++) await wal.append({ type: 'Insert', vchannel: 'v1' });
    const last = await wal.syncTimeTick({ persisted: true });
    const follower = await open('lag', true);
    const metrics = createInMemoryMetrics();
    const lastKey = last.id.key;
    let subscription: Subscription | undefined;
    await new Promise<void>((resolve) => {
      subscription = scanWal(follower, { name: 'follower', metrics }).subscribe((m) => {
        if (m.id.key === lastKey) resolve();
      });
    });
    expect(metrics.snapshot().lag.follower).toEqual({ seconds: 0, messages: 0 });
    subscription?.unsubscribe();
  });
});
