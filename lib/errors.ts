/**
 * Error classes of rxwal. Every error is a {@link WalError} with a stable `code`, so callers can
 * branch on `err.code` (or `instanceof`) instead of parsing messages; the original failure, where
 * there is one, is kept as `cause`.
 *
 * @example
 * ```ts
 * try {
 *   createMessage({ id: 1, type: 'Insert', timeTick: -1 });
 * } catch (err) {
 *   if (err instanceof InvalidMessageError) console.log(err.field, err.value); // 'timeTick' -1
 * }
 * ```
 */
export class WalError extends Error {
  /** A stable, machine-readable error code such as `'INVALID_MESSAGE'`. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /**
   * `err instanceof WalError` (or any of rxwal's error classes) holds also for an error thrown
   * by another copy of rxwal in the same process: the CommonJS and the ES module builds (one
   * reached by `require`, the other by `import`), or two installed versions. Each of rxwal's
   * classes marks its prototype with a `Symbol.for` brand, which both copies share; classes
   * derived from them outside rxwal keep the ordinary prototype check.
   *
   * @example
   * ```ts
   * const { ConfigError } = require('rxwal'); // the CommonJS copy
   * const { DeliverFilter } = await import('rxwal'); // the ES module copy
   * try {
   *   DeliverFilter.messageType('TimeTick');
   * } catch (err) {
   *   err instanceof ConfigError; // true
   * }
   * ```
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const brand = BRANDS.get(this);
    return (
      brand !== undefined &&
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[brand] === true
    );
  }
}

/** rxwal's error classes and the registered symbol that marks their prototypes. */
const BRANDS = new Map<unknown, symbol>();

/** Marks `errorClass.prototype` with the brand `rxwal.<name>` shared by every copy of rxwal. */
function brand(errorClass: { readonly name: string; readonly prototype: object }): void {
  const symbol = Symbol.for(`rxwal.${errorClass.name}`);
  BRANDS.set(errorClass, symbol);
  Object.defineProperty(errorClass.prototype, symbol, { value: true });
}

/** Renders a rejected value for an error message: bigints get their `n`, strings their quotes. */
export function describeValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) {
    return String(value);
  }
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  try {
    const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * A message (or message field) that cannot be accepted.
 *
 * @example
 * ```ts
 * expect(() => createMessage({ id: 1, type: '', timeTick: 1 })).toThrow(InvalidMessageError);
 * ```
 */
export class InvalidMessageError extends WalError {
  /** The name of the rejected field, e.g. `'timeTick'` or `'txn.keepalive'`. */
  readonly field: string;
  /** The rejected value as it was given. */
  readonly value: unknown;

  constructor(field: string, value: unknown, reason: string, options?: ErrorOptions) {
    super(
      'INVALID_MESSAGE',
      `invalid message: ${field} ${reason} (got ${describeValue(value)})`,
      options,
    );
    this.field = field;
    this.value = value;
  }
}

/**
 * An option, policy or filter that cannot be accepted.
 *
 * @example
 * ```ts
 * expect(() => DeliverFilter.messageType('TimeTick')).toThrow(ConfigError);
 * ```
 */
export class ConfigError extends WalError {
  /** The name of the rejected option, e.g. `'backoff.initial'`. */
  readonly option: string;
  /** The rejected value as it was given. */
  readonly value: unknown;

  constructor(option: string, value: unknown, reason: string, options?: ErrorOptions) {
    super('CONFIG', `invalid ${option}: ${reason} (got ${describeValue(value)})`, options);
    this.option = option;
    this.value = value;
  }
}

/**
 * A stored record that cannot be decoded.
 *
 * @example
 * ```ts
 * throw new CorruptRecordError('42', 'truncated header');
 * ```
 */
export class CorruptRecordError extends WalError {
  /** The id (or position) of the damaged record. */
  readonly record: string;

  constructor(record: string, reason: string, options?: ErrorOptions) {
    super('CORRUPT_RECORD', `corrupt record ${record}: ${reason}`, options);
    this.record = record;
  }
}

/**
 * An operation on a WAL, reader or buffer that has been closed.
 *
 * @example
 * ```ts
 * await wal.close();
 * await expect(wal.append({ type: 'Insert' })).rejects.toThrow(ClosedError);
 * ```
 */
export class ClosedError extends WalError {
  constructor(what: string, options?: ErrorOptions) {
    super('CLOSED', `${what} is closed`, options);
  }
}

/**
 * A write-ahead buffer reader fell behind the buffer's retention: what it would read next has
 * been evicted. A scanner answers it by falling back to catch-up from the durable log.
 *
 * @example
 * ```ts
 * reader.next().catch((err) => { if (err instanceof EvictedError) fallBackToCatchUp(); });
 * ```
 */
export class EvictedError extends WalError {
  constructor(message = 'write-ahead buffer entries were evicted', options?: ErrorOptions) {
    super('EVICTED', message, options);
  }
}

/**
 * A transaction whose keepalive passed before it was committed.
 *
 * @example
 * ```ts
 * await expect(txn.commit()).rejects.toThrow(TxnExpiredError);
 * ```
 */
export class TxnExpiredError extends WalError {
  /** The id of the expired transaction. */
  readonly txnId: bigint;

  constructor(txnId: bigint, options?: ErrorOptions) {
    super('TXN_EXPIRED', `transaction ${txnId} has expired`, options);
    this.txnId = txnId;
  }
}

/**
 * Another writer owns the log now; this writer may not append any more.
 *
 * @example
 * ```ts
 * if (err instanceof FencedError) process.exit(1);
 * ```
 */
export class FencedError extends WalError {
  constructor(message = 'another writer has taken over this log', options?: ErrorOptions) {
    super('FENCED', message, options);
  }
}

for (const errorClass of [
  WalError,
  InvalidMessageError,
  ConfigError,
  CorruptRecordError,
  ClosedError,
  EvictedError,
  TxnExpiredError,
  FencedError,
]) {
  brand(errorClass);
}
