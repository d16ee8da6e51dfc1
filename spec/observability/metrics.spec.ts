import {
  createInMemoryMetrics,
  noopMetrics,
  type ScannerMetrics,
} from '../../lib/observability/metrics.js';

describe('noopMetrics', () => {
  it('has every ScannerMetrics method, each a no-op returning undefined', () => {
    const calls: [keyof ScannerMetrics, () => unknown][] = [
      ['scannerOpened', () => noopMetrics.scannerOpened({ name: 's', channel: 'c' })],
      [
        'scannerClosed',
        () => noopMetrics.scannerClosed({ name: 's', channel: 'c', model: 'catchup' }),
      ],
      ['switchModel', () => noopMetrics.switchModel(undefined, 'catchup')],
      ['observeMessage', () => noopMetrics.observeMessage('catchup', 'Insert', 10)],
      ['observePassedMessage', () => noopMetrics.observePassedMessage('tailing', 'Insert', 10)],
      ['observeTimeTickViolation', () => noopMetrics.observeTimeTickViolation('catchup', 'Insert')],
      ['observeTxn', () => noopMetrics.observeTxn('committed')],
      ['addPendingQueueBytes', () => noopMetrics.addPendingQueueBytes(5)],
      ['addReorderBufferBytes', () => noopMetrics.addReorderBufferBytes(5)],
      ['addTxnBufferBytes', () => noopMetrics.addTxnBufferBytes(5)],
      ['pauseStarted', () => noopMetrics.pauseStarted()],
      ['pauseEnded', () => noopMetrics.pauseEnded(3)],
      ['observeRetry', () => noopMetrics.observeRetry?.('READER_ENDED')],
      [
        'observeLag',
        () => noopMetrics.observeLag?.({ name: 's', channel: 'c' }, { seconds: 1, messages: 2 }),
      ],
    ];
    expect(calls.map(([name]) => name).sort()).toEqual(Object.keys(noopMetrics).sort());
    for (const [, call] of calls) expect(call()).toBeUndefined();
  });

  it('is frozen, so no caller can turn the shared default into a real sink', () => {
    expect(Object.isFrozen(noopMetrics)).toBe(true);
  });
});

describe('createInMemoryMetrics', () => {
  it('starts at zero', () => {
    expect(createInMemoryMetrics().snapshot()).toEqual({
      scanners: { catchup: 0, tailing: 0 },
      paused: 0,
      pauseDurationsMs: [],
      messages: {},
      passedMessages: {},
      timeTickViolations: 0,
      txn: { autocommit: 0, committed: 0, rolledBack: 0, expired: 0, error: 0 },
      bytes: { pendingQueue: 0, reorderBuffer: 0, txnBuffer: 0 },
      retries: {},
      lag: {},
    });
  });

  it('counts retries by code and keeps the latest lag of each scanner', () => {
    const metrics = createInMemoryMetrics();
    metrics.observeRetry?.('READER_ENDED');
    metrics.observeRetry?.('READER_ENDED');
    metrics.observeRetry?.('ECONNRESET');
    metrics.observeLag?.({ name: 'a', channel: 'p0' }, { seconds: 3 });
    metrics.observeLag?.({ name: 'a', channel: 'p0' }, { seconds: 1.5, messages: 4 });
    metrics.observeLag?.({ name: 'b', channel: 'p0' }, { seconds: 0 });
    const snapshot = metrics.snapshot();
    expect(snapshot.retries).toEqual({ READER_ENDED: 2, ECONNRESET: 1 });
    expect(snapshot.lag).toEqual({ a: { seconds: 1.5, messages: 4 }, b: { seconds: 0 } });
    metrics.scannerClosed({ name: 'a', channel: 'p0', model: 'catchup' });
    expect(metrics.snapshot().lag).toEqual({ b: { seconds: 0 } });
  });

  it('counts a scanner by switchModel(undefined, model), moves it on a switch and uncounts it on scannerClosed({ model })', () => {
    const metrics = createInMemoryMetrics();
    metrics.scannerOpened({ name: 'a', channel: 'p0' });
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 0 });
    metrics.switchModel(undefined, 'catchup');
    metrics.switchModel(undefined, 'catchup');
    expect(metrics.snapshot().scanners).toEqual({ catchup: 2, tailing: 0 });
    metrics.switchModel('catchup', 'tailing');
    expect(metrics.snapshot().scanners).toEqual({ catchup: 1, tailing: 1 });
    metrics.scannerClosed({ name: 'a', channel: 'p0', model: 'tailing' });
    expect(metrics.snapshot().scanners).toEqual({ catchup: 1, tailing: 0 });
    metrics.scannerClosed({ name: 'b', channel: 'p0', model: 'catchup' });
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 0 });
  });

  it('does not count a scanner closed before it had a model', () => {
    const metrics = createInMemoryMetrics();
    metrics.switchModel(undefined, 'tailing');
    metrics.scannerClosed({ name: 'never-started', channel: 'p0' });
    metrics.scannerClosed({ name: 'never-started', channel: 'p0', model: undefined });
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 1 });
  });

  it('counts observed and passed messages by type, whatever the model', () => {
    const metrics = createInMemoryMetrics();
    metrics.observeMessage('catchup', 'Insert', 10);
    metrics.observeMessage('tailing', 'Insert', 20);
    metrics.observeMessage('catchup', 'TimeTick', 0);
    metrics.observePassedMessage('tailing', 'Insert', 20);
    metrics.observeTimeTickViolation('catchup', 'Delete');
    metrics.observeTimeTickViolation('tailing', 'Insert');
    const snapshot = metrics.snapshot();
    expect(snapshot.messages).toEqual({ Insert: 2, TimeTick: 1 });
    expect(snapshot.passedMessages).toEqual({ Insert: 1 });
    expect(snapshot.timeTickViolations).toBe(2);
  });

  it('counts transactions by outcome', () => {
    const metrics = createInMemoryMetrics();
    for (const outcome of [
      'autocommit',
      'autocommit',
      'committed',
      'rolledBack',
      'expired',
      'error',
    ] as const) {
      metrics.observeTxn(outcome);
    }
    expect(metrics.snapshot().txn).toEqual({
      autocommit: 2,
      committed: 1,
      rolledBack: 1,
      expired: 1,
      error: 1,
    });
  });

  it('sums byte deltas, so many scanners can share one sink and drain back to 0', () => {
    const metrics = createInMemoryMetrics();
    metrics.addPendingQueueBytes(100);
    metrics.addPendingQueueBytes(50);
    metrics.addReorderBufferBytes(30);
    metrics.addTxnBufferBytes(7);
    expect(metrics.snapshot().bytes).toEqual({
      pendingQueue: 150,
      reorderBuffer: 30,
      txnBuffer: 7,
    });
    metrics.addPendingQueueBytes(-150);
    metrics.addReorderBufferBytes(-30);
    metrics.addTxnBufferBytes(-7);
    expect(metrics.snapshot().bytes).toEqual({ pendingQueue: 0, reorderBuffer: 0, txnBuffer: 0 });
  });

  it('counts paused scanners per scanner (not last writer wins) and records each duration', () => {
    const metrics = createInMemoryMetrics();
    metrics.pauseStarted();
    metrics.pauseStarted();
    expect(metrics.snapshot().paused).toBe(2);
    metrics.pauseEnded(40);
    expect(metrics.snapshot()).toMatchObject({ paused: 1, pauseDurationsMs: [40] });
    metrics.pauseEnded(75);
    expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [40, 75] });
  });

  it('returns a copy: changing a snapshot changes neither the sink nor later snapshots', () => {
    const metrics = createInMemoryMetrics();
    metrics.observeMessage('catchup', 'Insert', 1);
    metrics.pauseStarted();
    metrics.pauseEnded(5);
    const first = metrics.snapshot();
    first.messages.Insert = 99;
    first.pauseDurationsMs.push(1);
    first.scanners.catchup = 7;
    first.bytes.txnBuffer = 3;
    expect(metrics.snapshot()).toMatchObject({
      messages: { Insert: 1 },
      pauseDurationsMs: [5],
      scanners: { catchup: 0 },
      bytes: { txnBuffer: 0 },
    });
  });

  it('does not change an earlier snapshot when counting goes on', () => {
    const metrics = createInMemoryMetrics();
    const before = metrics.snapshot();
    metrics.observeMessage('catchup', 'Insert', 1);
    metrics.pauseStarted();
    metrics.pauseEnded(1);
    metrics.addPendingQueueBytes(4);
    expect(before).toMatchObject({
      messages: {},
      pauseDurationsMs: [],
      bytes: { pendingQueue: 0 },
    });
  });

  it('keeps separate sinks apart', () => {
    const a = createInMemoryMetrics();
    const b = createInMemoryMetrics();
    a.observeMessage('catchup', 'Insert', 1);
    expect(b.snapshot().messages).toEqual({});
  });
});
