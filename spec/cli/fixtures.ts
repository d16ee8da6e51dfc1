import { tso } from '../../lib/message/tso.js';
import { createMemoryWal, type MemoryWal } from '../../lib/wal/memoryWal.js';

/** 2025-01-01T12:00:00.000Z, the physical time of every tick of the sample log. */
export const T0_MS = Date.UTC(2025, 0, 1, 12);
export const T0_DATE = '2025-01-01T12:00:00.000Z';

/** Tick `logical` of that millisecond. */
export const t = (logical: number): bigint => tso.compose(T0_MS, logical);

/**
 * A hand-made log (no writer):
 * ```
 * #1 tt @t0 · #2 Insert v1 @t2 · #3 Insert v2 @t1 · #4 begin:7 v1 @t3 · #5 Insert:7 v1 @t4
 * #6 commit:7 v1 @t5 · #7 Delete v1 @t6 {reason=ttl} · #8 tt @t7 · #9 Insert v1 @t8 (no tick after it)
 * #10 begin:9 v2 @t9 (never committed)
 * ```
 */
export function sampleWal(): MemoryWal {
  const wal = createMemoryWal({ channel: 'p0' });
  const txn7 = { txnId: 7n, keepalive: '1h' };
  wal.appendRaw({ type: 'TimeTick', timeTick: t(0) });
  wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: t(2), payload: { pk: 1 } });
  wal.appendRaw({ type: 'Insert', vchannel: 'v2', timeTick: t(1), payload: 'x' });
  wal.appendRaw({ type: 'BeginTxn', vchannel: 'v1', timeTick: t(3), txn: txn7 });
  wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: t(4), txn: txn7, payload: { pk: 2 } });
  wal.appendRaw({ type: 'CommitTxn', vchannel: 'v1', timeTick: t(5), txn: txn7 });
  wal.appendRaw({
    type: 'Delete',
    vchannel: 'v1',
    timeTick: t(6),
    properties: { reason: 'ttl' },
    payload: { pk: 1 },
  });
  wal.appendRaw({ type: 'TimeTick', timeTick: t(7) });
  wal.appendRaw({ type: 'Insert', vchannel: 'v1', timeTick: t(8), payload: { pk: 3 } });
  wal.appendRaw({ type: 'BeginTxn', vchannel: 'v2', timeTick: t(9), txn: { txnId: 9n } });
  return wal;
}

/** The pretty lines of the sample log's messages, by id (the Txn under the commit's id, 6). */
export const PRETTY: Readonly<Record<number, string>> = {
  2: `${T0_DATE}  Insert v1 @${t(2)} #2  {"pk":1}`,
  3: `${T0_DATE}  Insert v2 @${t(1)} #3  "x"`,
  6: `${T0_DATE}  Txn:7 v1 @${t(5)} #6 (1 messages)\n    Insert:7 v1 @${t(5)} #5 lc=6  {"pk":2}`,
  7: `${T0_DATE}  Delete v1 @${t(6)} #7 {reason=ttl}  {"pk":1}`,
};
