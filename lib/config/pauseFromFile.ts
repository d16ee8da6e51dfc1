import type { FSWatcher } from 'node:fs';

import { asyncScheduler, BehaviorSubject, type SchedulerLike, type Subscription } from 'rxjs';

import { ConfigError } from '../errors.js';
import { parseDuration, type Duration } from '../internal/duration.js';
import type { Logger } from '../observability/logger.js';
import { resolveObserved } from '../observability/resolve.js';

// Fetched when a file is followed, so that importing rxwal loads no Node built-in (browsers).
const fs = (): typeof import('node:fs') => process.getBuiltinModule('node:fs');
const basename = (p: string): string => process.getBuiltinModule('node:path').basename(p);
const dirname = (p: string): string => process.getBuiltinModule('node:path').dirname(p);
const resolve = (p: string): string => process.getBuiltinModule('node:path').resolve(p);

/** Options of {@link pauseFromFile}. */
export interface PauseFromFileOptions {
  /** A pino-compatible logger; default silent. Invalid files are logged at `error`. */
  logger?: Logger;
  /** Quiet time after the last change before the file is read again; default `'50ms'`. */
  debounce?: Duration;
  /** Aborting it closes the switch, like `close()`. */
  signal?: AbortSignal;
  /**
   * The state when the file exists but is invalid at the first read; default `true`: an invalid
   * switch is never taken as "resume" (DESIGN decision 4).
   */
  initial?: boolean;
  /** Runs the debounce timer; default `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

/**
 * The pause switch that {@link pauseFromFile} returns: a `BehaviorSubject<boolean>` that
 * follows a file until `close()`.
 *
 * @example
 * ```ts
 * const pause$: PauseFileSubject = pauseFromFile('/etc/rxwal/pause.json');
 * scanWal(wal, { pause$ }).subscribe(apply);
 * process.on('SIGTERM', () => pause$.close());
 * ```
 */
export class PauseFileSubject extends BehaviorSubject<boolean> {
  /** The file followed, as an absolute path. */
  readonly path: string;
  private readonly stop: () => void;

  /** @internal use {@link pauseFromFile} */
  constructor(path: string, initial: boolean, start: (self: PauseFileSubject) => () => void) {
    super(initial);
    this.path = path;
    this.stop = start(this);
  }

  /**
   * Stops following the file and completes the subject: the watcher and any pending timer are
   * released at once. Idempotent. Current subscribers keep the last state they saw.
   *
   * @example
   * ```ts
   * const pause$ = pauseFromFile('pause.json');
   * pause$.close();
   * ```
   */
  close(): void {
    this.stop();
  }
}

/**
 * A pause switch that follows a small JSON file, `{"pauseConsumption": true}`: the operator's
 * lever of reference § 5 as a file that can be edited, replaced or deleted at run time.
 *
 * - A missing file means not paused (`false`).
 * - A valid file is a JSON object whose `pauseConsumption` is a boolean (other keys are
 *   ignored). Anything else — bad JSON, an empty file, a wrong type, a directory — is logged at
 *   `error` and keeps the current state; an invalid file at the first read gives
 *   `options.initial` (default `true`, so a broken switch never resumes consumption).
 * - The directory is watched (`fs.watch`), not the file, so editors that write a new file and
 *   rename it over the old one, deletes and re-creations are all seen. Events for the file are
 *   debounced (`options.debounce`, default 50 ms), then the file is read again. The directory
 *   must exist ({@link ConfigError} otherwise). If the directory is removed, or watching fails,
 *   that is logged at `error`, the watcher is released and the state stays as it was (a file
 *   deleted with its directory has already said "not paused").
 * - The subject emits only when the state changes.
 * - `close()` (or aborting `options.signal`) closes the watcher, cancels a pending read and
 *   completes the subject. Until then the watcher keeps the process alive, like any watcher.
 *   A signal already aborted gives a completed subject holding the file's state.
 *
 * @param path the JSON file (relative paths are resolved against the working directory)
 * @param options logger, debounce, signal, initial state for an invalid file, scheduler
 * @returns a `BehaviorSubject<boolean>` with `close()`
 *
 * @example
 * ```ts
 * const pause$ = pauseFromFile('/var/run/rxwal/pause.json', { logger: pino() });
 * scanWal(wal, { pause$ }).subscribe(apply);
 * // echo '{"pauseConsumption": false}' > /var/run/rxwal/pause.json   resumes it
 * ```
 */
export function pauseFromFile(path: string, options: PauseFromFileOptions = {}): PauseFileSubject {
  if (typeof path !== 'string' || path === '') {
    throw new ConfigError('path', path, 'must be a non-empty file path');
  }
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', options, 'must be an object');
  }
  const { logger: baseLogger } = resolveObserved(
    options.logger === undefined ? {} : { logger: options.logger },
    'pauseFromFile',
  );
  const file = resolve(path);
  const logger = baseLogger.child({ path: file }) as Logger;
  const debounceMs = parseDuration(options.debounce ?? 50, 'debounce');
  const initial = options.initial ?? true;
  if (typeof initial !== 'boolean') throw new ConfigError('initial', initial, 'must be a boolean');
  const scheduler = options.scheduler ?? asyncScheduler;
  if (typeof scheduler?.schedule !== 'function') {
    throw new ConfigError('scheduler', scheduler, 'must be a SchedulerLike');
  }
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ConfigError('signal', signal, 'must be an AbortSignal');
  }
  const directory = dirname(file);
  const name = basename(file);
  const directoryName = basename(directory);
  if (!isDirectory(directory)) {
    throw new ConfigError('path', path, `its directory ${directory} must exist (it is watched)`);
  }

  const first = readSwitch(file);
  if (first.kind === 'invalid') {
    logger.error({ reason: first.reason }, 'invalid pause file; keeping the initial state');
  }
  const start = first.kind === 'invalid' ? initial : first.paused;
  logger.info({ paused: start }, 'pause switch follows the file');

  return new PauseFileSubject(file, start, (subject) => {
    let watcher: FSWatcher | undefined;
    let pending: Subscription | undefined;
    let closed = false;

    const reread = (): void => {
      pending = undefined;
      if (closed) return;
      const read = readSwitch(file);
      if (read.kind === 'invalid') {
        logger.error({ reason: read.reason }, 'invalid pause file; keeping the current state');
        return;
      }
      if (read.paused === subject.getValue()) return;
      logger.info(
        { paused: read.paused, missing: read.kind === 'missing' },
        read.paused ? 'pause consumption (from file)' : 'resume consumption (from file)',
      );
      subject.next(read.paused);
    };

    const close = (): void => {
      if (closed) return;
      closed = true;
      pending?.unsubscribe();
      pending = undefined;
      watcher?.close();
      watcher = undefined;
      signal?.removeEventListener('abort', close);
      logger.debug({}, 'pause switch closed');
      subject.complete();
    };

    if (signal?.aborted) {
      close();
      return close;
    }
    signal?.addEventListener('abort', close, { once: true });
    const stopWatching = (message: string, error?: unknown): void => {
      logger.error(error === undefined ? {} : { err: error }, message);
      watcher?.close();
      watcher = undefined;
    };
    try {
      watcher = fs().watch(directory, { persistent: true }, (_event, changed) => {
        if (closed) return;
        const changedName = changed?.toString();
        if (changedName === directoryName && !isDirectory(directory)) {
          stopWatching("the pause file's directory was removed; no longer following the file");
          return;
        }
        // `changed` can be null on some platforms: then any change may be ours
        if (changedName !== undefined && changedName !== name) return;
        pending?.unsubscribe();
        pending = scheduler.schedule(reread, debounceMs);
      });
    } catch (error) {
      signal?.removeEventListener('abort', close);
      throw new ConfigError('path', path, `cannot watch ${directory}`, { cause: error });
    }
    watcher.on('error', (error: unknown) =>
      stopWatching('watching the pause file failed; keeping the current state', error),
    );
    return close;
  });
}

type SwitchRead =
  | { kind: 'file'; paused: boolean }
  | { kind: 'missing'; paused: false }
  | { kind: 'invalid'; reason: string };

/** Reads the switch file: missing means not paused; anything but `{pauseConsumption: boolean}` is invalid. */
function readSwitch(file: string): SwitchRead {
  let text: string;
  try {
    text = fs().readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { kind: 'missing', paused: false };
    return { kind: 'invalid', reason: `cannot read it: ${(error as Error).message}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { kind: 'invalid', reason: `not JSON: ${(error as Error).message}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { kind: 'invalid', reason: 'not a JSON object' };
  }
  const paused = (parsed as Record<string, unknown>).pauseConsumption;
  if (typeof paused !== 'boolean') {
    return {
      kind: 'invalid',
      reason: `pauseConsumption must be true or false (got ${JSON.stringify(paused) ?? 'nothing'})`,
    };
  }
  return { kind: 'file', paused };
}

function isDirectory(path: string): boolean {
  try {
    return fs().statSync(path).isDirectory();
  } catch {
    return false;
  }
}
