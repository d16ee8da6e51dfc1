import {
  isMessageId,
  messageId,
  sequenceOf,
  toMessageId,
  type MessageId,
} from '../../lib/message/messageId.js';
import { invalidMessageErrorOf } from '../support/errors.js';

const TWO_64 = 1n << 64n;

/** An id of some other WAL: only a key and its own compare. */
function foreignId(key: string): MessageId {
  return {
    key,
    compare: (other) => (key === other.key ? 0 : key < other.key ? -1 : 1),
    toString: () => key,
  };
}

describe('messageId', () => {
  it('has the decimal string as key and toString', () => {
    const id = messageId(3);
    expect(id.key).toBe('3');
    expect(id.toString()).toBe('3');
    expect(String(id)).toBe('3');
    expect(`${messageId(42n)}`).toBe('42');
  });

  it('serialises to JSON as its key', () => {
    expect(JSON.stringify({ id: messageId(7n) })).toBe('{"id":"7"}');
  });

  it('compares numerically: -1, 0, 1', () => {
    expect(messageId(3).compare(messageId(10n))).toBe(-1);
    expect(messageId(10n).compare(messageId(3))).toBe(1);
    expect(messageId(5).compare(messageId(5n))).toBe(0);
  });

  it('compares numerically, not as strings (9 < 10)', () => {
    expect(messageId(9).compare(messageId(10))).toBe(-1);
    expect(messageId(100).compare(messageId(20))).toBe(1);
  });

  it('gives a number and an equal bigint the same key', () => {
    expect(messageId(12).key).toBe(messageId(12n).key);
  });

  it('is exact for bigints near 2^64', () => {
    const max = messageId(TWO_64 - 1n);
    const belowMax = messageId(TWO_64 - 2n);
    expect(max.key).toBe('18446744073709551615');
    expect(belowMax.key).toBe('18446744073709551614');
    expect(max.compare(belowMax)).toBe(1);
    expect(belowMax.compare(max)).toBe(-1);
    expect(max.compare(messageId(TWO_64 - 1n))).toBe(0);
  });

  it('tells apart 2^53 and 2^53 + 1 (equal as numbers)', () => {
    const a = messageId(2n ** 53n);
    const b = messageId(2n ** 53n + 1n);
    expect(a.compare(b)).toBe(-1);
    expect(a.key).not.toBe(b.key);
  });

  it('accepts 0 and the largest safe integer', () => {
    expect(messageId(0).key).toBe('0');
    expect(messageId(Number.MAX_SAFE_INTEGER).key).toBe('9007199254740991');
  });

  it('compares with an id of another WAL by key', () => {
    expect(messageId(5).compare(foreignId('5'))).toBe(0);
    expect(messageId(5).compare(foreignId('6'))).toBe(-1);
    expect(messageId(5).compare(foreignId('4'))).toBe(1);
  });

  it('has equals by key', () => {
    const id = messageId(5);
    if (!('equals' in id) || typeof id.equals !== 'function')
      throw new Error('numeric ids have equals()');
    const equals = id.equals as (other: MessageId) => boolean;
    expect(equals.call(id, messageId(5n))).toBe(true);
    expect(equals.call(id, foreignId('5'))).toBe(true);
    expect(equals.call(id, messageId(6))).toBe(false);
  });

  it.each([
    ['a negative number', -1, '-1'],
    ['a fraction', 1.5, '1.5'],
    ['an unsafe number (2^53)', 2 ** 53, '9007199254740992'],
    ['NaN', Number.NaN, 'NaN'],
    ['Infinity', Number.POSITIVE_INFINITY, 'Infinity'],
    ['a negative bigint', -1n, '-1n'],
    ['the bigint 2^64', TWO_64, '18446744073709551616n'],
  ])('rejects %s with InvalidMessageError naming id and the value', (_name, seq, shown) => {
    const err = invalidMessageErrorOf(() => messageId(seq));
    expect(err.field).toBe('id');
    expect(err.value).toBe(seq);
    expect(err.message).toContain(`(got ${shown})`);
  });

  it('rejects a value that is not a number or bigint', () => {
    const err = invalidMessageErrorOf(() => messageId('3' as unknown as number));
    expect(err.field).toBe('id');
    expect(err.message).toContain('(got "3")');
  });
});

describe('sequenceOf', () => {
  it('returns the bigint sequence of a numeric id', () => {
    expect(sequenceOf(messageId(7))).toBe(7n);
    expect(sequenceOf(messageId(TWO_64 - 1n))).toBe(TWO_64 - 1n);
  });

  it('returns undefined for an id of another WAL', () => {
    expect(sequenceOf(foreignId('7'))).toBeUndefined();
  });
});

describe('isMessageId', () => {
  it('accepts anything with a string key and a compare method', () => {
    expect(isMessageId(messageId(1))).toBe(true);
    expect(isMessageId(foreignId('x'))).toBe(true);
  });

  it.each([
    ['null', null],
    ['a number', 1],
    ['a bigint', 1n],
    ['a string', '1'],
    ['an object without compare', { key: '1' }],
    ['an object with a numeric key', { key: 1, compare: () => 0 }],
  ])('rejects %s', (_name, value) => {
    expect(isMessageId(value)).toBe(false);
  });
});

describe('toMessageId', () => {
  it('passes a MessageId through unchanged', () => {
    const id = foreignId('abc');
    expect(toMessageId(id, 'id')).toBe(id);
  });

  it('turns numbers and bigints into numeric ids', () => {
    expect(toMessageId(4, 'id').key).toBe('4');
    expect(sequenceOf(toMessageId(4, 'id'))).toBe(4n);
    expect(toMessageId(TWO_64 - 1n, 'id').key).toBe('18446744073709551615');
  });

  it.each([
    ['a string', '4', '"4"'],
    ['null', null, 'null'],
    ['an object that is not an id', { seq: 4 }, '{"seq":4}'],
    ['a negative number', -4, '-4'],
    ['a negative bigint', -4n, '-4n'],
  ])('rejects %s, naming the given field and the value', (_name, value, shown) => {
    const err = invalidMessageErrorOf(() => toMessageId(value, 'lastConfirmedId'));
    expect(err.field).toBe('lastConfirmedId');
    expect(err.value).toBe(value);
    expect(err.message).toContain('lastConfirmedId');
    expect(err.message).toContain(`(got ${shown})`);
  });
});
