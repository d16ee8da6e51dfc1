/**
 * The logger rxwal accepts: anything with these methods. Structural, so a pino logger fits, and
 * so does a small adapter over another library or an object of your own; rxwal itself loads no
 * logging library (the `rxwal` command uses pino).
 *
 * Every call passes an object of fields first and a message second, as pino does.
 * `isLevelEnabled` is optional: without it rxwal assumes every level is enabled and builds the
 * fields of per-message debug lines (which it otherwise skips when `debug` is off).
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * scanWal(wal, { logger: pino({ level: 'info' }) });
 *
 * // or any object with the same methods
 * const lines: string[] = [];
 * const log = (level: string) => (fields: object, msg?: string) =>
 *   lines.push(`${level} ${msg ?? ''} ${JSON.stringify(fields)}`);
 * const logger: Logger = {
 *   child: () => logger,
 *   trace: log('trace'),
 *   debug: log('debug'),
 *   info: log('info'),
 *   warn: log('warn'),
 *   error: log('error'),
 * };
 * scanWal(wal, { logger });
 * ```
 */
export interface Logger {
  /** A logger that adds `bindings` to every line (rxwal binds `component`, `channel`, `name`). */
  child(bindings: Record<string, unknown>): Logger;
  /** Logs at `trace`. */
  trace(obj: object, msg?: string): void;
  /** Logs at `debug`. */
  debug(obj: object, msg?: string): void;
  /** Logs at `info`. */
  info(obj: object, msg?: string): void;
  /** Logs at `warn`. */
  warn(obj: object, msg?: string): void;
  /** Logs at `error`. */
  error(obj: object, msg?: string): void;
  /** Whether `level` (`'trace'`, `'debug'`, …) is logged; absent: every level is. */
  isLevelEnabled?(level: string): boolean;
}

/** The logger rxwal's code works with: a {@link Logger} whose `isLevelEnabled` is always there. */
export interface ResolvedLogger extends Logger {
  child(bindings: Record<string, unknown>): ResolvedLogger;
  isLevelEnabled(level: string): boolean;
}

const nothing = (): void => undefined;

/** The default logger: drops every line, reports every level as disabled. */
const SILENT: ResolvedLogger = Object.freeze({
  child: () => SILENT,
  trace: nothing,
  debug: nothing,
  info: nothing,
  warn: nothing,
  error: nothing,
  isLevelEnabled: () => false,
});

/** The default logger: drops every line and reports every level as disabled. */
export function silentLogger(): ResolvedLogger {
  return SILENT;
}

/** `logger` completed with an `isLevelEnabled` that says yes when it has none of its own. */
export function resolvedLogger(logger: Logger): ResolvedLogger {
  if (typeof logger.isLevelEnabled === 'function') return logger as ResolvedLogger;
  return {
    child: (bindings) => resolvedLogger(logger.child(bindings)),
    trace: (obj, msg) => logger.trace(obj, msg),
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => logger.error(obj, msg),
    isLevelEnabled: () => true,
  };
}

/** `logger.child(bindings)`, or the silent logger when none was given. */
export function childLogger(
  logger: Logger | undefined,
  bindings: Record<string, unknown>,
): ResolvedLogger {
  return logger === undefined ? SILENT : resolvedLogger(logger.child(bindings));
}
