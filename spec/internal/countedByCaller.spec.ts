import { countedByCaller } from '../../lib/internal/countedByCaller.js';
import { createInMemoryMetrics, noopMetrics } from '../../lib/observability/metrics.js';

describe('countedByCaller', () => {
  test('drops the lifecycle events and the first switch; forwards every other event', () => {
    const metrics = createInMemoryMetrics();
    const source = countedByCaller(metrics);
    source.scannerOpened({ name: 's', channel: 'p0' });
    source.switchModel(undefined, 'catchup');
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 0 });
    metrics.switchModel(undefined, 'catchup'); // what the caller reports itself
    source.switchModel('catchup', 'tailing');
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 1 });
    source.scannerClosed({ name: 's', channel: 'p0', model: 'tailing' });
    expect(metrics.snapshot().scanners).toEqual({ catchup: 0, tailing: 1 });

    source.observeMessage('tailing', 'Insert', 10);
    source.observePassedMessage('tailing', 'Insert', 10);
    source.observeTimeTickViolation('tailing', 'Insert');
    source.observeTxn('committed');
    source.addPendingQueueBytes(1);
    source.addReorderBufferBytes(2);
    source.addTxnBufferBytes(3);
    source.pauseStarted();
    expect(metrics.snapshot()).toMatchObject({
      messages: { Insert: 1 },
      passedMessages: { Insert: 1 },
      timeTickViolations: 1,
      txn: { committed: 1 },
      bytes: { pendingQueue: 1, reorderBuffer: 2, txnBuffer: 3 },
      paused: 1,
    });
    source.pauseEnded(5);
    expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [5] });
  });

  test('forwards the optional events a sink has, and leaves absent the ones it lacks', () => {
    const retries: string[] = [];
    const lags: number[] = [];
    const sink = {
      ...noopMetrics,
      observeRetry: (code: string) => retries.push(code),
      observeLag: (_scanner: { name: string; channel: string }, lag: { seconds: number }) =>
        lags.push(lag.seconds),
    };
    const source = countedByCaller(sink);
    source.observeRetry?.('EIO');
    source.observeLag?.({ name: 's', channel: 'p0' }, { seconds: 2 });
    expect(retries).toEqual(['EIO']);
    expect(lags).toEqual([2]);

    const { observeRetry: _retry, observeLag: _lag, ...older } = noopMetrics;
    const fromOlder = countedByCaller(older);
    expect(fromOlder.observeRetry).toBeUndefined();
    expect(fromOlder.observeLag).toBeUndefined();
  });
});
