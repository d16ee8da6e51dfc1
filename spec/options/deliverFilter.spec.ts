import { createMessage } from '../../lib/message/createMessage.js';
import { MessageType, type WalMessage } from '../../lib/message/message.js';
import type { TimeTick } from '../../lib/message/tso.js';
import { buildTxnMessage } from '../../lib/message/txnMessage.js';
import { DeliverFilter, deliverFilterPredicate } from '../../lib/options/deliverFilter.js';
import { configErrorOf } from '../support/errors.js';

const TWO_64 = 1n << 64n;
let nextId = 1;

/** A message (tt, txn?, type) as written in the rows of reference §8.8. */
function msg(timeTick: TimeTick, inTxn: boolean, type: string): WalMessage {
  return createMessage({
    id: nextId++,
    type,
    timeTick,
    vchannel: type === MessageType.TimeTick ? '' : 'v1',
    ...(inTxn ? { txn: { txnId: 1n } } : {}),
  });
}

/** An assembled Txn message whose commit has tick `timeTick` (begin and body are earlier). */
function assembledTxn(timeTick: TimeTick): WalMessage {
  const begin = msg(0n, true, MessageType.BeginTxn);
  const body = msg(0n, true, MessageType.Insert);
  const commit = msg(timeTick, true, MessageType.CommitTxn);
  return buildTxnMessage(begin, [body], commit);
}

function keeps(filter: DeliverFilter | readonly DeliverFilter[], m: WalMessage): boolean {
  return deliverFilterPredicate(Array.isArray(filter) ? filter : [filter as DeliverFilter])(m);
}

describe('deliver filters: reference §8.8 rows', () => {
  describe('TimeTickGT(1)', () => {
    const gt1 = DeliverFilter.timeTickGT(1n);

    it.each(['Insert', 'Delete', 'TimeTick'])('(1, no, any) => no  [any = %s]', (type) => {
      expect(keeps(gt1, msg(1n, false, type))).toBe(false);
    });

    it.each(['Insert', 'Delete', 'TimeTick'])('(2, no, any) => yes  [any = %s]', (type) => {
      expect(keeps(gt1, msg(2n, false, type))).toBe(true);
    });

    it('(1, yes, CommitTxn) => no', () => {
      expect(keeps(gt1, msg(1n, true, MessageType.CommitTxn))).toBe(false);
    });

    it('(1, yes, Insert) => yes', () => {
      expect(keeps(gt1, msg(1n, true, MessageType.Insert))).toBe(true);
    });
  });

  describe('TimeTickGTE(1)', () => {
    const gte1 = DeliverFilter.timeTickGTE(1n);

    it.each(['Insert', 'Delete', 'TimeTick'])('(1, no, any) => yes  [any = %s]', (type) => {
      expect(keeps(gte1, msg(1n, false, type))).toBe(true);
    });

    it('(1, yes, CommitTxn) => yes', () => {
      expect(keeps(gte1, msg(1n, true, MessageType.CommitTxn))).toBe(true);
    });

    it('(1, yes, Insert) => yes', () => {
      expect(keeps(gte1, msg(1n, true, MessageType.Insert))).toBe(true);
    });
  });

  describe('MessageType(Insert, Delete)', () => {
    const insertDelete = DeliverFilter.messageType('Insert', 'Delete');

    it('Insert / Delete / Flush => yes / yes / no', () => {
      expect(keeps(insertDelete, msg(1n, false, 'Insert'))).toBe(true);
      expect(keeps(insertDelete, msg(1n, false, 'Delete'))).toBe(true);
      expect(keeps(insertDelete, msg(1n, false, 'Flush'))).toBe(false);
    });
  });

  describe('[derived] MessageType(Insert)', () => {
    const insertOnly = DeliverFilter.messageType('Insert');

    it('TimeTick / BeginTxn / Txn => yes (system)', () => {
      expect(keeps(insertOnly, msg(1n, false, MessageType.TimeTick))).toBe(true);
      expect(keeps(insertOnly, msg(1n, true, MessageType.BeginTxn))).toBe(true);
      expect(keeps(insertOnly, assembledTxn(5n))).toBe(true);
    });

    it('CommitTxn / RollbackTxn => yes (system)', () => {
      expect(keeps(insertOnly, msg(1n, true, MessageType.CommitTxn))).toBe(true);
      expect(keeps(insertOnly, msg(1n, true, MessageType.RollbackTxn))).toBe(true);
    });

    it('a body of another data type inside a transaction => no', () => {
      expect(keeps(insertOnly, msg(1n, true, 'Delete'))).toBe(false);
    });
  });

  describe('[derived] MessageType(TimeTick)', () => {
    it('construction is a programming error (ConfigError)', () => {
      const err = configErrorOf(() => DeliverFilter.messageType('TimeTick'));
      expect(err.option).toBe('DeliverFilter.messageType');
      expect(err.value).toBe('TimeTick');
      expect(err.message).toContain('"TimeTick"');
    });
  });

  describe('[derived] [] (empty)', () => {
    it.each([
      ['an Insert', msg(0n, false, 'Insert')],
      ['a TimeTick', msg(0n, false, 'TimeTick')],
      ['a CommitTxn', msg(0n, true, 'CommitTxn')],
      ['a txn body', msg(TWO_64 - 1n, true, 'Delete')],
      ['an assembled Txn', assembledTxn(0n)],
    ])('anything => yes  [%s]', (_name, m) => {
      expect(deliverFilterPredicate([])(m)).toBe(true);
    });
  });

  describe('[derived] [TimeTickGT(5), MessageType(Insert)]', () => {
    const filters = [DeliverFilter.timeTickGT(5n), DeliverFilter.messageType('Insert')];

    it('(6, no, Delete) => no (AND)', () => {
      expect(keeps(filters, msg(6n, false, 'Delete'))).toBe(false);
    });

    it('(6, no, Insert) => yes; (5, no, Insert) => no', () => {
      expect(keeps(filters, msg(6n, false, 'Insert'))).toBe(true);
      expect(keeps(filters, msg(5n, false, 'Insert'))).toBe(false);
    });
  });
});

describe('deliver filters: cases the reference never tested', () => {
  it('TimeTickGTE(1): (0, no, any) => no; (0, yes, CommitTxn) => no', () => {
    const gte1 = DeliverFilter.timeTickGTE(1n);
    expect(keeps(gte1, msg(0n, false, 'Insert'))).toBe(false);
    expect(keeps(gte1, msg(0n, false, 'TimeTick'))).toBe(false);
    expect(keeps(gte1, msg(0n, true, 'CommitTxn'))).toBe(false);
  });

  it('TimeTickGT(1): (2, yes, CommitTxn) => yes', () => {
    expect(keeps(DeliverFilter.timeTickGT(1n), msg(2n, true, 'CommitTxn'))).toBe(true);
  });

  it.each(['BeginTxn', 'RollbackTxn', 'Insert', 'Delete'])(
    'a %s inside a transaction is always kept by the tick filters (only the commit decides)',
    (type) => {
      expect(keeps(DeliverFilter.timeTickGT(100n), msg(1n, true, type))).toBe(true);
      expect(keeps(DeliverFilter.timeTickGTE(100n), msg(1n, true, type))).toBe(true);
    },
  );

  describe("rxwal: an assembled 'Txn' is judged by its (commit's) tick, like CommitTxn", () => {
    it('TimeTickGT(1): Txn at 1 => no, Txn at 2 => yes', () => {
      const gt1 = DeliverFilter.timeTickGT(1n);
      expect(keeps(gt1, assembledTxn(1n))).toBe(false);
      expect(keeps(gt1, assembledTxn(2n))).toBe(true);
    });

    it('TimeTickGTE(1): Txn at 0 => no, Txn at 1 => yes', () => {
      const gte1 = DeliverFilter.timeTickGTE(1n);
      expect(keeps(gte1, assembledTxn(0n))).toBe(false);
      expect(keeps(gte1, assembledTxn(1n))).toBe(true);
    });
  });

  it('bounds near 2^64 compare exactly', () => {
    const gt = DeliverFilter.timeTickGT(TWO_64 - 2n);
    expect(keeps(gt, msg(TWO_64 - 2n, false, 'Insert'))).toBe(false);
    expect(keeps(gt, msg(TWO_64 - 1n, false, 'Insert'))).toBe(true);
    const gte = DeliverFilter.timeTickGTE(TWO_64 - 1n);
    expect(keeps(gte, msg(TWO_64 - 2n, false, 'Insert'))).toBe(false);
    expect(keeps(gte, msg(TWO_64 - 1n, false, 'Insert'))).toBe(true);
  });

  it('AND of three filters, all must agree', () => {
    const filters = [
      DeliverFilter.timeTickGT(5n),
      DeliverFilter.timeTickGTE(7n),
      DeliverFilter.messageType('Insert'),
    ];
    expect(keeps(filters, msg(6n, false, 'Insert'))).toBe(false);
    expect(keeps(filters, msg(7n, false, 'Insert'))).toBe(true);
    expect(keeps(filters, msg(7n, false, 'Delete'))).toBe(false);
    expect(keeps(filters, msg(7n, false, 'TimeTick'))).toBe(true);
  });
});

describe('DeliverFilter construction', () => {
  it('builds frozen filter values', () => {
    const gt = DeliverFilter.timeTickGT(3n);
    expect(gt).toEqual({ kind: 'timeTickGT', timeTick: 3n });
    expect(Object.isFrozen(gt)).toBe(true);
    expect(DeliverFilter.timeTickGTE(TWO_64 - 1n)).toEqual({
      kind: 'timeTickGTE',
      timeTick: TWO_64 - 1n,
    });
    const types = DeliverFilter.messageType('Insert', 'Delete', 'Insert');
    expect(types).toEqual({ kind: 'messageType', types: new Set(['Insert', 'Delete']) });
    expect(Object.isFrozen(types)).toBe(true);
  });

  it('normalises a safe integer number tick to a bigint', () => {
    expect(DeliverFilter.timeTickGT(5 as unknown as TimeTick)).toEqual({
      kind: 'timeTickGT',
      timeTick: 5n,
    });
  });

  it.each(['TimeTick', 'BeginTxn', 'CommitTxn', 'RollbackTxn', 'Txn'])(
    'messageType(%s) throws ConfigError (a system type always passes)',
    (type) => {
      const err = configErrorOf(() => DeliverFilter.messageType(type));
      expect(err.option).toBe('DeliverFilter.messageType');
      expect(err.value).toBe(type);
    },
  );

  it('messageType with a system type among data types throws ConfigError', () => {
    expect(configErrorOf(() => DeliverFilter.messageType('Insert', 'CommitTxn')).value).toBe(
      'CommitTxn',
    );
  });

  it('messageType() with no type throws ConfigError', () => {
    const err = configErrorOf(() => DeliverFilter.messageType());
    expect(err.option).toBe('DeliverFilter.messageType');
    expect(err.message).toContain('at least one message type');
  });

  it.each([
    ['an empty string', ''],
    ['a number', 2],
  ])('messageType with %s throws ConfigError', (_name, type) => {
    const err = configErrorOf(() => DeliverFilter.messageType('Insert', type as string));
    expect(err.value).toBe(type);
  });

  it.each([
    ['negative', -1n],
    ['2^64', TWO_64],
    ['a fractional number', 1.5],
    ['a number above 2^53 - 1', 2 ** 53],
    ['a string', '5'],
  ])('timeTickGT / timeTickGTE with a %s tick throw ConfigError', (_name, tt) => {
    const gt = configErrorOf(() => DeliverFilter.timeTickGT(tt as TimeTick));
    expect(gt.option).toBe('DeliverFilter.timeTickGT');
    expect(gt.value).toBe(tt);
    const gte = configErrorOf(() => DeliverFilter.timeTickGTE(tt as TimeTick));
    expect(gte.option).toBe('DeliverFilter.timeTickGTE');
    expect(gte.value).toBe(tt);
  });
});

describe('deliverFilterPredicate (reference §2.3)', () => {
  /** A message that records which of its fields a predicate read. */
  function recording(m: WalMessage): { message: WalMessage; read: Set<PropertyKey> } {
    const read = new Set<PropertyKey>();
    const message = new Proxy(m, {
      get(target, key, receiver): unknown {
        read.add(key);
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    return { message, read };
  }

  it('short-circuits on the first false: a later filter is not evaluated', () => {
    const keep = deliverFilterPredicate([
      DeliverFilter.timeTickGT(5n),
      DeliverFilter.messageType('Insert'),
    ]);
    const dropped = recording(msg(1n, false, 'Insert'));
    expect(keep(dropped.message)).toBe(false);
    expect(dropped.read.has('timeTick')).toBe(true);
    expect(dropped.read.has('type')).toBe(false); // the type filter never ran

    const kept = recording(msg(6n, false, 'Insert'));
    expect(keep(kept.message)).toBe(true);
    expect(kept.read.has('type')).toBe(true); // and it does run when the first filter passes
  });

  it('evaluates filters in list order', () => {
    const keep = deliverFilterPredicate([
      DeliverFilter.messageType('Insert'),
      DeliverFilter.timeTickGT(5n),
    ]);
    const dropped = recording(msg(9n, false, 'Delete'));
    expect(keep(dropped.message)).toBe(false);
    expect(dropped.read.has('timeTick')).toBe(false);
  });

  it('an empty list keeps everything', () => {
    const keep = deliverFilterPredicate([]);
    expect(keep(msg(0n, false, 'Flush'))).toBe(true);
    expect(keep(msg(0n, false, 'TimeTick'))).toBe(true);
  });

  it.each([
    ['an unknown kind', { kind: 'vchannel', vchannel: 'v1' }],
    ['null', null],
    ['a string', 'timeTickGT'],
    ['messageType without a Set of types', { kind: 'messageType', types: ['Insert'] }],
    ['timeTickGT with a negative tick', { kind: 'timeTickGT', timeTick: -1n }],
    ['timeTickGTE with a missing tick', { kind: 'timeTickGTE' }],
  ])('throws ConfigError eagerly (at construction) for %s', (_name, bad) => {
    const filters = [DeliverFilter.timeTickGT(1n), bad] as unknown as DeliverFilter[];
    const err = configErrorOf(() => deliverFilterPredicate(filters));
    expect(err.option).toBe('filters[1]');
  });

  it('throws ConfigError when the list is not an array', () => {
    const notAList = DeliverFilter.timeTickGT(1n) as unknown as DeliverFilter[];
    const err = configErrorOf(() => deliverFilterPredicate(notAList));
    expect(err.option).toBe('filters');
  });

  it('names the option it is given', () => {
    const err = configErrorOf(() =>
      deliverFilterPredicate([{ kind: 'nope' }] as unknown as DeliverFilter[], 'scan.filters'),
    );
    expect(err.option).toBe('scan.filters[0]');
  });

  it('accepts a hand-written filter object with a Set', () => {
    const keep = deliverFilterPredicate([{ kind: 'messageType', types: new Set(['Flush']) }]);
    expect(keep(msg(1n, false, 'Flush'))).toBe(true);
    expect(keep(msg(1n, false, 'Insert'))).toBe(false);
  });
});
