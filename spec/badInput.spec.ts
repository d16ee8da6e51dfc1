/**
 * Every public entry point rejects bad input with a WalError subclass that names the option or
 * field (issue 5, "Bad input"), and nothing already accepted is lost when a later input is
 * rejected.
 */
import { BehaviorSubject, Observable, of, type SchedulerLike } from 'rxjs';

import {
  ConfigError,
  createInMemoryMetrics,
  createMemoryWal,
  createMessage,
  DeliverFilter,
  DeliverPolicy,
  filterMessages,
  filterVChannel,
  InvalidMessageError,
  messageId,
  pauseGate,
  reorderUntilTick,
  scanWal,
  switchableSource,
  tso,
  txnBuffer,
  WalError,
  type Logger,
  type MessageId,
  type ScannerMetrics,
  type WalMessage,
} from '../lib/index.js';
import { until } from './support/promises.js';

const wal = createMemoryWal({ channel: 'bad-input' });
afterAll(() => wal.close());

const notALogger = { info: () => undefined } as unknown as Logger;
const notMetrics = 42 as unknown as ScannerMetrics;
const notAScheduler = { now: 'soon' } as unknown as SchedulerLike;
const bogusId = { key: 1 } as unknown as MessageId;

type Row = [
  entry: string,
  call: () => unknown,
  error: new (...args: never[]) => WalError,
  names: RegExp,
];

const rows: Row[] = [
  // messages
  [
    'createMessage: empty type',
    () => createMessage({ id: 1, type: '', timeTick: 1 }),
    InvalidMessageError,
    /type/,
  ],
  [
    'createMessage: negative tick',
    () => createMessage({ id: 1, type: 'Insert', timeTick: -1 }),
    InvalidMessageError,
    /timeTick/,
  ],
  [
    'createMessage: tick ≥ 2^64',
    () => createMessage({ id: 1, type: 'Insert', timeTick: 1n << 64n }),
    InvalidMessageError,
    /timeTick/,
  ],
  [
    'createMessage: unsafe number tick',
    () => createMessage({ id: 1, type: 'Insert', timeTick: 2 ** 60 }),
    InvalidMessageError,
    /timeTick/,
  ],
  [
    'createMessage: fractional id',
    () => createMessage({ id: 1.5, type: 'Insert', timeTick: 1 }),
    InvalidMessageError,
    /id/,
  ],
  [
    'createMessage: txn on a TimeTick',
    () => createMessage({ id: 1, type: 'TimeTick', timeTick: 1, txn: { txnId: 1 } }),
    InvalidMessageError,
    /txn/,
  ],
  [
    'createMessage: keepalive 5 parsecs',
    () =>
      createMessage({
        id: 1,
        type: 'Insert',
        timeTick: 1,
        txn: { txnId: 1, keepalive: '5 parsecs' },
      }),
    InvalidMessageError,
    /keepalive/,
  ],
  [
    'createMessage: persisted false on data',
    () => createMessage({ id: 1, type: 'Insert', timeTick: 1, persisted: false }),
    InvalidMessageError,
    /persisted/,
  ],
  [
    'createMessage: non-string property',
    () =>
      createMessage({
        id: 1,
        type: 'Insert',
        timeTick: 1,
        properties: { a: 1 as unknown as string },
      }),
    InvalidMessageError,
    /properties\.a/,
  ],
  [
    'createMessage: negative size',
    () => createMessage({ id: 1, type: 'Insert', timeTick: 1, size: -3 }),
    InvalidMessageError,
    /size/,
  ],
  ['messageId: negative', () => messageId(-1), InvalidMessageError, /id/],
  ['tso.compose: logical overflow', () => tso.compose(1, 1 << 18), ConfigError, /logical/],
  ['tso.addDuration: Infinity', () => tso.addDuration(1n, Infinity), ConfigError, /duration/],
  ['tso.addDuration: 5 parsecs', () => tso.addDuration(1n, '5 parsecs'), ConfigError, /duration/],
  // policies and filters
  [
    'DeliverPolicy.startFrom: not an id',
    () => DeliverPolicy.startFrom(bogusId),
    ConfigError,
    /startFrom/,
  ],
  [
    'DeliverPolicy.startAfter: not an id',
    () => DeliverPolicy.startAfter(undefined as unknown as MessageId),
    ConfigError,
    /startAfter/,
  ],
  [
    'DeliverFilter.timeTickGT: negative',
    () => DeliverFilter.timeTickGT(-1n),
    ConfigError,
    /timeTickGT/,
  ],
  [
    'DeliverFilter.timeTickGTE: fractional',
    () => DeliverFilter.timeTickGTE(1.5 as unknown as bigint),
    ConfigError,
    /timeTickGTE/,
  ],
  [
    'DeliverFilter.messageType: a system type',
    () => DeliverFilter.messageType('CommitTxn'),
    ConfigError,
    /messageType/,
  ],
  [
    'DeliverFilter.messageType: no type',
    () => DeliverFilter.messageType(),
    ConfigError,
    /messageType/,
  ],
  // operator options
  [
    'filterMessages: unknown filter',
    () => filterMessages([{ kind: 'vchannel' } as unknown as DeliverFilter]),
    ConfigError,
    /filters\[0\]/,
  ],
  [
    'filterVChannel: not a string',
    () => filterVChannel(3 as unknown as string),
    ConfigError,
    /vchannel/,
  ],
  [
    'reorderUntilTick: logger without methods',
    () => reorderUntilTick({ logger: notALogger }),
    ConfigError,
    /logger/,
  ],
  [
    'txnBuffer: metrics not an object',
    () => txnBuffer({ metrics: notMetrics }),
    ConfigError,
    /metrics/,
  ],
  [
    'pauseGate: bad mode',
    () => pauseGate(of(false), { mode: 'eventually' as 'live' }),
    ConfigError,
    /mode/,
  ],
  [
    'pauseGate: pause$ not an Observable',
    () => pauseGate({} as Observable<boolean>),
    ConfigError,
    /pause\$/,
  ],
  [
    'pauseGate: scheduler without now()',
    () => pauseGate(of(false), { scheduler: notAScheduler }),
    ConfigError,
    /scheduler/,
  ],
  ['switchableSource: not a WAL', () => switchableSource({} as never), ConfigError, /wal/],
  [
    'switchableSource: backoff multiplier < 1',
    () => switchableSource(wal, { backoff: { multiplier: 0.5 } }),
    ConfigError,
    /backoff\.multiplier/,
  ],
  [
    'switchableSource: backoff max below initial',
    () => switchableSource(wal, { backoff: { initial: '2s', max: '1s' } }),
    ConfigError,
    /backoff\.max/,
  ],
  // scanWal options
  ['scanWal: pendingLimit 0', () => scanWal(wal, { pendingLimit: 0 }), ConfigError, /pendingLimit/],
  [
    'scanWal: readBatchSize fractional',
    () => scanWal(wal, { readBatchSize: 1.5 }),
    ConfigError,
    /readBatchSize/,
  ],
  [
    'scanWal: bad deliverPolicy',
    () => scanWal(wal, { deliverPolicy: { kind: 'first' } as unknown as DeliverPolicy }),
    ConfigError,
    /deliverPolicy/,
  ],
  [
    'scanWal: backoff initial 5 parsecs',
    () => scanWal(wal, { backoff: { initial: '5 parsecs' } }),
    ConfigError,
    /backoff\.initial/,
  ],
  [
    'scanWal: pauseMode unknown',
    () => scanWal(wal, { pause$: new BehaviorSubject(false), pauseMode: 'x' as 'live' }),
    ConfigError,
    /mode/,
  ],
  [
    'scanWal: ignorePause not boolean',
    () => scanWal(wal, { ignorePause: 'yes' as unknown as boolean }),
    ConfigError,
    /ignore/,
  ],
  [
    'scanWal: name not a string',
    () => scanWal(wal, { name: 7 as unknown as string }),
    ConfigError,
    /name/,
  ],
  // WAL options
  [
    'createMemoryWal: negative capacity',
    () => createMemoryWal({ writeAheadBuffer: { capacity: -1 } }),
    ConfigError,
    /writeAheadBuffer\.capacity/,
  ],
  [
    'createMemoryWal: capacity lots',
    () => createMemoryWal({ writeAheadBuffer: { capacity: 'lots' } }),
    ConfigError,
    /writeAheadBuffer\.capacity/,
  ],
  [
    'createMemoryWal: capacity 64 parsecs (issue 9 item 12: was read as 64 bytes)',
    () => createMemoryWal({ writeAheadBuffer: { capacity: '64 parsecs' } }),
    ConfigError,
    /writeAheadBuffer\.capacity.*"64 parsecs"/,
  ],
  [
    'createMemoryWal: keepalive 5 parsecs',
    () => createMemoryWal({ writeAheadBuffer: { keepalive: '5 parsecs' } }),
    ConfigError,
    /writeAheadBuffer\.keepalive/,
  ],
  [
    'createMemoryWal: timeTickInterval 5 parsecs',
    () => createMemoryWal({ timeTickInterval: '5 parsecs' }),
    ConfigError,
    /timeTickInterval/,
  ],
  [
    'createMemoryWal: timeTickInterval 0',
    () => createMemoryWal({ timeTickInterval: 0 }),
    ConfigError,
    /timeTickInterval/,
  ],
  [
    'createMemoryWal: empty channel',
    () => createMemoryWal({ channel: '' }),
    ConfigError,
    /channel/,
  ],
  [
    'createMemoryWal: logger without methods',
    () => createMemoryWal({ logger: notALogger }),
    ConfigError,
    /logger/,
  ],
  [
    'wal.read: bad policy',
    () => wal.read({ kind: 'soon' } as unknown as DeliverPolicy),
    ConfigError,
    /policy/,
  ],
];

describe('bad input is rejected with a WalError naming what was wrong', () => {
  test.each(rows)('%s', (_entry, call, errorClass, names) => {
    let thrown: unknown;
    try {
      call();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(errorClass);
    expect(thrown).toBeInstanceOf(WalError);
    expect((thrown as Error).message).toMatch(names);
  });

  test.each([
    ['wal.append: no type', (w: typeof wal) => w.append({ type: '' }), InvalidMessageError, /type/],
    [
      'wal.append: a system type',
      (w: typeof wal) => w.append({ type: 'CommitTxn' }),
      InvalidMessageError,
      /system type/,
    ],
    [
      'wal.append: non-string property',
      (w: typeof wal) => w.append({ type: 'Insert', properties: { n: 1 as unknown as string } }),
      InvalidMessageError,
      /properties\.n/,
    ],
    [
      'wal.beginTxn: keepalive 5 parsecs',
      (w: typeof wal) => w.beginTxn({ vchannel: 'v1', keepalive: '5 parsecs' }),
      InvalidMessageError,
      /keepalive/,
    ],
    [
      'wal.beginTxn: vchannel not a string',
      (w: typeof wal) => w.beginTxn({ vchannel: 1 as unknown as string }),
      InvalidMessageError,
      /vchannel/,
    ],
  ] as const)('%s (rejects)', async (_entry, call, errorClass, names) => {
    const writer = createMemoryWal({ channel: 'writer-input' });
    await expect(call(writer)).rejects.toThrow(errorClass);
    await expect(call(writer)).rejects.toThrow(names);
    await writer.close();
  });
});

describe('nothing already accepted is lost when a later input is rejected', () => {
  test('a rejected append leaves the writer, its log and a scanner working', async () => {
    const writer = createMemoryWal({ channel: 'keep', timeTickInterval: '5ms' });
    const metrics = createInMemoryMetrics();
    const seen: WalMessage[] = [];
    const sub = scanWal(writer, { metrics }).subscribe((m) => seen.push(m));
    const accepted = await writer.append({ type: 'Insert', payload: 'kept' });
    const results = await Promise.allSettled([
      writer.append({ type: 'Insert', payload: 'also kept' }),
      writer.append({ type: 'TimeTick' }),
      writer.append({ type: 'Insert', payload: 'kept too' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await writer.syncTimeTick();
    await until(() => seen.filter((m) => m.type === 'Insert').length >= 3);
    expect(seen.filter((m) => m.type === 'Insert').map((m) => m.payload)).toEqual([
      'kept',
      'also kept',
      'kept too',
    ]);
    expect(seen.find((m) => m.id.key === accepted.id.key)).toBeDefined();
    sub.unsubscribe();
    await writer.close();
  });

  test('a rejected raw record leaves the records before it readable', async () => {
    const raw = createMemoryWal({ channel: 'raw' });
    const kept = [
      raw.appendRaw({ type: 'TimeTick', timeTick: 1n }),
      raw.appendRaw({ type: 'Insert', timeTick: 2n }),
    ];
    expect(() => raw.appendRaw({ type: 'Insert', timeTick: 3n, lastConfirmedId: 99 })).toThrow(
      ConfigError,
    );
    expect(() => raw.appendRaw({ type: '', timeTick: 3n })).toThrow(InvalidMessageError);
    expect(await raw.read(DeliverPolicy.all()).next()).toEqual(kept);
    await raw.close();
  });

  test('a rejected txn append leaves the transaction usable', async () => {
    const writer = createMemoryWal({ channel: 'txn' });
    const txn = await writer.beginTxn({ vchannel: 'v1' });
    const body = await txn.append({ type: 'Insert' });
    await expect(txn.append({ type: 'BeginTxn' })).rejects.toThrow(InvalidMessageError);
    const commit = await txn.commit();
    expect(commit.txn?.txnId).toBe(body.txn?.txnId);
    await writer.close();
  });
});
