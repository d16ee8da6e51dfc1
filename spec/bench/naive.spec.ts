import { pipe } from 'rxjs';

import { naiveScan } from '../../bench/naive.js';
import { tunedRxjsScan } from '../../bench/tunedRxjs.js';
import { generateW1 } from '../../bench/workloads.js';
import type { WalMessage } from '../../lib/message/message.js';
import { filterVChannel } from '../../lib/operators/filterVChannel.js';
import { reorderUntilTick } from '../../lib/operators/reorderUntilTick.js';
import { txnBuffer } from '../../lib/operators/txnBuffer.js';
import { deliveredBy } from './support.js';

const operators = (vchannel: string) =>
  pipe(
    filterVChannel<WalMessage>(vchannel),
    reorderUntilTick<WalMessage>(),
    txnBuffer<WalMessage>(),
  );

describe('naive RxJS (bench/naive.ts) and tuned RxJS (bench/tunedRxjs.ts) deliver what the operators deliver', () => {
  it.each([
    [1, 'v1'],
    [2, 'v3'],
    [3, ''],
  ])('on a W1-shaped log of 5,000 messages (seed %i, vchannel %j)', (seed, vchannel) => {
    const log = generateW1({ messages: 5000, seed });
    expect(deliveredBy(log, naiveScan(vchannel))).toEqual(deliveredBy(log, operators(vchannel)));
  });

  it.each([
    [1, 'v1'],
    [2, ''],
  ])('tuned RxJS too (seed %i, vchannel %j)', (seed, vchannel) => {
    const log = generateW1({ messages: 5000, seed });
    expect(deliveredBy(log, tunedRxjsScan(vchannel))).toEqual(
      deliveredBy(log, operators(vchannel)),
    );
  });

  it('keeps its transactions per subscription', () => {
    const log = generateW1({ messages: 2000, seed: 4 });
    const naive$ = naiveScan('v1');
    expect(deliveredBy(log, naive$)).toEqual(deliveredBy(log, naive$));
  });
});
