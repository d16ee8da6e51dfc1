import { ConfigError } from '../errors.js';
import { childLogger, type ResolvedLogger } from './logger.js';
import { noopMetrics, type ScannerMetrics, type ScannerModel } from './metrics.js';
import { catchupModel, type ObservedOptions } from './observed.js';

/** The observability an operator works with, defaults filled in and options checked. */
export interface Observed {
  readonly logger: ResolvedLogger;
  readonly metrics: ScannerMetrics;
  readonly scannerModel: () => ScannerModel;
  /**
   * `metrics`, or undefined when it is {@link noopMetrics}. A per-message path tests this once
   * instead of calling hooks that do nothing (and loading their arguments) for every message.
   */
  readonly activeMetrics: ScannerMetrics | undefined;
}

const LOGGER_METHODS = ['child', 'trace', 'debug', 'info', 'warn', 'error'] as const;

/** Checks an operator's options object and its observability options; throws ConfigError. */
export function resolveObserved(options: ObservedOptions | undefined, component: string): Observed {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new ConfigError(`${component} options`, options, 'must be an object');
  }
  const { logger, metrics, scannerModel } = options ?? {};
  if (logger !== undefined) {
    for (const method of LOGGER_METHODS) {
      if (typeof (logger as unknown as Record<string, unknown>)[method] !== 'function') {
        throw new ConfigError(
          'logger',
          logger,
          `must be a pino-compatible logger (no ${method}())`,
        );
      }
    }
    const { isLevelEnabled } = logger as { isLevelEnabled?: unknown };
    if (isLevelEnabled !== undefined && typeof isLevelEnabled !== 'function') {
      throw new ConfigError('logger', logger, 'must be a pino-compatible logger (isLevelEnabled)');
    }
  }
  if (metrics !== undefined && (typeof metrics !== 'object' || metrics === null)) {
    throw new ConfigError('metrics', metrics, 'must be a ScannerMetrics object');
  }
  if (scannerModel !== undefined && typeof scannerModel !== 'function') {
    throw new ConfigError('scannerModel', scannerModel, 'must be a function');
  }
  const resolvedMetrics = metrics ?? noopMetrics;
  return {
    logger: childLogger(logger, { component }),
    metrics: resolvedMetrics,
    scannerModel: scannerModel ?? catchupModel,
    activeMetrics: resolvedMetrics === noopMetrics ? undefined : resolvedMetrics,
  };
}

/** A short description of a message for logs. */
export function logFields(m: {
  id: { key: string };
  type: string;
  timeTick: bigint;
  vchannel: string;
}): Record<string, string> {
  return { id: m.id.key, type: m.type, timeTick: m.timeTick.toString(), vchannel: m.vchannel };
}
