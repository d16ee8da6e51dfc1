import {
  checkpointOf,
  comparePosition,
  decodeCheckpoint,
  encodeCheckpoint,
  type Checkpoint,
} from '../../lib/checkpoint/checkpoint.js';
import { ConfigError } from '../../lib/errors.js';
import { createMessage } from '../../lib/message/createMessage.js';
import { type WalMessage } from '../../lib/message/message.js';
import { messageId } from '../../lib/message/messageId.js';
import { MAX_TIME_TICK } from '../../lib/message/tso.js';
import { buildTxnMessage } from '../../lib/message/txnMessage.js';
import { configErrorOf } from '../support/errors.js';

const plain = (c: Checkpoint): unknown => ({
  timeTick: c.timeTick,
  id: c.id.key,
  lastConfirmedId: c.lastConfirmedId.key,
});

describe('checkpointOf', () => {
  test('a data message: its tick, id and last-confirmed id', () => {
    const m = createMessage({ id: 12, type: 'Insert', timeTick: 500, lastConfirmedId: 9 });
    expect(plain(checkpointOf(m))).toEqual({ timeTick: 500n, id: '12', lastConfirmedId: '9' });
  });

  test("a Txn: its commit's position (tick, id, last-confirmed id)", () => {
    const txn = { txnId: 7n, keepalive: Infinity };
    const begin = createMessage({ id: 3, type: 'BeginTxn', timeTick: 100, vchannel: 'v1', txn });
    const body = createMessage({ id: 4, type: 'Insert', timeTick: 101, vchannel: 'v1', txn });
    const commit = createMessage({
      id: 6,
      type: 'CommitTxn',
      timeTick: 104,
      vchannel: 'v1',
      txn,
      lastConfirmedId: 3,
    });
    expect(plain(checkpointOf(buildTxnMessage(begin, [body], commit)))).toEqual({
      timeTick: 104n,
      id: '6',
      lastConfirmedId: '3',
    });
  });

  test('a not-persisted time tick: its tick and the id it reuses', () => {
    const tt = createMessage({ id: 5, type: 'TimeTick', timeTick: 900, persisted: false });
    expect(plain(checkpointOf(tt))).toEqual({ timeTick: 900n, id: '5', lastConfirmedId: '5' });
  });

  test('rejects what is not a message with a ConfigError', () => {
    expect(configErrorOf(() => checkpointOf(undefined as unknown as WalMessage)).option).toBe(
      'message',
    );
    expect(() => checkpointOf({ timeTick: 1 } as unknown as WalMessage)).toThrow(ConfigError);
  });
});

describe('comparePosition: the delivered order is (tick, then id)', () => {
  const cp: Checkpoint = { timeTick: 10n, id: messageId(5), lastConfirmedId: messageId(2) };
  test.each([
    [9n, 9, -1],
    [10n, 4, -1],
    [10n, 5, 0],
    [10n, 6, 1],
    [11n, 1, 1],
  ])('tick %p id %p compares %p', (tt, id, sign) => {
    expect(Math.sign(comparePosition({ timeTick: tt, id: messageId(id) }, cp))).toBe(sign);
  });
});

describe('encodeCheckpoint / decodeCheckpoint', () => {
  const cp: Checkpoint = {
    timeTick: MAX_TIME_TICK,
    id: messageId((1n << 63n) + 1n),
    lastConfirmedId: messageId(0),
  };

  test('round-trips exactly, ticks up to 2^64 - 1 and ids beyond 2^53 included', () => {
    expect(plain(decodeCheckpoint(encodeCheckpoint(cp)))).toEqual(plain(cp));
  });

  test('the text is short, versioned JSON', () => {
    const text = encodeCheckpoint({
      timeTick: 7n,
      id: messageId(3),
      lastConfirmedId: messageId(2),
    });
    expect(text).toBe('{"v":1,"timeTick":"7","id":"3","lastConfirmedId":"2"}');
  });

  test('encoding something that is not a checkpoint is a ConfigError', () => {
    expect(configErrorOf(() => encodeCheckpoint(null as unknown as Checkpoint)).option).toBe(
      'checkpoint',
    );
    expect(configErrorOf(() => encodeCheckpoint({ ...cp, timeTick: -1n })).option).toBe(
      'checkpoint.timeTick',
    );
    expect(
      configErrorOf(() => encodeCheckpoint({ ...cp, id: 3 as unknown as Checkpoint['id'] })).option,
    ).toBe('checkpoint.id');
    expect(
      configErrorOf(() =>
        encodeCheckpoint({ ...cp, lastConfirmedId: 'x' as unknown as Checkpoint['id'] }),
      ).option,
    ).toBe('checkpoint.lastConfirmedId');
  });

  test.each([
    ['not JSON', 'checkpoint', 'cp-17'],
    ['JSON that is not an object', 'checkpoint', '[1]'],
    ['null', 'checkpoint', 'null'],
    ['no version', 'checkpoint.v', '{"timeTick":"1","id":"1","lastConfirmedId":"1"}'],
    ['another version', 'checkpoint.v', '{"v":2,"timeTick":"1","id":"1","lastConfirmedId":"1"}'],
    [
      'a numeric tick',
      'checkpoint.timeTick',
      '{"v":1,"timeTick":1,"id":"1","lastConfirmedId":"1"}',
    ],
    [
      'a negative tick',
      'checkpoint.timeTick',
      '{"v":1,"timeTick":"-1","id":"1","lastConfirmedId":"1"}',
    ],
    [
      'a tick of 2^64',
      'checkpoint.timeTick',
      '{"v":1,"timeTick":"18446744073709551616","id":"1","lastConfirmedId":"1"}',
    ],
    ['a fractional id', 'checkpoint.id', '{"v":1,"timeTick":"1","id":"1.5","lastConfirmedId":"1"}'],
    [
      'a missing last-confirmed id',
      'checkpoint.lastConfirmedId',
      '{"v":1,"timeTick":"1","id":"1"}',
    ],
    ['a leading zero', 'checkpoint.id', '{"v":1,"timeTick":"1","id":"01","lastConfirmedId":"1"}'],
    [
      'an unknown field',
      'checkpoint',
      '{"v":1,"timeTick":"1","id":"1","lastConfirmedId":"1","x":0}',
    ],
  ])('decoding %s is a ConfigError naming %s', (_what, option, text) => {
    expect(configErrorOf(() => decodeCheckpoint(text)).option).toBe(option);
  });

  test('decoding a non-string is a ConfigError', () => {
    expect(configErrorOf(() => decodeCheckpoint(42 as unknown as string)).option).toBe(
      'checkpoint',
    );
  });
});
