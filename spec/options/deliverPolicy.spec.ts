import { messageId, type MessageId } from '../../lib/message/messageId.js';
import { checkDeliverPolicy, DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { configErrorOf } from '../support/errors.js';

describe('DeliverPolicy (reference §2.1)', () => {
  it('all() reads from the earliest retained message', () => {
    expect(DeliverPolicy.all()).toEqual({ kind: 'all' });
    expect(DeliverPolicy.all()).toBe(DeliverPolicy.all());
    expect(Object.isFrozen(DeliverPolicy.all())).toBe(true);
  });

  it('latest() reads only what is appended after the reader is created', () => {
    expect(DeliverPolicy.latest()).toEqual({ kind: 'latest' });
    expect(DeliverPolicy.latest()).toBe(DeliverPolicy.latest());
    expect(Object.isFrozen(DeliverPolicy.latest())).toBe(true);
  });

  it('startFrom(id) keeps the id (inclusive start)', () => {
    const id = messageId(5);
    const policy = DeliverPolicy.startFrom(id);
    expect(policy).toEqual({ kind: 'startFrom', id });
    expect(policy.kind === 'startFrom' && policy.id).toBe(id);
    expect(Object.isFrozen(policy)).toBe(true);
  });

  it('startAfter(id) keeps the id (exclusive start)', () => {
    const id = messageId(2n ** 64n - 1n);
    const policy = DeliverPolicy.startAfter(id);
    expect(policy).toEqual({ kind: 'startAfter', id });
    expect(policy.kind === 'startAfter' && policy.id).toBe(id);
    expect(Object.isFrozen(policy)).toBe(true);
  });

  it('accepts an id of another WAL (key and compare)', () => {
    const id: MessageId = { key: 'seg-1/42', compare: () => 0, toString: () => 'seg-1/42' };
    expect(DeliverPolicy.startFrom(id)).toEqual({ kind: 'startFrom', id });
  });

  it.each([
    ['a number', 5, '5'],
    ['a bigint', 5n, '5n'],
    ['a string', '5', '"5"'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['an object without compare', { key: '5' }, '{"key":"5"}'],
  ])('startFrom and startAfter reject %s with ConfigError', (_name, bad, shown) => {
    const from = configErrorOf(() => DeliverPolicy.startFrom(bad as unknown as MessageId));
    expect(from.option).toBe('DeliverPolicy.startFrom');
    expect(from.value).toBe(bad);
    expect(from.message).toContain(`(got ${shown})`);
    const after = configErrorOf(() => DeliverPolicy.startAfter(bad as unknown as MessageId));
    expect(after.option).toBe('DeliverPolicy.startAfter');
    expect(after.value).toBe(bad);
  });
});

describe('checkDeliverPolicy', () => {
  it.each([
    ['all()', DeliverPolicy.all()],
    ['latest()', DeliverPolicy.latest()],
    ['startFrom()', DeliverPolicy.startFrom(messageId(1))],
    ['startAfter()', DeliverPolicy.startAfter(messageId(1))],
  ])('returns the policy %s as given', (_name, policy) => {
    expect(checkDeliverPolicy(policy)).toBe(policy);
  });

  it('accepts a hand-written policy object', () => {
    const policy = { kind: 'startFrom', id: messageId(3) };
    expect(checkDeliverPolicy(policy)).toBe(policy);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'all'],
    ['an unknown kind', { kind: 'earliest' }],
    ['startFrom without an id', { kind: 'startFrom' }],
    ['startAfter with a number id', { kind: 'startAfter', id: 3 }],
  ])('rejects %s with ConfigError naming deliverPolicy', (_name, policy) => {
    const err = configErrorOf(() => checkDeliverPolicy(policy));
    expect(err.option).toBe('deliverPolicy');
    expect(err.value).toBe(policy);
    expect(err.message).toContain('deliverPolicy');
  });

  it('names the option it is given', () => {
    expect(
      configErrorOf(() => checkDeliverPolicy({ kind: 'x' }, 'scan.deliverPolicy')).option,
    ).toBe('scan.deliverPolicy');
  });
});
