// Types only: the root entry `rxwal` must load no Node built-in at import time (it bundles for
// browsers), so node:fs and node:path are obtained when pauseFromFile is called.
import type * as NodeFs from 'node:fs';
import type * as NodePath from 'node:path';

import { asyncScheduler, BehaviorSubject, type SchedulerLike, type Subscription } from 'rxjs';

import { ConfigError, WalError } from '../errors.js';
import { parseDuration, type Duration } from '../internal/duration.js';
import type { Logger } from '../observability/logger.js';
import { resolveObserved } from '../observability/resolve.js';

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
  /** Runs the debounce and poll timers; default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /**
   * How often the file is also checked without an event (its resolved path and identity through
   * every symlink): the safety net for changes the directory watcher cannot see, such as a
   * symlink target in another directory. Default `'1s'`; `Infinity` turns the poll off.
   */
  pollInterval?: Duration;
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
 *   ignored). Anything else — bad JSON, an empty file, a wrong type — is logged at `error` and
 *   keeps the current state; an invalid file at the first read gives `options.initial` (default
 *   `true`, so a broken switch never resumes consumption).
 * - The path must be a regular file or a symlink to one (or not exist yet): a named pipe, a
 *   socket, a device or a directory is refused at the call with {@link ConfigError} (reading a
 *   named pipe would block the whole process). One that takes the file's place later is never
 *   opened blocking: it is logged at `error` and keeps the state.
 * - Symlinks are followed, including the Kubernetes ConfigMap/Secret layout, where `pause.json`
 *   links to `..data/pause.json` and the kubelet swaps `..data` to a new timestamped directory
 *   by renaming a new symlink over it: the file's own name never changes there.
 * - The directory is watched (`fs.watch`), not the file, so editors that write a new file and
 *   rename it over the old one, deletes, re-creations and symlink swaps are all seen. An event
 *   for the file re-reads it; an event for any other entry (`..data`, a temporary file) re-reads
 *   it when its resolved path or identity (device, inode, size, times) changed. Re-reads are
 *   debounced (`options.debounce`, default 50 ms). A poll every `options.pollInterval` (default
 *   1 s) checks the same identity, for changes no event reports (a symlink into another
 *   directory, a watcher that missed an event); it also restarts the watcher once the directory
 *   exists again after it was removed.
 * - The directory must exist at the call ({@link ConfigError} otherwise). If it is removed, or
 *   watching fails, that is logged at `error` and the watcher is released; the poll goes on.
 * - The subject emits only when the state changes.
 * - `close()` (or aborting `options.signal`) closes the watcher, cancels a pending read and the
 *   poll, and completes the subject. Until then the watcher keeps the process alive, like any
 *   watcher. A signal already aborted gives a completed subject holding the file's state.
 * - Node built-ins are loaded when this is called (`process.getBuiltinModule`, Node ≥ 20.16),
 *   never when `rxwal` is imported, so the operators bundle for browsers; elsewhere the call
 *   throws a {@link WalError} with code `UNSUPPORTED_RUNTIME`.
 *
 * @param path the JSON file (relative paths are resolved against the working directory)
 * @param options logger, debounce, poll interval, signal, initial state for an invalid file, scheduler
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
  const { fs, path: paths } = nodeBuiltins();
  const { logger: baseLogger } = resolveObserved(
    options.logger === undefined ? {} : { logger: options.logger },
    'pauseFromFile',
  );
  const file = paths.resolve(path);
  const logger = baseLogger.child({ path: file }) as Logger;
  const debounceMs = parseDuration(options.debounce ?? 50, 'debounce');
  const pollMs = parseDuration(options.pollInterval ?? '1s', 'pollInterval', {
    allowInfinity: true,
  });
  if (pollMs <= 0) throw new ConfigError('pollInterval', options.pollInterval, 'must be > 0');
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
  const directory = paths.dirname(file);
  const name = paths.basename(file);
  const directoryName = paths.basename(directory);
  if (!isDirectory(fs, directory)) {
    throw new ConfigError('path', path, `its directory ${directory} must exist (it is watched)`);
  }
  const kind = fileKind(fs, file);
  if (kind !== 'file' && kind !== 'missing') {
    throw new ConfigError(
      'path',
      path,
      `is ${kind}, not a regular file (or a symlink to one)${kind === 'a named pipe (FIFO)' ? ': reading it would block the process' : ''}`,
    );
  }

  let seen = identityOf(fs, file);
  const first = readSwitch(fs, file);
  if (first.kind === 'invalid') {
    logger.error({ reason: first.reason }, 'invalid pause file; keeping the initial state');
  }
  const start = first.kind === 'invalid' ? initial : first.paused;
  logger.info({ paused: start }, 'pause switch follows the file');

  return new PauseFileSubject(file, start, (subject) => {
    let watcher: NodeFs.FSWatcher | undefined;
    let watchedDirectory: string | undefined;
    let pending: Subscription | undefined;
    let poll: Subscription | undefined;
    let closed = false;

    const reread = (): void => {
      pending = undefined;
      if (closed) return;
      seen = identityOf(fs, file);
      const read = readSwitch(fs, file);
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
    const rereadSoon = (): void => {
      pending?.unsubscribe();
      pending = scheduler.schedule(reread, debounceMs);
    };
    /** Re-reads (debounced) when the file, followed through its symlinks, is another one now. */
    const rereadIfChanged = (): void => {
      if (pending === undefined && identityOf(fs, file) !== seen) rereadSoon();
    };

    const stopWatching = (message: string, error?: unknown): void => {
      logger.error(error === undefined ? {} : { err: error }, message);
      watcher?.close();
      watcher = undefined;
    };
    const startWatching = (): void => {
      const identity = directoryIdentity(fs, directory);
      watcher = fs.watch(directory, { persistent: true }, (_event, changed) => {
        if (closed) return;
        const changedName = changed?.toString();
        if (changedName === directoryName && !isDirectory(fs, directory)) {
          stopWatching("the pause file's directory was removed; watching stopped, polling goes on");
          rereadSoon();
          return;
        }
        // `changed` can be null on some platforms: then any change may be ours
        if (changedName === undefined || changedName === name) rereadSoon();
        else rereadIfChanged(); // `..data` swapped, a temporary file renamed, …
      });
      watchedDirectory = identity;
      watcher.on('error', (error: unknown) =>
        stopWatching('watching the pause file failed; keeping the current state', error),
      );
    };

    const close = (): void => {
      if (closed) return;
      closed = true;
      pending?.unsubscribe();
      pending = undefined;
      poll?.unsubscribe();
      poll = undefined;
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
    try {
      startWatching();
    } catch (error) {
      signal?.removeEventListener('abort', close);
      throw new ConfigError('path', path, `cannot watch ${directory}`, { cause: error });
    }
    if (pollMs !== Infinity) {
      poll = scheduler.schedule(function (this: {
        schedule(state?: unknown, delay?: number): unknown;
      }) {
        if (closed) return;
        rereadIfChanged();
        // a directory removed, or replaced by another one, is watched again once it is there
        const identity = directoryIdentity(fs, directory);
        if (identity !== undefined && (watcher === undefined || identity !== watchedDirectory)) {
          watcher?.close();
          watcher = undefined;
          try {
            startWatching();
            logger.info({}, 'watching the pause file again');
            rereadSoon();
          } catch (error) {
            stopWatching('watching the pause file failed; keeping the current state', error);
          }
        }
        this.schedule(undefined, pollMs);
      }, pollMs);
    }
    return close;
  });
}

/** The Node built-ins, obtained at call time so that importing rxwal loads none. */
function nodeBuiltins(): { fs: typeof NodeFs; path: typeof NodePath } {
  const runtime = (
    globalThis as {
      process?: { getBuiltinModule?: (id: string) => unknown };
    }
  ).process;
  const getBuiltinModule = runtime?.getBuiltinModule;
  if (typeof getBuiltinModule !== 'function') {
    throw new WalError(
      'UNSUPPORTED_RUNTIME',
      'pauseFromFile needs Node.js ≥ 20.16 (process.getBuiltinModule) to read and watch the file; ' +
        'elsewhere drive pause$ with a BehaviorSubject<boolean>',
    );
  }
  return {
    fs: getBuiltinModule.call(runtime, 'node:fs') as typeof NodeFs,
    path: getBuiltinModule.call(runtime, 'node:path') as typeof NodePath,
  };
}

type SwitchRead =
  | { kind: 'file'; paused: boolean }
  | { kind: 'missing'; paused: false }
  | { kind: 'invalid'; reason: string };

/**
 * Reads the switch file: missing means not paused; anything but `{pauseConsumption: boolean}`
 * in a regular file is invalid. Opened non-blocking and checked on the open descriptor, so a
 * named pipe put in the file's place can never block the process.
 */
function readSwitch(fs: typeof NodeFs, file: string): SwitchRead {
  let text: string;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { kind: 'missing', paused: false };
    return { kind: 'invalid', reason: `cannot read it: ${(error as Error).message}` };
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) {
      return { kind: 'invalid', reason: `it is ${describeKind(stats)}, not a regular file` };
    }
    text = fs.readFileSync(fd, 'utf8');
  } catch (error) {
    return { kind: 'invalid', reason: `cannot read it: ${(error as Error).message}` };
  } finally {
    fs.closeSync(fd);
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

/** What `path` is, following symlinks: `'file'`, `'missing'` or a description of anything else. */
function fileKind(fs: typeof NodeFs, path: string): string {
  try {
    const stats = fs.statSync(path);
    return stats.isFile() ? 'file' : describeKind(stats);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // unreadable or a dangling symlink: the first read says why (and a dangling link is missing)
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'file';
  }
}

function describeKind(stats: NodeFs.Stats): string {
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * The file as it resolves now, through every symlink: its real path and the target's device,
 * inode, size and times. A kubelet `..data` swap changes the real path; an edit, the times.
 */
function identityOf(fs: typeof NodeFs, file: string): string {
  try {
    const real = fs.realpathSync(file);
    const s = fs.statSync(real, { bigint: true });
    return `${real}\0${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (error) {
    return `error:${(error as NodeJS.ErrnoException).code ?? String(error)}`;
  }
}

function directoryIdentity(fs: typeof NodeFs, directory: string): string | undefined {
  try {
    const s = fs.statSync(directory);
    return s.isDirectory() ? `${s.dev}:${s.ino}` : undefined;
  } catch {
    return undefined;
  }
}

function isDirectory(fs: typeof NodeFs, path: string): boolean {
  return directoryIdentity(fs, path) !== undefined;
}
