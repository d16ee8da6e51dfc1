import { createInMemoryMetrics } from '../../lib/observability/metrics.js';
import { filterVChannel } from '../../lib/operators/filterVChannel.js';
import { reorderUntilTick } from '../../lib/operators/reorderUntilTick.js';
import { txnBuffer } from '../../lib/operators/txnBuffer.js';
import { walMessages } from '../../lib/testing/notation.js';
import { createWalTestScheduler } from '../../lib/testing/scheduler.js';

/**
 * The consume path of reference § 4.3 as operators: filterVChannel → reorderUntilTick → txnBuffer.
 * The pending queue and the not-persisted time-tick rule (step 4.6) belong to the delivery stage,
 * which is not part of this pipeline.
 */
describe('consume path: filterVChannel → reorderUntilTick → txnBuffer', () => {
  it('reference § 4.7 worked trace: TT100, #2, TT104, #8, Txn#7 (body #5 at 106), then TT107', () => {
    const metrics = createInMemoryMetrics();
    const scheduler = createWalTestScheduler((actual, expected) =>
      expect(actual).toEqual(expected),
    );
    scheduler.run(({ cold, expectObservable }) => {
      const m = walMessages({
        a: 'tt @100 #1',
        b: 'ins v1 @103 #2',
        c: 'ins v2 @102 #3', // other vchannel: dropped by the filter
        d: 'begin:7 v1 @101 #4 keepalive=10s',
        e: 'ins:7 v1 @104 #5 lc=4 keepalive=10s',
        f: 'tt @104 #6',
        g: 'commit:7 v1 @106 #7 lc=4 keepalive=10s',
        h: 'ins v1 @105 #8',
        i: 'ins v1 @99 #9', // 99 < 104: a time-tick violation, dropped
        // (*) in the reference a not-persisted tick reuses its last-confirmed id; its id is irrelevant here
        j: 'tt @107 #10 np',
      });
      const source = cold('abcdefghij----|', m);
      const result = source.pipe(
        filterVChannel('v1', { metrics }),
        reorderUntilTick({ metrics }),
        txnBuffer({ metrics }),
      );
      // Step f releases Begin(101), #2(103) and #5(104): the txn buffer opens txn 7, emits #2 and keeps #5.
      // Step j releases #8(105) and Commit(106): #8, then the Txn at the commit's position.
      // In the reference, TT107 is then dropped because it is not persisted and the pending queue is not
      // empty (step 4.3.4.6). That rule is the delivery stage's job, not these operators': here TT107
      // is emitted after Txn#7, and the delivery stage decides whether the consumer sees it.
      const expected = '   a----(bf)(hXj)|';
      expectObservable(result).toBe(expected, {
        a: 'TimeTick @100 #1',
        b: 'Insert v1 @103 #2',
        f: 'TimeTick @104 #6',
        h: 'Insert v1 @105 #8',
        X: 'Txn:7 v1 @106 #7 lc=4 [Insert:7 v1 @106 #5 lc=4]',
        j: 'TimeTick @107 #10 np',
      });
    });
    const snapshot = metrics.snapshot();
    expect(snapshot.messages).toEqual({ TimeTick: 3, Insert: 5, BeginTxn: 1, CommitTxn: 1 });
    // step 8 of § 4.3: passed even when the reorder push then fails (#9)
    expect(snapshot.passedMessages).toEqual({ Insert: 4, BeginTxn: 1, CommitTxn: 1 });
    expect(snapshot.timeTickViolations).toBe(1);
    expect(snapshot.txn).toEqual({
      autocommit: 2,
      committed: 1,
      rolledBack: 0,
      expired: 0,
      error: 0,
    });
    expect(snapshot.bytes).toEqual({ pendingQueue: 0, reorderBuffer: 0, txnBuffer: 0 });
  });

  it('reference § 4.7 intermediate state: after step f only TT100, #2 and TT104 have gone downstream', () => {
    const metrics = createInMemoryMetrics();
    const scheduler = createWalTestScheduler((actual, expected) =>
      expect(actual).toEqual(expected),
    );
    const samples: { reorder: number; txn: number }[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const m = walMessages({
        a: 'tt @100 #1',
        b: 'ins v1 @103 #2 size=2',
        c: 'ins v2 @102 #3 size=100',
        d: 'begin:7 v1 @101 #4 keepalive=10s size=3',
        e: 'ins:7 v1 @104 #5 lc=4 keepalive=10s size=5',
        f: 'tt @104 #6',
        g: 'commit:7 v1 @106 #7 lc=4 keepalive=10s size=1',
      });
      const source = cold('a-b-c-d-e-f-g-|', m);
      const result = source.pipe(
        filterVChannel('v1', { metrics }),
        reorderUntilTick({ metrics }),
        txnBuffer({ metrics }),
      );
      // the commit (106) waits in the reorder buffer: no time tick ≥ 106 has arrived
      expectObservable(result).toBe('a---------(bf)|', {
        a: 'TimeTick @100 #1',
        b: 'Insert v1 @103 #2',
        f: 'TimeTick @104 #6',
      });
      const sample = (): number =>
        samples.push({
          reorder: metrics.snapshot().bytes.reorderBuffer,
          txn: metrics.snapshot().bytes.txnBuffer,
        });
      // after e (frame 8): #2, Begin, #5 wait; the v2 message never entered. After f: Begin + #5 in the
      // txn buffer. After g: the commit waits in the reorder buffer.
      for (const frame of [9, 11, 13]) scheduler.schedule(sample, frame);
    });
    expect(samples).toEqual([
      { reorder: 10, txn: 0 },
      { reorder: 0, txn: 8 },
      { reorder: 1, txn: 8 },
    ]);
    expect(metrics.snapshot().bytes).toEqual({ pendingQueue: 0, reorderBuffer: 0, txnBuffer: 0 });
  });
});
