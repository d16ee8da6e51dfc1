// README example
import { createWalTestScheduler, walMessages } from '../../lib/testing/index.js';
import { filterVChannel, reorderUntilTick, txnBuffer } from '../../lib/index.js';

it('delivers v1 in tick order, a transaction as one message at its commit', () => {
  const scheduler = createWalTestScheduler((actual, expected) => expect(actual).toEqual(expected));
  scheduler.run(({ cold, expectObservable }) => {
    const log = walMessages({
      a: 'ins v1 @102', // ids 1, 2, 3 … in key order
      b: 'ins v2 @101', // another vchannel: dropped
      c: 'ins v1 @101', // arrives after a, with a lower tick
      t: 'tt @103', // releases c and a, then itself
      B: 'begin:7 v1 @104',
      x: 'ins:7 v1 @105',
      C: 'commit:7 v1 @106',
      u: 'tt @107', // releases txn 7 as one Txn message
    });
    const scanned = cold('a-b-c-t-B-x-C-(u|)', log).pipe(
      filterVChannel('v1'),
      reorderUntilTick(),
      txnBuffer(),
    );
    expectObservable(scanned).toBe('------(cat)---(Xu|)', {
      ...log,
      X: 'Txn:7 v1 @106 #7 [Insert:7 v1 @106 #6 lc=7]', // the body, re-stamped with the commit's tick
    });
  });
});
