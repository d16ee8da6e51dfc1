import type { Logger } from './logger.js';
import type { ScannerMetrics, ScannerModel } from './metrics.js';

/**
 * Options every operator takes for observability.
 *
 * @example
 * ```ts
 * reorderUntilTick({ logger: pino(), metrics: createInMemoryMetrics() });
 * ```
 */
export interface ObservedOptions {
  /** A pino-compatible logger; default silent. */
  logger?: Logger;
  /** Where events are counted; default {@link noopMetrics}. */
  metrics?: ScannerMetrics;
  /**
   * The model the scanner reads in at the moment a message passes (metric label). `scanWal`
   * wires this to its source; alone, an operator reports `'catchup'`. Asked only when `metrics`
   * is given (not {@link noopMetrics}): it labels metrics and nothing else.
   */
  scannerModel?: () => ScannerModel;
}

/** The default of {@link ObservedOptions.scannerModel}. */
export const catchupModel = (): ScannerModel => 'catchup';
