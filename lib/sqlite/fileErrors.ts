import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';

import { ConfigError, CorruptRecordError } from '../errors.js';

/** @internal The better-sqlite3 versions rxwal/sqlite accepts (package.json's peer range). */
export const BETTER_SQLITE3_RANGE = '^12.0.0 || ^13.0.0';

/**
 * @internal Why the installed better-sqlite3 cannot run on this Node.js, or undefined. Version 13
 * needs Node.js 22 or later; npm only warns when it is installed on Node.js 20, and there its
 * first connection kills the process (a segmentation fault nothing can catch).
 */
export function betterSqlite3RuntimeProblem(
  version: string,
  nodeVersion: string,
): string | undefined {
  const major = Number(/^(\d+)\./.exec(version)?.[1]);
  const nodeMajor = Number(/^v?(\d+)\./.exec(nodeVersion)?.[1]);
  if (!(major >= 13 && nodeMajor < 22)) return undefined;
  return `rxwal/sqlite: better-sqlite3 ${version} needs Node.js 22 or later, and this is Node.js ${nodeVersion}; install better-sqlite3 12 for it: npm install better-sqlite3@'^12.0.0'`;
}

/**
 * Why an SQLite file could not be opened although nothing says it is damaged:
 * - `'permission-denied'`: the file, or its directory, is not readable or writable by this process;
 * - `'read-only-file-system'`: writing is needed but the file system is mounted read-only;
 * - `'missing-file'`: a read-only open of a file that does not exist;
 * - `'missing-directory'`: the directory the file is in does not exist (or is not a directory);
 * - `'is-a-directory'`: the path names a directory;
 * - `'native-binding'`: better-sqlite3's native addon could not be loaded;
 * - `'io'`: any other failure SQLite reported while opening (its message says which).
 *
 * @example
 * ```ts
 * if (err instanceof FileAccessError && err.problem === 'read-only-file-system') remountReadWrite();
 * ```
 */
export type FileAccessProblem =
  | 'permission-denied'
  | 'read-only-file-system'
  | 'missing-file'
  | 'missing-directory'
  | 'is-a-directory'
  | 'native-binding'
  | 'io';

/**
 * A healthy path that cannot be opened: a permission, a read-only file system, a missing
 * directory, a directory given as the file, a missing native binding. Distinct from a file that
 * is not an rxwal log or is damaged ({@link ConfigError} naming `path`, {@link CorruptRecordError}),
 * so `rxwal` reports it with exit code 1, not 4. A {@link ConfigError} (option `'path'`), so code
 * catching every refused path keeps working.
 *
 * @example
 * ```ts
 * try {
 *   await openSqliteWal('/var/lib/rxwal/p0.db');
 * } catch (err) {
 *   if (err instanceof FileAccessError && err.problem === 'permission-denied') console.error(err.message);
 * }
 * ```
 */
export class FileAccessError extends ConfigError {
  /** What stands in the way. */
  readonly problem: FileAccessProblem;
  /** The file that could not be opened. */
  readonly path: string;

  constructor(path: string, problem: FileAccessProblem, reason: string, options?: ErrorOptions) {
    super('path', path, reason, options);
    this.message = `${path} cannot be opened: ${reason}`;
    this.problem = problem;
    this.path = path;
  }
}

/** @internal the `code` of a better-sqlite3 `SqliteError` (e.g. `'SQLITE_CORRUPT'`), if `err` is one. */
export function sqliteCode(err: unknown): string | undefined {
  // not `instanceof Error`: errors made by the native addon may come from another realm
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** @internal is `err` SQLite saying the file is damaged or not a database at all? */
export function isCorruption(err: unknown): boolean {
  const code = sqliteCode(err);
  return code !== undefined && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/**
 * @internal `err` as rxwal reports it when SQLite found damaged pages in `path` while doing `what`:
 * {@link CorruptRecordError} (a retry cannot fix it), anything else unchanged.
 */
export function corruptionOf(err: unknown, path: string, what: string): unknown {
  if (!isCorruption(err)) return err;
  return new CorruptRecordError(
    what,
    `the SQLite file ${path} is damaged (${(err as Error).message}, ${sqliteCode(err) as string})`,
    { cause: err },
  );
}

/**
 * @internal what went wrong when SQLite could not open `path` (or read its first page): corruption stays
 * corruption ({@link CorruptRecordError}; "not an SQLite database" is a {@link ConfigError}),
 * everything else is looked at on the file system and becomes a {@link FileAccessError} naming
 * the real cause.
 */
export function openFailure(path: string, readOnly: boolean, err: unknown): Error {
  const code = sqliteCode(err);
  if (code === 'SQLITE_NOTADB')
    return new ConfigError('path', path, 'is not an SQLite database', { cause: err });
  if (isCorruption(err)) return corruptionOf(err, path, 'the schema') as Error;
  if (code === undefined && !/directory does not exist/.test(String(err))) {
    return new FileAccessError(
      path,
      'native-binding',
      `better-sqlite3's native binding could not be loaded (${String(err)}); build it for this Node.js: npm rebuild better-sqlite3, or npm install better-sqlite3@'${BETTER_SQLITE3_RANGE}'`,
      { cause: err },
    );
  }
  const found = inspectPath(path, readOnly);
  if (found !== undefined) return new FileAccessError(path, found[0], found[1], { cause: err });
  if (code?.startsWith('SQLITE_READONLY') === true) {
    return new FileAccessError(path, 'read-only-file-system', `it is read-only (${errText(err)})`, {
      cause: err,
    });
  }
  return new FileAccessError(path, 'io', errText(err), { cause: err });
}

function errText(err: unknown): string {
  const code = sqliteCode(err);
  return code === undefined ? String(err) : `${(err as Error).message}, ${code}`;
}

/** The file-system reason `path` cannot be opened, if there is one to see. */
function inspectPath(path: string, readOnly: boolean): [FileAccessProblem, string] | undefined {
  const dir = dirname(path);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'EACCES')
      return ['permission-denied', `permission denied on its directory ${dir}`];
    if (errno !== 'ENOENT' && errno !== 'ENOTDIR') return undefined;
    try {
      if (!statSync(dir).isDirectory()) return ['missing-directory', `${dir} is not a directory`];
    } catch {
      return ['missing-directory', `its directory ${dir} does not exist`];
    }
    if (readOnly) return ['missing-file', 'cannot be opened read-only: there is no such file'];
    return accessProblem(dir, constants.W_OK, `its directory ${dir}`);
  }
  if (isDirectory) return ['is-a-directory', 'it is a directory, not a file'];
  const mode = readOnly ? constants.R_OK : constants.R_OK | constants.W_OK;
  return (
    accessProblem(path, mode, 'the file') ??
    // SQLite keeps its -wal and -shm files next to the log, even to read it
    accessProblem(
      dir,
      constants.W_OK,
      `its directory ${dir} (SQLite creates -wal and -shm files there)`,
    )
  );
}

function accessProblem(
  path: string,
  mode: number,
  what: string,
): [FileAccessProblem, string] | undefined {
  try {
    accessSync(path, mode);
    return undefined;
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'EROFS')
      return ['read-only-file-system', `${what} is on a read-only file system`];
    const needed =
      mode & constants.W_OK ? (mode & constants.R_OK ? 'read-write' : 'write') : 'read';
    return ['permission-denied', `permission denied: no ${needed} access to ${what}`];
  }
}
