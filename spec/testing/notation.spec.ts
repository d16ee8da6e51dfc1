import { InvalidMessageError } from '../../lib/errors.js';
import { MessageType } from '../../lib/message/message.js';
import { buildTxnMessage } from '../../lib/message/txnMessage.js';
import { formatWalMessage, parseWalMessage, walMessages } from '../../lib/testing/notation.js';

describe('parseWalMessage', () => {
  it('reads every field of the notation', () => {
    const m = parseWalMessage('ins:7 v1 @101 #5 lc=4 keepalive=5s size=12');
    expect(m).toMatchObject({
      type: 'Insert',
      vchannel: 'v1',
      timeTick: 101n,
      txn: { txnId: 7n, keepaliveMs: 5000 },
      persisted: true,
      size: 12,
    });
    expect(m.id.key).toBe('5');
    expect(m.lastConfirmedId.key).toBe('4');
  });

  it('fills in the defaults: no vchannel, own id as last-confirmed, persisted, the 10 s keepalive', () => {
    const tick = parseWalMessage('tt @100', 1);
    expect(tick).toMatchObject({
      type: 'TimeTick',
      vchannel: '',
      timeTick: 100n,
      persisted: true,
      txn: undefined,
    });
    expect(tick.id.key).toBe('1');
    expect(tick.lastConfirmedId.key).toBe('1');
    expect(parseWalMessage('begin:7 v1 @101', 4).txn).toEqual({ txnId: 7n, keepaliveMs: 10_000 });
  });

  it('reads np as a not-persisted time tick', () => {
    expect(parseWalMessage('tt @100 np lc=3', 4)).toMatchObject({
      persisted: false,
      timeTick: 100n,
    });
  });

  it('reads keepalive=Infinity as a transaction that never expires', () => {
    expect(parseWalMessage('begin:7 @1 keepalive=Infinity', 1).txn?.keepaliveMs).toBe(Infinity);
  });

  it('prefers #<id> over the default id', () => {
    expect(parseWalMessage('ins @1 #9', 2).id.key).toBe('9');
  });

  it('takes ticks up to 2^64 − 1 as bigints', () => {
    expect(parseWalMessage('tt @18446744073709551615', 1).timeTick).toBe(18446744073709551615n);
  });

  it('ignores surrounding and repeated whitespace', () => {
    expect(formatWalMessage(parseWalMessage('  ins   v1\t@3  ', 2))).toBe('Insert v1 @3 #2');
  });

  it.each([
    ['tt', MessageType.TimeTick],
    ['ins', MessageType.Insert],
    ['insert', MessageType.Insert],
    ['del', MessageType.Delete],
    ['delete', MessageType.Delete],
    ['begin:1', MessageType.BeginTxn],
    ['commit:1', MessageType.CommitTxn],
    ['rollback:1', MessageType.RollbackTxn],
    ['Insert', MessageType.Insert],
    ['Flush', MessageType.Flush],
    ['MyOwnType', 'MyOwnType'],
  ])('reads the type %s as %s', (head, type) => {
    expect(parseWalMessage(`${head} @1`, 1).type).toBe(type);
  });

  it.each<[string, unknown, string]>([
    ['a notation without a tick', 'ins v1', 'notation'],
    ['an empty notation', '', 'notation'],
    ['a tick that is not an integer', 'ins @1.5', 'timeTick'],
    ['a negative tick', 'ins @-1', 'timeTick'],
    ['a tick of 2^64', 'tt @18446744073709551616', 'timeTick'],
    ['an id that is not an integer', 'ins @1 #x', 'id'],
    ['a txn id that is not an integer', 'begin:seven @1', 'txnId'],
    ['a last-confirmed id that is not an integer', 'ins @1 lc=', 'lastConfirmedId'],
    ['a negative size', 'ins @1 size=-1', 'size'],
    ['a second vchannel', 'ins v1 v2 @1', 'notation'],
    ['a keepalive outside a transaction', 'ins @1 keepalive=5s', 'notation'],
    ['an unparsable keepalive', 'begin:7 @1 keepalive=5parsecs', 'txn.keepalive'],
    ['a transaction on a time tick', 'tt:7 @1', 'txn'],
    ['np on a data message', 'ins @1 np', 'persisted'],
    ['a notation that is not a string', 42, 'notation'],
  ])('rejects %s with InvalidMessageError', (_what, notation, field) => {
    expect(() => parseWalMessage(notation as string, 1)).toThrow(InvalidMessageError);
    expect(() => parseWalMessage(notation as string, 1)).toThrow(
      expect.objectContaining({ field }),
    );
  });

  it('needs an id when no default is given', () => {
    expect(() => parseWalMessage('ins @1')).toThrow(
      new InvalidMessageError('notation', 'ins @1', 'needs an id (#<id>)'),
    );
  });
});

describe('formatWalMessage', () => {
  it.each([
    'TimeTick @100 #1',
    'TimeTick @100 #4 np lc=3',
    'Insert v1 @103 #2',
    'Delete v2 @18446744073709551615 #9',
    'BeginTxn:7 v1 @101 #4',
    'Insert:7 v1 @101 #5 lc=4',
    'RollbackTxn:8 v1 @110 #12 lc=11',
  ])('round-trips the canonical form %s', (text) => {
    expect(formatWalMessage(parseWalMessage(text))).toBe(text);
  });

  it('writes the id always, lc= only when it differs, and resolves aliases', () => {
    expect(formatWalMessage(parseWalMessage('ins v1 @3 lc=2', 2))).toBe('Insert v1 @3 #2');
    expect(formatWalMessage(parseWalMessage('del @3 lc=1', 2))).toBe('Delete @3 #2 lc=1');
  });

  it('parses back to an equal message (the fields the notation carries)', () => {
    const original = parseWalMessage('ins:7 v1 @101 #5 lc=4', 1);
    const again = parseWalMessage(formatWalMessage(original));
    expect({ ...again, id: again.id.key, lastConfirmedId: again.lastConfirmedId.key }).toEqual({
      ...original,
      id: original.id.key,
      lastConfirmedId: original.lastConfirmedId.key,
    });
  });

  it("writes a Txn with its bodies in brackets, re-stamped with the commit's tick and last-confirmed id", () => {
    const begin = parseWalMessage('begin:7 v1 @101 #4');
    const bodies = [
      parseWalMessage('ins:7 v1 @102 #5 lc=4'),
      parseWalMessage('del:7 v1 @103 #6 lc=4'),
    ];
    const commit = parseWalMessage('commit:7 v1 @106 #7 lc=4');
    expect(formatWalMessage(buildTxnMessage(begin, bodies, commit))).toBe(
      'Txn:7 v1 @106 #7 lc=4 [Insert:7 v1 @106 #5 lc=4, Delete:7 v1 @106 #6 lc=4]',
    );
  });
});

describe('walMessages', () => {
  it('parses one message per key and numbers ids 1, 2, 3 … in key order', () => {
    const m = walMessages({ a: 'tt @100', b: 'ins v1 @103', c: 'ins v2 @102', d: 'tt @104' });
    expect(Object.keys(m)).toEqual(['a', 'b', 'c', 'd']);
    expect(Object.values(m).map(formatWalMessage)).toEqual([
      'TimeTick @100 #1',
      'Insert v1 @103 #2',
      'Insert v2 @102 #3',
      'TimeTick @104 #4',
    ]);
  });

  it('keeps an explicit #<id>; the automatic numbering goes by position', () => {
    const m = walMessages({ a: 'tt @1', b: 'ins @2 #10', c: 'tt @3' });
    expect([m.a.id.key, m.b.id.key, m.c.id.key]).toEqual(['1', '10', '3']);
  });

  it('gives fresh messages on every call', () => {
    const spec = { a: 'ins v1 @1' };
    expect(walMessages(spec).a).not.toBe(walMessages(spec).a);
    expect(walMessages(spec).a).toEqual(walMessages(spec).a);
  });

  it('reports the bad entry with InvalidMessageError', () => {
    expect(() => walMessages({ a: 'tt @1', b: 'ins v1' })).toThrow(
      expect.objectContaining({ field: 'notation', value: 'ins v1' }),
    );
  });
});
