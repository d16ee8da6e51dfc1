import { pipe } from 'rxjs';

import { generateW1, generateW3, mulberry32 } from '../../bench/workloads.js';
import { runLimit, warmth } from '../../bench/limit.js';
import { createMessage } from '../../lib/message/createMessage.js';
import { MessageType, type WalMessage } from '../../lib/message/message.js';
import { createInMemoryMetrics } from '../../lib/observability/metrics.js';
import { filterVChannel } from '../../lib/operators/filterVChannel.js';
import { reorderUntilTick } from '../../lib/operators/reorderUntilTick.js';
import { txnBuffer } from '../../lib/operators/txnBuffer.js';
import { formatWalMessage } from '../../lib/testing/notation.js';
import { deliveredBy } from './support.js';

const operators = (vchannel: string, metrics = createInMemoryMetrics()) =>
  pipe(
    filterVChannel<WalMessage>(vchannel),
    reorderUntilTick<WalMessage>({ metrics }),
    txnBuffer<WalMessage>({ metrics }),
  );

function limitOutput(messages: readonly WalMessage[], vchannel: string): string[] {
  const out: WalMessage[] = [];
  const delivered = runLimit(messages, vchannel, out);
  expect(delivered).toBe(out.length);
  return out.map(formatWalMessage);
}

/**
 * A W1-shaped log with the faults W1 never has: replayed (duplicate) messages, messages below an
 * already released tick, time ticks that go backwards or repeat, equal ticks, commits and bodies
 * without a begin, repeated begins, and transactions that never expire.
 */
function withFaults(messages: readonly WalMessage[], seed: number): WalMessage[] {
  const random = mulberry32(seed);
  const out: WalMessage[] = [];
  let nextId = messages.length + 1;
  let lastTick: WalMessage | undefined;
  let previousTick: WalMessage | undefined;
  const recent: WalMessage[] = [];
  for (const m of messages) {
    out.push(m);
    if (m.type === MessageType.TimeTick) {
      previousTick = lastTick;
      lastTick = m;
      if (random() < 0.1 && previousTick !== undefined) out.push(previousTick); // a tick going back
      if (random() < 0.05) out.push(m); // the same tick again
      continue;
    }
    recent.push(m);
    if (recent.length > 200) recent.shift();
    const roll = random();
    if (roll < 0.03) {
      out.push(recent[Math.floor(random() * recent.length)] as WalMessage); // a replay: same id
    } else if (roll < 0.05 && lastTick !== undefined) {
      // below (or at) the last released tick: a violation, or accepted when equal
      const tick = random() < 0.5 ? lastTick.timeTick : lastTick.timeTick - 1n;
      out.push(
        createMessage({
          id: nextId++,
          type: 'Insert',
          timeTick: tick,
          vchannel: m.vchannel,
          size: 10,
        }),
      );
    } else if (roll < 0.07) {
      out.push(
        createMessage({
          id: nextId++,
          type: 'Insert',
          timeTick: m.timeTick,
          vchannel: m.vchannel,
          size: 10,
        }),
      ); // equal ticks
    } else if (roll < 0.08) {
      const txnId = BigInt(1_000_000 + nextId);
      out.push(
        createMessage({
          id: nextId++,
          type: MessageType.CommitTxn,
          timeTick: m.timeTick,
          vchannel: m.vchannel,
          txn: { txnId },
        }),
      );
      out.push(
        createMessage({
          id: nextId++,
          type: 'Insert',
          timeTick: m.timeTick,
          vchannel: m.vchannel,
          txn: { txnId },
        }),
      );
    } else if (roll < 0.09 && m.type === MessageType.BeginTxn) {
      out.push(
        createMessage({
          id: nextId++,
          type: MessageType.BeginTxn,
          timeTick: m.timeTick,
          vchannel: m.vchannel,
          txn: { txnId: (m.txn as { txnId: bigint }).txnId, keepalive: 1 },
        }),
      );
    } else if (roll < 0.1) {
      const txnId = BigInt(2_000_000 + nextId);
      const tt = m.timeTick;
      out.push(
        createMessage({
          id: nextId++,
          type: MessageType.BeginTxn,
          timeTick: tt,
          vchannel: m.vchannel,
          txn: { txnId, keepalive: Infinity },
        }),
      );
      out.push(
        createMessage({
          id: nextId++,
          type: 'Insert',
          timeTick: tt + 1n,
          vchannel: m.vchannel,
          txn: { txnId, keepalive: Infinity },
        }),
      );
      if (random() < 0.5) {
        out.push(
          createMessage({
            id: nextId++,
            type: MessageType.CommitTxn,
            timeTick: tt + 2n,
            vchannel: m.vchannel,
            txn: { txnId, keepalive: Infinity },
          }),
        );
      }
    }
  }
  return out;
}

describe('the limit (bench/limit.ts) delivers what filterVChannel → reorderUntilTick → txnBuffer delivers', () => {
  it.each([1, 2, 3, 4])('on a W1-shaped log of 5,000 messages read by v1 (seed %i)', (seed) => {
    const log = generateW1({ messages: 5000, seed });
    const metrics = createInMemoryMetrics();
    const expected = deliveredBy(log, operators('v1', metrics));
    expect(limitOutput(log, 'v1')).toEqual(expected);
    // the log exercises what it should: committed, rolled back and expired transactions
    const { txn } = metrics.snapshot();
    expect(txn.committed).toBeGreaterThan(0);
    expect(txn.rolledBack + txn.expired).toBeGreaterThan(0);
  });

  it.each([5, 6])('on a W2-shaped log (every vchannel) of 5,000 messages (seed %i)', (seed) => {
    const log = generateW1({ messages: 5000, seed });
    expect(limitOutput(log, '')).toEqual(deliveredBy(log, operators('')));
  });

  it('on a W3-shaped log: 500 open transactions, then time ticks every 100 messages', () => {
    const { messages } = generateW3({ openTxns: 500, windows: 30, seed: 7 });
    const lastTick = messages[messages.length - 1] as WalMessage;
    // commit a few of them at the end, so Txn messages carry bodies
    const commits = [0, 1, 2].map((i) => {
      const begin = messages[1 + i] as WalMessage;
      return createMessage({
        id: messages.length + 1 + i,
        type: MessageType.CommitTxn,
        timeTick: lastTick.timeTick + 1n + BigInt(i),
        vchannel: begin.vchannel,
        txn: { txnId: (begin.txn as { txnId: bigint }).txnId },
      });
    });
    const log = [
      ...messages,
      ...commits,
      createMessage({
        id: messages.length + 10,
        type: MessageType.TimeTick,
        timeTick: lastTick.timeTick + 100n,
      }),
    ];
    for (const vchannel of ['v1', '']) {
      expect(limitOutput(log, vchannel)).toEqual(deliveredBy(log, operators(vchannel)));
    }
  });

  it.each([11, 12, 13])(
    'on a log with duplicates, violations, backward and equal ticks (seed %i)',
    (seed) => {
      const log = withFaults(
        generateW1({
          messages: 3000,
          seed,
          abandonRate: 0.2,
          rollbackRate: 0.1,
          abandonedKeepaliveMs: 300,
        }),
        seed,
      );
      const metrics = createInMemoryMetrics();
      for (const vchannel of ['v2', '']) {
        expect(limitOutput(log, vchannel)).toEqual(deliveredBy(log, operators(vchannel, metrics)));
      }
      const { timeTickViolations, txn } = metrics.snapshot();
      expect(timeTickViolations).toBeGreaterThan(0);
      expect(txn.expired).toBeGreaterThan(0);
    },
  );

  it('on a log without a closing time tick, drops what no tick released', () => {
    const log = generateW1({ messages: 1050, seed: 9 }).slice(0, 1040);
    expect(limitOutput(log, 'v1')).toEqual(deliveredBy(log, operators('v1')));
  });
});

describe('the warmed limit (a reference: runLimit with warmEvery)', () => {
  it.each([1, 7, 1024])('delivers what the limit delivers, warming every %i messages', (every) => {
    const log = withFaults(generateW1({ messages: 3000, seed: 21, abandonRate: 0.2 }), 21);
    for (const vchannel of ['v1', '']) {
      const plain: WalMessage[] = [];
      const warmed: WalMessage[] = [];
      runLimit(log, vchannel, plain);
      const before = warmth;
      expect(runLimit(log, vchannel, warmed, every)).toBe(plain.length);
      expect(warmed.map(formatWalMessage)).toEqual(plain.map(formatWalMessage));
      expect(warmth).toBeGreaterThan(before); // it did read the kept messages
    }
  });
});
