import { CorruptRecordError, InvalidMessageError } from '../errors.js';

/**
 * The exit codes of the `rxwal` command. Stable: scripts branch on them.
 *
 * @example
 * ```ts
 * process.exitCode = await run(process.argv.slice(2), deps); // ExitCode.Ok, ExitCode.Usage, …
 * ```
 */
export const ExitCode = {
  /** Done; also `scan --follow` stopped by SIGINT or SIGTERM. */
  Ok: 0,
  /**
   * Any other failure (I/O, a closed WAL, an unexpected error), including a healthy file that
   * cannot be opened: permission, read-only file system, missing directory, native binding.
   */
  Failure: 1,
  /** A usage error: unknown command or option, a bad or missing value. */
  Usage: 2,
  /** The WAL file does not exist (`scan`, `stats`). */
  MissingFile: 3,
  /** A stored record cannot be decoded, SQLite finds the file damaged, or it is not an rxwal log. */
  CorruptRecord: 4,
  /** `append`: a line on stdin is not valid JSON or not a valid message. */
  InvalidInput: 5,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A bad command line: reported with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose help the message points to; undefined for the global help. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The WAL file named on the command line does not exist: exit code 3. */
export class MissingWalError extends Error {
  constructor(readonly path: string) {
    super(`no such WAL file: ${path}`);
    this.name = 'MissingWalError';
  }
}

/** A file that is there but is not an rxwal log (e.g. not a database): exit code 4. */
export class NotAWalError extends Error {
  constructor(
    readonly path: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`${path} is not an rxwal log: ${reason}`, options);
    this.name = 'NotAWalError';
  }
}

/** A line of `append`'s input that cannot be appended: exit code 5. */
export class InvalidInputError extends Error {
  constructor(
    readonly line: number,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`stdin line ${line}: ${reason}`, options);
    this.name = 'InvalidInputError';
  }
}

/** The exit code and the one-line message for an error that ended a command. */
export function describeFailure(err: unknown): { code: ExitCode; message: string } {
  if (err instanceof UsageError) {
    const help = err.command === undefined ? 'rxwal --help' : `rxwal ${err.command} --help`;
    return { code: ExitCode.Usage, message: `${err.message} (see ${help})` };
  }
  if (err instanceof MissingWalError) return { code: ExitCode.MissingFile, message: err.message };
  if (err instanceof CorruptRecordError || findCause(err, CorruptRecordError)) {
    const corrupt = err instanceof CorruptRecordError ? err : findCause(err, CorruptRecordError);
    return { code: ExitCode.CorruptRecord, message: (corrupt as CorruptRecordError).message };
  }
  if (err instanceof NotAWalError) return { code: ExitCode.CorruptRecord, message: err.message };
  if (err instanceof InvalidInputError)
    return { code: ExitCode.InvalidInput, message: err.message };
  if (err instanceof InvalidMessageError) {
    return { code: ExitCode.InvalidInput, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: ExitCode.Failure, message };
}

function findCause<E extends Error>(
  err: unknown,
  type: abstract new (...args: never[]) => E,
): E | undefined {
  for (let cause = err, depth = 0; cause instanceof Error && depth < 8; depth++) {
    if (cause instanceof type) return cause;
    cause = cause.cause;
  }
  return undefined;
}
