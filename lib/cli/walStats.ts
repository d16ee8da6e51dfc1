import { MessageType } from '../message/message.js';
import type { MessageId } from '../message/messageId.js';
import type { TimeTick } from '../message/tso.js';
import { DeliverPolicy } from '../options/deliverPolicy.js';
import type { ReadableWal } from '../wal/wal.js';
import { lastRecordId } from './logEnd.js';

/** What `rxwal stats` reports (the SQLite backend's `stats()` gives it; any WAL can be read for it). */
export interface WalStats {
  readonly channel: string;
  /** Records in the log. */
  readonly messages: number;
  readonly firstId: MessageId | undefined;
  readonly lastId: MessageId | undefined;
  readonly byType: Readonly<Record<string, number>>;
  /** `''`: time ticks and broadcasts. */
  readonly byVChannel: Readonly<Record<string, number>>;
  readonly timeTicks: { readonly min: TimeTick; readonly max: TimeTick } | undefined;
  /** Transactions begun with neither a commit nor a rollback in the log, in begin order. */
  readonly openTransactions: readonly {
    readonly txnId: bigint;
    readonly vchannel: string;
    readonly beginId: MessageId;
    /** Records of the transaction, begin included. */
    readonly messages: number;
  }[];
  /** Bytes on disk, for a file-backed log. */
  readonly fileBytes?: number;
  /** The payload codec's name, for a log that encodes payloads. */
  readonly payloadCodec?: string;
}

/**
 * Counts a log by reading every record present now through `wal.read(all())`: for WALs without
 * a stats helper of their own (the SQLite WAL counts with SQL instead).
 */
export async function readWalStats(wal: ReadableWal): Promise<WalStats> {
  const end = lastRecordId(wal);
  const byType: Record<string, number> = {};
  const byVChannel: Record<string, number> = {};
  const transactions = new Map<
    bigint,
    {
      txnId: bigint;
      vchannel: string;
      beginId: MessageId | undefined;
      messages: number;
      ended: boolean;
    }
  >();
  let messages = 0;
  let firstId: MessageId | undefined;
  let lastId: MessageId | undefined;
  let min: TimeTick | undefined;
  let max: TimeTick | undefined;
  if (end !== undefined) {
    const reader = wal.read(DeliverPolicy.all());
    try {
      for (let done = false; !done;) {
        for (const m of await reader.next()) {
          messages++;
          firstId ??= m.id;
          lastId = m.id;
          byType[m.type] = (byType[m.type] ?? 0) + 1;
          byVChannel[m.vchannel] = (byVChannel[m.vchannel] ?? 0) + 1;
          if (min === undefined || m.timeTick < min) min = m.timeTick;
          if (max === undefined || m.timeTick > max) max = m.timeTick;
          if (m.txn !== undefined) {
            const txn = transactions.get(m.txn.txnId) ?? {
              txnId: m.txn.txnId,
              vchannel: m.vchannel,
              beginId: undefined,
              messages: 0,
              ended: false,
            };
            txn.messages++;
            if (m.type === MessageType.BeginTxn) txn.beginId ??= m.id;
            if (m.type === MessageType.CommitTxn || m.type === MessageType.RollbackTxn) {
              txn.ended = true;
            }
            transactions.set(txn.txnId, txn);
          }
          if (m.id.compare(end) >= 0) done = true;
        }
      }
    } finally {
      reader.close();
    }
  }
  const openTransactions = [...transactions.values()]
    .filter((t) => !t.ended && t.beginId !== undefined)
    .map(({ txnId, vchannel, beginId, messages: count }) => ({
      txnId,
      vchannel,
      beginId: beginId as MessageId,
      messages: count,
    }))
    .sort((a, b) => a.beginId.compare(b.beginId));
  return {
    channel: wal.channel,
    messages,
    firstId,
    lastId,
    byType: sortedByKey(byType),
    byVChannel: sortedByKey(byVChannel),
    timeTicks: min === undefined || max === undefined ? undefined : { min, max },
    openTransactions,
  };
}

function sortedByKey(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(counts).sort()) out[key] = counts[key] as number;
  return out;
}
