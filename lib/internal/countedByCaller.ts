import type { ScannerMetrics } from '../observability/metrics.js';

function ignore(): void {
  // the caller reports this event itself
}

/**
 * The metrics a source gets when its caller counts the scanner itself: `scanWal` counts a scanner
 * from its subscription, while its pause gate may hold the source back (reference § 7.3 counts a
 * scanner as catch-up from the moment it exists). Drops `scannerOpened`, `scannerClosed` and the
 * source's first `switchModel(undefined, …)`; forwards every other event, the optional ones too.
 *
 * @example
 * ```ts
 * switchableSource(wal, { metrics: countedByCaller(metrics) });
 * ```
 */
export function countedByCaller(metrics: ScannerMetrics): ScannerMetrics {
  const counted: ScannerMetrics = {
    scannerOpened: ignore,
    scannerClosed: ignore,
    switchModel: (from, to) => {
      if (from !== undefined) metrics.switchModel(from, to);
    },
    observeMessage: (model, type, bytes) => metrics.observeMessage(model, type, bytes),
    observePassedMessage: (model, type, bytes) => metrics.observePassedMessage(model, type, bytes),
    observeTimeTickViolation: (model, type) => metrics.observeTimeTickViolation(model, type),
    observeTxn: (outcome) => metrics.observeTxn(outcome),
    addPendingQueueBytes: (delta) => metrics.addPendingQueueBytes(delta),
    addReorderBufferBytes: (delta) => metrics.addReorderBufferBytes(delta),
    addTxnBufferBytes: (delta) => metrics.addTxnBufferBytes(delta),
    pauseStarted: () => metrics.pauseStarted(),
    pauseEnded: (durationMs) => metrics.pauseEnded(durationMs),
  };
  // The optional events stay absent where the sink has none, as callers test for them.
  if (metrics.observeRetry !== undefined)
    counted.observeRetry = (code) => metrics.observeRetry?.(code);
  if (metrics.observeLag !== undefined)
    counted.observeLag = (scanner, lag) => metrics.observeLag?.(scanner, lag);
  return counted;
}
