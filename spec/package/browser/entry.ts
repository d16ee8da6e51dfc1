// Bundled by spec/package/browser.spec.ts for a browser: the operators and scanWal over a memory
// WAL, imported from the package root as an application would. Publishes what each delivered on
// `globalThis.rxwalResult` (or the failure on `globalThis.rxwalError`).
import { BehaviorSubject, firstValueFrom, from, lastValueFrom, filter, take, toArray } from 'rxjs';

import {
  createMemoryWal,
  createMessage,
  filterVChannel,
  isTxnMessage,
  pauseGate,
  reorderUntilTick,
  scanWal,
  txnBuffer,
  type WalMessage,
} from '../../../lib/index.js';

const describe = (m: WalMessage): string =>
  isTxnMessage(m)
    ? `Txn:${m.txn?.txnId ?? ''}[${m.body.map((b) => `${b.type}@${b.timeTick}`).join(',')}]@${m.timeTick}`
    : `${m.type}:${m.vchannel}@${m.timeTick}`;

async function operators(): Promise<string[]> {
  let id = 0;
  const m = (type: string, vchannel: string, timeTick: number, txnId?: number) =>
    createMessage({
      id: ++id,
      type,
      vchannel,
      timeTick,
      ...(txnId === undefined ? {} : { txn: { txnId, keepalive: Infinity } }),
    });
  const log = [
    m('Insert', 'v1', 102),
    m('Insert', 'v2', 101),
    m('Insert', 'v1', 101),
    m('TimeTick', '', 103),
    m('BeginTxn', 'v1', 104, 7),
    m('Insert', 'v1', 105, 7),
    m('CommitTxn', 'v1', 106, 7),
    m('TimeTick', '', 107),
  ];
  const pause$ = new BehaviorSubject(true);
  const delivered = lastValueFrom(
    from(log).pipe(
      filterVChannel('v1'),
      reorderUntilTick(),
      txnBuffer(),
      pauseGate(pause$),
      toArray(),
    ),
  );
  pause$.next(false);
  return (await delivered).map(describe);
}

async function scanner(): Promise<string[]> {
  const wal = createMemoryWal({ channel: 'browser' });
  await wal.append({ type: 'Insert', vchannel: 'v1', payload: 'a' });
  await wal.append({ type: 'Insert', vchannel: 'v2', payload: 'b' });
  const txn = await wal.beginTxn({ vchannel: 'v1' });
  await txn.append({ type: 'Delete', vchannel: 'v1', payload: 'c' });
  await txn.commit();
  await wal.syncTimeTick({ persisted: true });
  const pause$ = new BehaviorSubject(true);
  const scanned = firstValueFrom(
    scanWal(wal, { vchannel: 'v1', pause$ }).pipe(
      filter((x) => x.type !== 'TimeTick'),
      take(2),
      toArray(),
    ),
  );
  pause$.next(false);
  const messages = await scanned;
  await wal.close();
  return messages.map((x) =>
    isTxnMessage(x)
      ? `Txn[${x.body.map((b) => `${b.type}:${String(b.payload)}`).join(',')}]`
      : `${x.type}:${String(x.payload)}`,
  );
}

const target = globalThis as { rxwalResult?: unknown; rxwalError?: string };
Promise.all([operators(), scanner()]).then(
  ([ops, scan]) => {
    target.rxwalResult = { operators: ops, scanWal: scan };
  },
  (err: unknown) => {
    target.rxwalError =
      err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err);
  },
);
