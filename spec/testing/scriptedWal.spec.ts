import {
  ClosedError,
  ConfigError,
  createInMemoryMetrics,
  DeliverPolicy,
  EvictedError,
  messageId,
  scanWal,
  type WalMessage,
} from '../../lib/index.js';
import {
  formatWalMessage,
  scriptedWal,
  VirtualClock,
  walMessages,
} from '../../lib/testing/index.js';

const texts = (messages: readonly WalMessage[]): string[] => messages.map(formatWalMessage);

/** Subscribes a scanner and records `<virtual ms>: <message>` for each delivery. */
function record(clock: VirtualClock, scanned: ReturnType<typeof scanWal>): string[] {
  const seen: string[] = [];
  scanned.subscribe({
    next: (m) => seen.push(`${clock.now()}: ${formatWalMessage(m)}`),
    error: (err: unknown) => seen.push(`${clock.now()}: error ${String(err)}`),
  });
  return seen;
}

describe('scriptedWal: the log', () => {
  it('appends each key at its frame: "-" is 1 ms, a group one instant, "10ms" a progression', async () => {
    const clock = new VirtualClock();
    const wal = scriptedWal(
      'a-b (cd) 10ms e',
      {
        a: 'ins v1 @1',
        b: 'ins v1 @2',
        c: 'ins v1 @3',
        d: 'ins v1 @4',
        e: 'tt @5',
      },
      { scheduler: clock.scheduler },
    );
    expect(texts(wal.log)).toEqual(['Insert v1 @1 #1']);
    await clock.advance(2);
    expect(wal.log).toHaveLength(2); // b at 2 ms
    await clock.advance(1);
    expect(wal.log).toHaveLength(4); // the group at 3 ms, taking 4 frames as in rxjs
    await clock.advance(13);
    expect(wal.log).toHaveLength(4);
    await clock.advance(1);
    expect(texts(wal.log)).toEqual([
      'Insert v1 @1 #1',
      'Insert v1 @2 #2',
      'Insert v1 @3 #3',
      'Insert v1 @4 #4',
      'TimeTick @5 #5',
    ]); // e at 3 + 4 (the group) + 10 = 17 ms
  });

  it('takes WalMessage values as they are and numbers notations after the last id', () => {
    const m = walMessages({ a: 'ins v1 @1 #10' });
    const wal = scriptedWal('(ab)', { a: m.a, b: 'tt @2' });
    expect(texts(wal.log)).toEqual(['Insert v1 @1 #10', 'TimeTick @2 #11']);
    wal.close();
  });

  it('a key used twice appends the same message twice (a duplicate)', () => {
    const wal = scriptedWal('(aa)', { a: 'ins v1 @1' });
    expect(texts(wal.log)).toEqual(['Insert v1 @1 #1', 'Insert v1 @1 #1']);
  });

  it('serves every deliver policy, and resolves latest() to the position it started at', async () => {
    const wal = scriptedWal('(abc)', { a: 'ins v1 @1', b: 'ins v1 @2', c: 'tt @3' });
    expect(texts(await wal.read(DeliverPolicy.all()).next())).toHaveLength(3);
    expect(texts(await wal.read(DeliverPolicy.startFrom(messageId(2))).next())).toEqual([
      'Insert v1 @2 #2',
      'TimeTick @3 #3',
    ]);
    expect(texts(await wal.read(DeliverPolicy.startAfter(messageId(2))).next())).toEqual([
      'TimeTick @3 #3',
    ]);
    const latest = wal.read(DeliverPolicy.latest());
    expect(latest.resolvedPolicy).toEqual(DeliverPolicy.startAfter(messageId(3)));
    expect(wal.read(DeliverPolicy.startFrom(messageId(9))).resolvedPolicy?.kind).toBe('startFrom');
    expect(wal.reads.map((r) => r.policy.kind)).toEqual([
      'all',
      'startFrom',
      'startAfter',
      'latest',
      'startFrom',
    ]);
  });

  it('a waiting read returns what arrives, at most maxBatch at a time', async () => {
    const clock = new VirtualClock();
    const wal = scriptedWal(
      '-(abc)',
      { a: 'ins v1 @1', b: 'ins v1 @2', c: 'tt @3' },
      {
        scheduler: clock.scheduler,
        maxBatch: 2,
      },
    );
    const reader = wal.read(DeliverPolicy.all());
    const first = reader.next();
    await clock.advance(1);
    expect(texts(await first)).toEqual(['Insert v1 @1 #1', 'Insert v1 @2 #2']);
    expect(texts(await reader.next(5))).toEqual(['TimeTick @3 #3']);
  });

  it('close() ends waiting reads and later ones with ClosedError and stops the script', async () => {
    const clock = new VirtualClock();
    const wal = scriptedWal('-a', { a: 'tt @1' }, { scheduler: clock.scheduler });
    const waiting = wal.read(DeliverPolicy.all()).next();
    wal.close();
    wal.close();
    await expect(waiting).rejects.toThrow(ClosedError);
    expect(() => wal.read(DeliverPolicy.all())).toThrow(ClosedError);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a closed reader stops waiting and rejects its later reads', async () => {
    const clock = new VirtualClock();
    const wal = scriptedWal('', {}, { scheduler: clock.scheduler });
    const reader = wal.read(DeliverPolicy.all());
    const waiting = reader.next();
    reader.close();
    await expect(waiting).rejects.toThrow(ClosedError);
    await expect(reader.next()).rejects.toThrow(ClosedError);
    await expect(wal.read(DeliverPolicy.all()).next(0)).rejects.toThrow(ConfigError);
  });
});

describe('scriptedWal: faults', () => {
  it('"#" fails the next read, a waiting one included; the reader keeps failing', async () => {
    const clock = new VirtualClock();
    const wal = scriptedWal('a-#', { a: 'tt @1' }, { scheduler: clock.scheduler });
    const reader = wal.read(DeliverPolicy.all());
    expect(await reader.next()).toHaveLength(1);
    const waiting = expect(reader.next()).rejects.toThrow('scripted read error');
    await clock.advance(2);
    await waiting;
    await expect(reader.next()).rejects.toThrow('scripted read error');
    expect(texts(await wal.read(DeliverPolicy.all()).next())).toEqual(['TimeTick @1 #1']);
  });

  it('a key whose value is an Error fails the next read with that error', async () => {
    const boom = new Error('disk on fire');
    const wal = scriptedWal('(xa)', { x: boom, a: 'tt @1' });
    await expect(wal.read(DeliverPolicy.all()).next()).rejects.toBe(boom);
  });

  it('options.error is the error of "#"', async () => {
    const error = new Error('custom');
    const wal = scriptedWal('#', {}, { error });
    await expect(wal.read(DeliverPolicy.all()).next()).rejects.toBe(error);
  });

  it('"|" ends the next read with an empty batch, for good on that reader', async () => {
    const wal = scriptedWal('(|a)', { a: 'tt @1' });
    const reader = wal.read(DeliverPolicy.all());
    expect(await reader.next()).toEqual([]);
    expect(await reader.next()).toEqual([]);
    expect(await wal.read(DeliverPolicy.all()).next()).toHaveLength(1);
  });

  it('a scanner retries a failed read after backoff and delivers everything once', async () => {
    const clock = new VirtualClock();
    const wal = scriptedWal(
      '(##|abt)',
      { a: 'ins v1 @2', b: 'ins v1 @1', t: 'tt @3' },
      {
        scheduler: clock.scheduler,
      },
    );
    const seen = record(clock, scanWal(wal, { scheduler: clock.scheduler }));
    await clock.advance(2_000, 5);
    expect(seen.map((s) => s.replace(/^\d+: /, ''))).toEqual([
      'Insert v1 @1 #2',
      'Insert v1 @2 #1',
      'TimeTick @3 #3',
    ]);
    // three failed reads, then the one that succeeds; waits of 100, 200, 400 ms ±50 %
    const at = wal.reads.map((r) => r.at);
    expect(at).toHaveLength(4);
    const waits = at.slice(1).map((t, i) => t - (at[i] as number));
    [100, 200, 400].forEach((base, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(base / 2);
      expect(waits[i]).toBeLessThanOrEqual(base * 1.5 + 5);
    });
  });
});

describe('scriptedWal: the write-ahead buffer', () => {
  const log = {
    a: 'ins v1 @2',
    b: 'ins v1 @1',
    t: 'tt @3',
    c: 'ins v1 @4',
    s: 'tt @5',
    d: 'ins v1 @6',
    u: 'tt @7',
  };

  it('has none before the first time tick, then the scanner switches to tailing', async () => {
    const clock = new VirtualClock();
    const wal = scriptedWal('ab-t 10ms (cs)', log, {
      writeAheadBuffer: true,
      scheduler: clock.scheduler,
    });
    expect(wal.accessMode).toBe('rw');
    expect(wal.writeAheadBuffer).toBeUndefined();
    const metrics = createInMemoryMetrics();
    const seen = record(clock, scanWal(wal, { scheduler: clock.scheduler, metrics }));
    await clock.advance(3);
    expect(wal.writeAheadBuffer).toBeDefined();
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 1 });
    await clock.advance(20);
    expect(seen).toEqual([
      '3: Insert v1 @1 #2',
      '3: Insert v1 @2 #1',
      '3: TimeTick @3 #3',
      '14: Insert v1 @4 #4',
      '14: TimeTick @5 #5',
    ]);
    expect(wal.reads).toHaveLength(1); // the rest came from the buffer
  });

  it('"!" evicts a reader behind the buffer: the scanner catches up from the log, nothing twice', async () => {
    const clock = new VirtualClock();
    const wal = scriptedWal('(abt) 10ms (cs!) 10ms (du)', log, {
      writeAheadBuffer: true,
      scheduler: clock.scheduler,
    });
    const metrics = createInMemoryMetrics();
    const seen = record(clock, scanWal(wal, { scheduler: clock.scheduler, metrics }));
    await clock.advance(40);
    expect(seen.map((s) => s.replace(/^\d+: /, ''))).toEqual([
      'Insert v1 @1 #2',
      'Insert v1 @2 #1',
      'TimeTick @3 #3',
      'Insert v1 @4 #4',
      'TimeTick @5 #5',
      'Insert v1 @6 #6',
      'TimeTick @7 #7',
    ]);
    // evicted at 15 ms: a second catch-up read from the last delivered message's position
    expect(wal.reads.map((r) => [r.at, r.policy])).toEqual([
      [0, DeliverPolicy.all()],
      [15, DeliverPolicy.startFrom(messageId(3))],
    ]);
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 1 });
  });

  it('a buffer reader behind a "!" gets EvictedError; joining before it too', async () => {
    const clock = new VirtualClock();
    const wal = scriptedWal('t-(cs)-!', log, {
      writeAheadBuffer: true,
      scheduler: clock.scheduler,
    });
    const buffer = wal.writeAheadBuffer;
    if (buffer === undefined) throw new Error('no buffer');
    const reader = await buffer.readFromExclusiveTimeTick(3n);
    await clock.advance(7);
    await expect(reader.next()).rejects.toThrow(EvictedError);
    await expect(buffer.readFromExclusiveTimeTick(3n)).rejects.toThrow(EvictedError);
  });

  it('a not-persisted tick goes to the buffer only', async () => {
    const clock = new VirtualClock();
    const wal = scriptedWal(
      't-n',
      { t: 'tt @3', n: 'tt @4 np' },
      {
        writeAheadBuffer: true,
        scheduler: clock.scheduler,
      },
    );
    const reader = await wal.writeAheadBuffer?.readFromExclusiveTimeTick(3n);
    await clock.advance(2);
    expect(formatWalMessage((await reader?.next()) as WalMessage)).toBe('TimeTick @4 #2 np');
    expect(texts(wal.log)).toEqual(['TimeTick @3 #1']);
  });

  it('close() closes the buffer too', async () => {
    const wal = scriptedWal('t', { t: 'tt @3' }, { writeAheadBuffer: true });
    wal.close();
    await expect(wal.writeAheadBuffer?.readFromExclusiveTimeTick(3n)).rejects.toThrow(ClosedError);
  });
});

describe('scriptedWal: bad scripts and options', () => {
  it.each([
    ['an unknown key', 'ax', { a: 'tt @1' }, {}, /key "x" is not in values at position 1/],
    ['an unbalanced "("', '(a', { a: 'tt @1' }, {}, /"\(" without its "\)"/],
    ['an unbalanced ")"', 'a)', { a: 'tt @1' }, {}, /"\)" without its "\(" at position 1/],
    ['a nested group', '((a))', { a: 'tt @1' }, {}, /group inside a group at position 1/],
    ['a bad notation', 'a', { a: 'ins v1' }, {}, /key "a": .*needs a time tick/],
    ['a value of another kind', 'a', { a: 42 }, {}, /value of "a" is not a message/],
    ['decreasing ids', 'ab', { a: 'tt @1 #5', b: 'tt @2 #4' }, {}, /id 4 below 5/],
    ['"!" without a buffer', 'a!', { a: 'tt @1' }, {}, /needs writeAheadBuffer: true/],
    [
      '"!" before the first tick',
      '!a',
      { a: 'tt @1' },
      { writeAheadBuffer: true },
      /before the first time tick/,
    ],
    [
      'a not-persisted tick without a buffer',
      'a',
      { a: 'tt @1 np' },
      {},
      /only a write-ahead buffer holds/,
    ],
    [
      'a round the buffer cannot take',
      'tab',
      { t: 'tt @5', a: 'ins v1 @3', b: 'tt @6' },
      { writeAheadBuffer: true },
      /"b" cannot go to the write-ahead buffer/,
    ],
  ])('%s is a ConfigError naming the script', (_name, script, values, options, message) => {
    const call = (): unknown => scriptedWal(script, values as never, options);
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(message);
    expect(call).toThrow(/invalid script/);
  });

  it.each([
    ['script', [42]],
    ['values', ['a', null]],
    ['options', ['a', {}, null]],
    ['channel', ['', {}, { channel: '' }]],
    ['writeAheadBuffer', ['', {}, { writeAheadBuffer: 'yes' }]],
    ['accessMode', ['', {}, { accessMode: 'rx' }]],
    ['scheduler', ['', {}, { scheduler: {} }]],
    ['error', ['', {}, { error: 'boom' }]],
    ['maxBatch', ['', {}, { maxBatch: 0 }]],
  ])('a bad %s is a ConfigError naming it', (name, args) => {
    const call = (): unknown => (scriptedWal as (...a: unknown[]) => unknown)(...args);
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(`invalid ${name}`);
  });
});
