/**
 * The workload of reference § 8.9, shared by the memory and SQLite integration specs: several
 * writers' worth of plain inserts and transactions (committed, rolled back, abandoned) across
 * vchannels, readers that stall long enough to force write-ahead-buffer evictions, and the check
 * that each receives exactly the expected messages, once, with strictly increasing ticks.
 */
import { isTxnMessage, type WalMessage } from '../../lib/message/message.js';
import type { ScanObservable } from '../../lib/scanner/scanWal.js';
import type { Wal } from '../../lib/wal/wal.js';
import { between } from './random.js';
import type { VirtualClock } from '../../lib/testing/index.js';

/** What a v1 consumer must see: a plain insert, or a committed transaction. */
export interface Expected {
  readonly timeTick: bigint;
  readonly text: string;
}

export interface Workload {
  readonly expected: Expected[]; // v1 only, in write order
  readonly written: WalMessage[]; // every message the writer acknowledged
  readonly finalTick: bigint;
}

export const describeInsert = (m: WalMessage): string => `Insert#${m.id.key}@${m.timeTick}`;
export const describeTxn = (commit: WalMessage, bodies: readonly WalMessage[]): string =>
  `Txn#${commit.id.key}@${commit.timeTick}[${bodies.map((b) => b.id.key).join(',')}]`;

export function describeDelivered(m: WalMessage): string {
  if (isTxnMessage(m)) return describeTxn(m, m.body);
  return describeInsert(m);
}

export async function writeWorkload(
  wal: Wal,
  clock: VirtualClock,
  random: () => number,
  rounds: number,
  payload: (round: number) => unknown = (round) => round,
): Promise<Workload> {
  const expected: Expected[] = [];
  const written: WalMessage[] = [];
  const vchannels = ['v1', 'v2', 'v3'];
  const pick = (): string => vchannels[between(random, 0, 2)] as string;
  const note = (m: WalMessage, vchannel: string): void => {
    written.push(m);
    if (vchannel === 'v1') expected.push({ timeTick: m.timeTick, text: describeInsert(m) });
  };
  for (let round = 0; round < rounds; round++) {
    if (random() < 0.5) {
      // concurrent inserts: they may reach the log out of tick order
      const targets = Array.from({ length: between(random, 1, 4) }, pick);
      const messages = await Promise.all(
        targets.map((vchannel) =>
          wal.append({ type: 'Insert', vchannel, payload: payload(round) }),
        ),
      );
      messages.forEach((m, i) => note(m, targets[i] as string));
    } else {
      const vchannel = pick();
      const txn = await wal.beginTxn({ vchannel, keepalive: '10s' });
      written.push(txn.begin);
      const bodies = await Promise.all(
        Array.from({ length: between(random, 0, 4) }, () =>
          txn.append({ type: 'Insert', payload: payload(round) }),
        ),
      );
      written.push(...bodies);
      const commit = await txn.commit();
      written.push(commit);
      if (vchannel === 'v1')
        expected.push({ timeTick: commit.timeTick, text: describeTxn(commit, bodies) });
    }
    if (random() < 1 / 3) {
      // a transaction that never commits: rolled back, or abandoned until its keepalive passes
      const doomed = await wal.beginTxn({ vchannel: pick(), keepalive: '300ms' });
      written.push(doomed.begin);
      written.push(await doomed.append({ type: 'Insert' }));
      if (random() < 0.5) written.push(await doomed.rollback());
    }
    await clock.advance(between(random, 0, 12));
  }
  const last = await wal.syncTimeTick({ persisted: true });
  expected.sort((a, b) => (a.timeTick < b.timeTick ? -1 : a.timeTick > b.timeTick ? 1 : 0));
  return { expected, written, finalTick: last.timeTick };
}

/** Reads until a time tick at or past `until()`; stalls now and then to force evictions. */
export async function readAll(
  scan: ScanObservable,
  clock: VirtualClock,
  random: () => number,
  until: () => bigint | undefined,
  stalls: boolean,
): Promise<WalMessage[]> {
  const got: WalMessage[] = [];
  for await (const m of scan) {
    if (m.type === 'TimeTick') {
      const end = until();
      if (end !== undefined && m.timeTick >= end) break;
      continue;
    }
    got.push(m);
    if (stalls && random() < 0.03) {
      await new Promise<void>((resolve) =>
        clock.scheduler.schedule(() => resolve(), between(random, 100, 600)),
      );
    }
  }
  return got;
}

export function checkDelivery(got: WalMessage[], expected: readonly Expected[]): void {
  expect(got.map(describeDelivered)).toEqual(expected.map((e) => e.text));
  for (let i = 1; i < got.length; i++) {
    expect((got[i] as WalMessage).timeTick).toBeGreaterThan((got[i - 1] as WalMessage).timeTick);
  }
}
