import { ConfigError } from '../../lib/errors.js';
import {
  checkKeepalive,
  createMessage,
  DEFAULT_TXN_KEEPALIVE_MS,
  freezeMessage,
  type MessageInit,
} from '../../lib/message/createMessage.js';
import { MessageType } from '../../lib/message/message.js';
import { messageId, sequenceOf, type MessageId } from '../../lib/message/messageId.js';
import { estimateSize } from '../../lib/message/size.js';
import { invalidMessageErrorOf } from '../support/errors.js';

const TWO_64 = 1n << 64n;

/** A valid Insert, overridden field by field; `unknown` fields let a row hand in a wrong type. */
function insert(overrides: Record<string, unknown>): MessageInit {
  return {
    id: 1,
    type: MessageType.Insert,
    timeTick: 10n,
    vchannel: 'v1',
    ...overrides,
  } as MessageInit;
}

function tick(overrides: Record<string, unknown>): MessageInit {
  return { id: 1, type: MessageType.TimeTick, timeTick: 10n, ...overrides } as MessageInit;
}

describe('createMessage', () => {
  describe('rejects (API.md "createMessage rejects ...")', () => {
    // [what, init, field, the value as the message must show it]
    const rows: [string, MessageInit, string, string][] = [
      ['a missing type', insert({ type: undefined }), 'type', 'undefined'],
      ['an empty type', insert({ type: '' }), 'type', '""'],
      ['a non-string type', insert({ type: 1 }), 'type', '1'],
      ['a negative number tick', insert({ timeTick: -1 }), 'timeTick', '-1'],
      ['a negative bigint tick', insert({ timeTick: -1n }), 'timeTick', '-1n'],
      ['a fractional tick', insert({ timeTick: 1.5 }), 'timeTick', '1.5'],
      ['a NaN tick', insert({ timeTick: Number.NaN }), 'timeTick', 'NaN'],
      ['a tick of 2^64', insert({ timeTick: TWO_64 }), 'timeTick', '18446744073709551616n'],
      [
        'a number tick of 2^53 (above 2^53 - 1)',
        insert({ timeTick: 2 ** 53 }),
        'timeTick',
        '9007199254740992',
      ],
      ['a number tick of 2^64', insert({ timeTick: 2 ** 64 }), 'timeTick', '18446744073709552000'],
      ['a string tick', insert({ timeTick: '10' }), 'timeTick', '"10"'],
      ['a missing tick', insert({ timeTick: undefined }), 'timeTick', 'undefined'],
      ['a negative id', insert({ id: -1 }), 'id', '-1'],
      ['a fractional id', insert({ id: 2.5 }), 'id', '2.5'],
      ['an unsafe number id', insert({ id: 2 ** 53 }), 'id', '9007199254740992'],
      ['a negative bigint id', insert({ id: -3n }), 'id', '-3n'],
      ['a bigint id of 2^64', insert({ id: TWO_64 }), 'id', '18446744073709551616n'],
      ['a string id', insert({ id: '1' }), 'id', '"1"'],
      ['an object id that is not a MessageId', insert({ id: { key: 1 } }), 'id', '{"key":1}'],
      ['a missing id', insert({ id: undefined }), 'id', 'undefined'],
      ['a bad lastConfirmedId', insert({ lastConfirmedId: -1 }), 'lastConfirmedId', '-1'],
      ['a txn on a TimeTick', tick({ txn: { txnId: 1 } }), 'txn', '{"txnId":1}'],
      ['a txn without txnId', insert({ txn: {} }), 'txn.txnId', 'undefined'],
      ['a txn that is not an object', insert({ txn: null }), 'txn', 'null'],
      [
        'a txnId that is an unsafe number',
        insert({ txn: { txnId: 2 ** 53 } }),
        'txn.txnId',
        '9007199254740992',
      ],
      [
        'a txnId beyond int64',
        insert({ txn: { txnId: 1n << 63n } }),
        'txn.txnId',
        '9223372036854775808n',
      ],
      ['a txnId that is a string', insert({ txn: { txnId: '1' } }), 'txn.txnId', '"1"'],
      ['a negative keepalive', insert({ txn: { txnId: 1, keepalive: -1 } }), 'txn.keepalive', '-1'],
      [
        "a negative keepalive string ('-5s')",
        insert({ txn: { txnId: 1, keepalive: '-5s' } }),
        'txn.keepalive',
        '"-5s"',
      ],
      [
        'a NaN keepalive',
        insert({ txn: { txnId: 1, keepalive: Number.NaN } }),
        'txn.keepalive',
        'NaN',
      ],
      [
        "an unparsable keepalive ('5 parsecs')",
        insert({ txn: { txnId: 1, keepalive: '5 parsecs' } }),
        'txn.keepalive',
        '"5 parsecs"',
      ],
      ['persisted: false on an Insert', insert({ persisted: false }), 'persisted', 'false'],
      [
        'persisted: false on a CommitTxn',
        insert({ type: 'CommitTxn', txn: { txnId: 1 }, persisted: false }),
        'persisted',
        'false',
      ],
      ['a non-boolean persisted', tick({ persisted: 'no' }), 'persisted', '"no"'],
      ['a non-string vchannel', insert({ vchannel: 1 }), 'vchannel', '1'],
      ['properties that are an array', insert({ properties: ['a'] }), 'properties', '["a"]'],
      ['properties that are not an object', insert({ properties: 'a=b' }), 'properties', '"a=b"'],
      [
        'a property value that is not a string',
        insert({ properties: { k: 1 } }),
        'properties.k',
        '1',
      ],
      ['a negative size', insert({ size: -1 }), 'size', '-1'],
      ['a fractional size', insert({ size: 1.5 }), 'size', '1.5'],
      ['a string size', insert({ size: '10' }), 'size', '"10"'],
    ];

    it.each(rows)('%s', (_what, init, field, shown) => {
      const err = invalidMessageErrorOf(() => createMessage(init));
      expect(err.field).toBe(field);
      expect(err.code).toBe('INVALID_MESSAGE');
      expect(err.message).toContain(field);
      expect(err.message).toContain(`(got ${shown})`);
    });

    it('keeps the rejected value as given', () => {
      const err = invalidMessageErrorOf(() => createMessage(insert({ timeTick: TWO_64 })));
      expect(err.value).toBe(TWO_64);
      const nan = invalidMessageErrorOf(() =>
        createMessage(insert({ txn: { txnId: 1, keepalive: Number.NaN } })),
      );
      expect(nan.value).toBeNaN();
    });

    it('keeps the duration parser error as the cause of a bad keepalive', () => {
      const err = invalidMessageErrorOf(() =>
        createMessage(insert({ txn: { txnId: 1, keepalive: '5 parsecs' } })),
      );
      expect(err.cause).toBeInstanceOf(ConfigError);
      expect((err.cause as ConfigError).option).toBe('txn.keepalive');
    });

    it('rejects an init that is not an object', () => {
      const err = invalidMessageErrorOf(() => createMessage(null as unknown as MessageInit));
      expect(err.field).toBe('init');
      expect(err.message).toContain('(got null)');
    });
  });

  describe('accepts', () => {
    it('a tick of 2^64 - 1 (bigint) and 2^53 - 1 (number)', () => {
      expect(createMessage(insert({ timeTick: TWO_64 - 1n })).timeTick).toBe(TWO_64 - 1n);
      expect(createMessage(insert({ timeTick: Number.MAX_SAFE_INTEGER })).timeTick).toBe(
        9_007_199_254_740_991n,
      );
      expect(createMessage(insert({ timeTick: 0 })).timeTick).toBe(0n);
    });

    it('a number tick, turned into a bigint', () => {
      const m = createMessage(insert({ timeTick: 103 }));
      expect(typeof m.timeTick).toBe('bigint');
      expect(m.timeTick).toBe(103n);
    });

    it('ids as numbers, bigints and MessageIds', () => {
      expect(createMessage(insert({ id: 4 })).id.key).toBe('4');
      expect(sequenceOf(createMessage(insert({ id: TWO_64 - 1n })).id)).toBe(TWO_64 - 1n);
      const id = messageId(9);
      expect(createMessage(insert({ id })).id).toBe(id);
    });

    it('an open data type', () => {
      expect(createMessage(insert({ type: 'MyCustomType' })).type).toBe('MyCustomType');
    });

    it('persisted: false on a TimeTick', () => {
      expect(createMessage(tick({ persisted: false })).persisted).toBe(false);
    });

    it('negative and bigint txn ids within int64', () => {
      expect(createMessage(insert({ txn: { txnId: -1 } })).txn?.txnId).toBe(-1n);
      const max = (1n << 63n) - 1n;
      expect(createMessage(insert({ txn: { txnId: max } })).txn?.txnId).toBe(max);
      expect(createMessage(insert({ txn: { txnId: -(1n << 63n) } })).txn?.txnId).toBe(-(1n << 63n));
    });
  });

  describe('defaults', () => {
    const m = createMessage({ id: 5, type: MessageType.Insert, timeTick: 104n });

    it("vchannel is '' (every vchannel)", () => {
      expect(m.vchannel).toBe('');
    });

    it('lastConfirmedId is the own id', () => {
      expect(m.lastConfirmedId).toBe(m.id);
      expect(m.lastConfirmedId.key).toBe('5');
    });

    it('txn is undefined', () => {
      expect(m.txn).toBeUndefined();
    });

    it('persisted is true', () => {
      expect(m.persisted).toBe(true);
    });

    it('properties are empty, payload undefined, size 0', () => {
      expect(m.properties).toEqual({});
      expect(m.payload).toBeUndefined();
      expect(m.size).toBe(0);
    });

    it("keepalive is '10s' = 10000 ms", () => {
      expect(DEFAULT_TXN_KEEPALIVE_MS).toBe(10_000);
      const begin = createMessage({
        id: 4,
        type: 'BeginTxn',
        timeTick: 101n,
        vchannel: 'v1',
        txn: { txnId: 7 },
      });
      expect(begin.txn).toEqual({ txnId: 7n, keepaliveMs: 10_000 });
    });

    it('size is estimateSize(payload, properties)', () => {
      const withData = createMessage({
        id: 2,
        type: 'Insert',
        timeTick: 103n,
        payload: 'héllo',
        properties: { k: 'vv', key2: 'é' },
      });
      expect(withData.size).toBe(estimateSize('héllo', { k: 'vv', key2: 'é' }));
      expect(withData.size).toBe(6 + (1 + 2) + (4 + 2));
    });
  });

  describe('keeps given fields', () => {
    it('vchannel, lastConfirmedId, payload, properties and an explicit size', () => {
      const payload = { row: [1, 2] };
      const m = createMessage({
        id: 8,
        type: 'Delete',
        timeTick: 200n,
        vchannel: 'v2',
        lastConfirmedId: 3n,
        payload,
        properties: { a: 'b' },
        size: 1234,
      });
      expect(m.id.key).toBe('8');
      expect(m.type).toBe('Delete');
      expect(m.timeTick).toBe(200n);
      expect(m.vchannel).toBe('v2');
      expect(m.lastConfirmedId.key).toBe('3');
      expect(m.payload).toBe(payload);
      expect(m.properties).toEqual({ a: 'b' });
      expect(m.size).toBe(1234);
    });

    it('a MessageId as lastConfirmedId unchanged', () => {
      const lc: MessageId = messageId(2);
      expect(createMessage(insert({ lastConfirmedId: lc })).lastConfirmedId).toBe(lc);
    });

    it('an explicit size of 0', () => {
      expect(createMessage(insert({ payload: 'abc', size: 0 })).size).toBe(0);
    });

    it.each([
      ["'10s'", '10s', 10_000],
      ['201 (ms)', 201, 201],
      ['0', 0, 0],
      ['Infinity (never expires)', Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
      ["'Infinity'", 'Infinity', Number.POSITIVE_INFINITY],
    ])('a keepalive of %s', (_name, keepalive, keepaliveMs) => {
      const m = createMessage(insert({ txn: { txnId: 3n, keepalive } }));
      expect(m.txn).toEqual({ txnId: 3n, keepaliveMs });
    });
  });

  describe('immutability', () => {
    it('freezes the message, its properties and its txn context', () => {
      const m = createMessage(insert({ properties: { a: 'b' }, txn: { txnId: 1 } }));
      expect(Object.isFrozen(m)).toBe(true);
      expect(Object.isFrozen(m.properties)).toBe(true);
      expect(Object.isFrozen(m.txn)).toBe(true);
      expect(() => {
        (m as { vchannel: string }).vchannel = 'other';
      }).toThrow(TypeError);
      expect(m.vchannel).toBe('v1');
    });

    it('copies the properties: later changes to the input do not show', () => {
      const properties: Record<string, string> = { a: 'b' };
      const m = createMessage(insert({ properties }));
      properties['a'] = 'changed';
      properties['c'] = 'new';
      expect(m.properties).toEqual({ a: 'b' });
    });

    it('freezeMessage freezes and returns the same object', () => {
      const fields = createMessage(insert({}));
      const copy = { ...fields };
      expect(freezeMessage(copy)).toBe(copy);
      expect(Object.isFrozen(copy)).toBe(true);
    });
  });
});

describe('checkKeepalive', () => {
  it('defaults to 10000 ms', () => {
    expect(checkKeepalive(undefined)).toBe(10_000);
  });

  it('names the given field in its error', () => {
    const err = invalidMessageErrorOf(() => checkKeepalive('never', 'keepalive'));
    expect(err.field).toBe('keepalive');
    expect(err.message).toContain('(got "never")');
  });
});
