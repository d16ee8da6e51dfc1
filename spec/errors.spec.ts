import {
  ClosedError,
  ConfigError,
  CorruptRecordError,
  describeValue,
  EvictedError,
  FencedError,
  InvalidMessageError,
  TxnExpiredError,
  WalError,
} from '../lib/errors.js';

const cause = new Error('root cause');

// [class name, stable code, an instance built with `cause`, its expected message]
const cases: [string, string, WalError, string][] = [
  [
    'WalError',
    'SOME_CODE',
    new WalError('SOME_CODE', 'something failed', { cause }),
    'something failed',
  ],
  [
    'InvalidMessageError',
    'INVALID_MESSAGE',
    new InvalidMessageError('timeTick', -1, 'must not be negative', { cause }),
    'invalid message: timeTick must not be negative (got -1)',
  ],
  [
    'ConfigError',
    'CONFIG',
    new ConfigError('backoff.initial', 'soon', 'is not a duration', { cause }),
    'invalid backoff.initial: is not a duration (got "soon")',
  ],
  [
    'CorruptRecordError',
    'CORRUPT_RECORD',
    new CorruptRecordError('42', 'truncated header', { cause }),
    'corrupt record 42: truncated header',
  ],
  ['ClosedError', 'CLOSED', new ClosedError('wal "ch-1"', { cause }), 'wal "ch-1" is closed'],
  [
    'EvictedError',
    'EVICTED',
    new EvictedError('reader 3 fell behind', { cause }),
    'reader 3 fell behind',
  ],
  [
    'TxnExpiredError',
    'TXN_EXPIRED',
    new TxnExpiredError(9223372036854775807n, { cause }),
    'transaction 9223372036854775807 has expired',
  ],
  ['FencedError', 'FENCED', new FencedError('writer 2 took over', { cause }), 'writer 2 took over'],
];

describe.each(cases)('%s', (name, code, err, message) => {
  it(`has the stable code ${code}`, () => {
    expect(err.code).toBe(code);
  });

  it('is named after its class', () => {
    expect(err.name).toBe(name);
    expect(err.constructor.name).toBe(name);
    expect(String(err)).toBe(`${name}: ${message}`);
  });

  it('has the expected message', () => {
    expect(err.message).toBe(message);
  });

  it('keeps its cause', () => {
    expect(err.cause).toBe(cause);
  });

  it('is an instance of WalError and Error, with a stack', () => {
    expect(err).toBeInstanceOf(WalError);
    expect(err).toBeInstanceOf(Error);
    expect(err.stack).toContain(name);
  });
});

describe('error details', () => {
  it('InvalidMessageError keeps field and value', () => {
    const err = new InvalidMessageError(
      'txn.keepalive',
      '5 parsecs',
      'must be a non-negative duration',
    );
    expect(err.field).toBe('txn.keepalive');
    expect(err.value).toBe('5 parsecs');
    expect(err.cause).toBeUndefined();
  });

  it('ConfigError keeps option and value', () => {
    const err = new ConfigError('pendingLimit', -1, 'must be positive');
    expect(err.option).toBe('pendingLimit');
    expect(err.value).toBe(-1);
  });

  it('CorruptRecordError keeps the record', () => {
    expect(new CorruptRecordError('17', 'bad crc').record).toBe('17');
  });

  it('TxnExpiredError keeps the txn id', () => {
    expect(new TxnExpiredError(7n).txnId).toBe(7n);
  });

  it('EvictedError and FencedError have default messages', () => {
    expect(new EvictedError().message).toBe('write-ahead buffer entries were evicted');
    expect(new FencedError().message).toBe('another writer has taken over this log');
  });

  it('subclasses are not instances of each other', () => {
    const err = new ConfigError('x', 1, 'bad');
    expect(err).not.toBeInstanceOf(InvalidMessageError);
    expect(new InvalidMessageError('x', 1, 'bad')).not.toBeInstanceOf(ConfigError);
  });

  it('a subclass of a subclass is named after itself', () => {
    class MyConfigError extends ConfigError {}
    const err = new MyConfigError('x', 1, 'bad');
    expect(err.name).toBe('MyConfigError');
    expect(err.code).toBe('CONFIG');
    expect(err).toBeInstanceOf(ConfigError);
  });
});

describe('describeValue', () => {
  it.each([
    ['a bigint with its n', 18446744073709551616n, '18446744073709551616n'],
    ['a string quoted', '5 parsecs', '"5 parsecs"'],
    ['a number', 1.5, '1.5'],
    ['NaN', Number.NaN, 'NaN'],
    ['-Infinity', Number.NEGATIVE_INFINITY, '-Infinity'],
    ['a boolean', false, 'false'],
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['a function', () => 1, 'a function'],
    ['an object as JSON', { a: 1 }, '{"a":1}'],
    ['bigints inside objects with their n', { txnId: 1n }, '{"txnId":"1n"}'],
    ['an array', [1, 'a'], '[1,"a"]'],
  ])('renders %s', (_name, value, shown) => {
    expect(describeValue(value)).toBe(shown);
  });

  it('cuts JSON longer than 80 characters to 77 plus ...', () => {
    const long = { text: 'x'.repeat(200) };
    const shown = describeValue(long);
    expect(shown).toHaveLength(80);
    expect(shown).toBe(`${JSON.stringify(long).slice(0, 77)}...`);
  });

  it('keeps JSON of exactly 80 characters whole', () => {
    const value = { t: 'x'.repeat(72) }; // {"t":"…"} = 8 + 72
    expect(JSON.stringify(value)).toHaveLength(80);
    expect(describeValue(value)).toBe(JSON.stringify(value));
  });

  it('falls back to the object tag for a cyclic value', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(describeValue(cyclic)).toBe('[object Object]');
  });
});

describe('instanceof across copies of rxwal (the Symbol.for brand)', () => {
  /** An error built the way another copy of rxwal builds it: same brands, other prototypes. */
  function fromAnotherCopy(...classes: string[]): Error {
    let proto: object = Error.prototype;
    for (const name of classes) {
      proto = Object.create(proto, { [Symbol.for(`rxwal.${name}`)]: { value: true } });
    }
    return Object.create(proto) as Error;
  }

  it('an error of another copy is an instance of the same class and of WalError', () => {
    const err = fromAnotherCopy('WalError', 'ConfigError');
    expect(err instanceof ConfigError).toBe(true);
    expect(err instanceof WalError).toBe(true);
    expect(err instanceof ClosedError).toBe(false);
    expect(err instanceof InvalidMessageError).toBe(false);
  });

  it.each([
    'InvalidMessageError',
    'CorruptRecordError',
    'ClosedError',
    'EvictedError',
    'TxnExpiredError',
    'FencedError',
  ])('%s of another copy is recognised by its own class only', (name) => {
    const err = fromAnotherCopy('WalError', name);
    const all = {
      InvalidMessageError,
      CorruptRecordError,
      ClosedError,
      EvictedError,
      TxnExpiredError,
      FencedError,
    } as Record<string, abstract new (...args: never[]) => unknown>;
    for (const [other, errorClass] of Object.entries(all)) {
      expect([other, err instanceof errorClass]).toEqual([other, other === name]);
    }
  });

  it('values without the brand are not instances', () => {
    for (const value of [null, undefined, 1, 'ConfigError', {}, new Error('x')]) {
      expect(value instanceof WalError).toBe(false);
      expect(value instanceof ConfigError).toBe(false);
    }
    // a brand that is not exactly true does not count
    expect({ [Symbol.for('rxwal.WalError')]: 'yes' } instanceof WalError).toBe(false);
  });

  it('a class derived outside rxwal keeps the ordinary prototype check', () => {
    class AppError extends ConfigError {}
    const own = new AppError('x', 1, 'bad');
    expect(own instanceof AppError).toBe(true);
    expect(own instanceof ConfigError).toBe(true);
    expect(own instanceof WalError).toBe(true);
    expect(new ConfigError('x', 1, 'bad') instanceof AppError).toBe(false);
    expect(fromAnotherCopy('WalError', 'ConfigError') instanceof AppError).toBe(false);
  });
});
