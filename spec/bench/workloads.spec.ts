import { describeLog, generateW1, generateW3, generateW4 } from '../../bench/workloads.js';
import { sequenceOf } from '../../lib/message/messageId.js';
import { MessageType, type WalMessage } from '../../lib/message/message.js';
import { formatWalMessage } from '../../lib/testing/notation.js';

describe('bench workloads', () => {
  it('W1 is deterministic for a seed and differs between seeds', () => {
    const a = generateW1({ messages: 2000, seed: 1 }).map(formatWalMessage);
    expect(generateW1({ messages: 2000, seed: 1 }).map(formatWalMessage)).toEqual(a);
    expect(generateW1({ messages: 2000, seed: 2 }).map(formatWalMessage)).not.toEqual(a);
  });

  it('W1: ids in log order, a time tick closing each window of 100, ticks shuffled within it, ~10 % txn messages', () => {
    const log = generateW1({ messages: 20_000, seed: 3 });
    expect(log).toHaveLength(20_000);
    const problems: string[] = []; // collected, so 20,000 checks cost one expect
    log.forEach((m, i) => {
      if (sequenceOf(m.id) !== BigInt(i + 1)) problems.push(`id of #${i}`);
    });
    let previousTick = 0n;
    let outOfOrder = 0;
    for (let w = 0; w < 200; w++) {
      const window = log.slice(w * 100, w * 100 + 100);
      const tick = window[99] as WalMessage;
      if (tick.type !== MessageType.TimeTick)
        problems.push(`window ${w} not closed by a time tick`);
      for (const m of window.slice(0, 99)) {
        if (m.type === MessageType.TimeTick) problems.push(`time tick inside window ${w}`);
        if (m.timeTick <= previousTick || m.timeTick > tick.timeTick)
          problems.push(`tick of ${m.id.key} outside window ${w}`);
        if ((sequenceOf(m.lastConfirmedId) as bigint) > BigInt(w * 100 + 1))
          problems.push(`last-confirmed id of ${m.id.key}`);
      }
      for (let i = 1; i < 99; i++)
        if ((window[i] as WalMessage).timeTick < (window[i - 1] as WalMessage).timeTick)
          outOfOrder++;
      previousTick = tick.timeTick;
    }
    expect(problems).toEqual([]);
    expect(outOfOrder).toBeGreaterThan(200 * 30);
    const { txnMessages } = describeLog(log);
    expect(txnMessages / log.length).toBeGreaterThan(0.07);
    expect(txnMessages / log.length).toBeLessThan(0.13);
    const types = new Set(log.map((m) => m.type));
    expect(types).toEqual(
      new Set(['Insert', 'Delete', 'Flush', 'BeginTxn', 'CommitTxn', 'RollbackTxn', 'TimeTick']),
    );
  });

  it('W3 opens its transactions before the measured windows', () => {
    const w3 = generateW3({ openTxns: 1000, windows: 5, seed: 1 });
    expect(w3.messages).toHaveLength(1000 + 2 + 5 * 100);
    expect(w3.messages.slice(1, 1001).every((m) => m.type === MessageType.BeginTxn)).toBe(true);
    expect((w3.messages[w3.setupLength - 1] as WalMessage).type).toBe(MessageType.TimeTick);
  });

  it('W4 holds every data message between two time ticks', () => {
    const w4 = generateW4(1000);
    expect(w4).toHaveLength(1002);
    const first = w4[0] as WalMessage;
    const last = w4[1001] as WalMessage;
    expect(
      w4.slice(1, 1001).every((m) => m.timeTick > first.timeTick && m.timeTick < last.timeTick),
    ).toBe(true);
  });
});
