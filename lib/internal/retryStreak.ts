import { ConfigError, WalError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ScannerMetrics } from '../observability/metrics.js';

/** The `code` a retried error is counted under: a WalError's, a Node error's, else its name. */
export function errorCode(err: unknown): string {
  if (err instanceof WalError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  if (err instanceof Error) return err.name;
  return 'UNKNOWN';
}

/** Checks `maxRetries`: a non-negative integer or Infinity. */
export function checkMaxRetries(value: unknown): number {
  if (value === undefined) return Infinity;
  if (
    typeof value !== 'number' ||
    !(value === Infinity || (Number.isSafeInteger(value) && value >= 0))
  ) {
    throw new ConfigError('maxRetries', value, 'must be a non-negative integer or Infinity');
  }
  return value;
}

/**
 * Consecutive failed read passes of one scanner: each is counted (`observeRetry` by error
 * code), the first of a streak is logged at warn and the rest at debug, the end of a streak at
 * info; past `maxRetries` in a row the scanner gives up with the last error.
 */
export class RetryStreak {
  private failures = 0;

  constructor(
    private readonly maxRetries: number,
    private readonly logger: Logger,
    private readonly metrics: ScannerMetrics,
  ) {}

  /** A pass failed with `err`: true when it may be retried after `delayMs`. */
  failed(err: unknown, delayMs: () => number): { retry: true; delayMs: number } | { retry: false } {
    this.failures++;
    if (this.failures > this.maxRetries) {
      this.logger.error(
        { err: String(err), code: errorCode(err), retries: this.failures - 1 },
        'read failed after the last allowed retry; the scanner fails',
      );
      return { retry: false };
    }
    const code = errorCode(err);
    this.metrics.observeRetry?.(code);
    const delay = delayMs();
    const fields = { err: String(err), code, retry: this.failures, delayMs: Math.round(delay) };
    if (this.failures === 1) this.logger.warn(fields, 'read failed; retrying after backoff');
    else if (this.logger.isLevelEnabled?.('debug') === true)
      this.logger.debug(fields, 'read failed again; retrying after backoff');
    return { retry: true, delayMs: delay };
  }

  /** A pass read something: the streak, if any, is over. */
  succeeded(): void {
    if (this.failures === 0) return;
    this.logger.info({ retries: this.failures }, 'reading again after failed reads');
    this.failures = 0;
  }
}
