import type { Logger as PinoLogger } from 'pino';
import pino from 'pino';

/**
 * The logger rxwal accepts: any pino logger, or anything with the same methods.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * scanWal(wal, { logger: pino({ level: 'info' }) });
 * ```
 */
export type Logger = Pick<
  PinoLogger,
  'child' | 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'isLevelEnabled'
>;

let silent: Logger | undefined;

/** The default logger: a pino logger at level `silent`, created on first use. */
export function silentLogger(): Logger {
  silent ??= pino({ level: 'silent' });
  return silent;
}

/** `logger.child(bindings)`, or the silent logger when none was given. */
export function childLogger(logger: Logger | undefined, bindings: Record<string, unknown>): Logger {
  return logger === undefined ? silentLogger() : (logger.child(bindings) as Logger);
}
