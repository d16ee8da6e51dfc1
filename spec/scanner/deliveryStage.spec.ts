import { createWalTestScheduler, walMessages } from '../../lib/testing/index.js';
import { deliveryStage } from '../../lib/scanner/deliveryStage.js';

describe('deliveryStage (reference § 4.3 step 4.6)', () => {
  const m = walMessages({
    a: 'ins v1 @103',
    p: 'tt @104',
    n: 'tt @105 np',
    q: 'tt @106 np',
  });

  test('a persisted time tick always passes, after the messages it released', () => {
    createWalTestScheduler((a, e) => expect(a).toEqual(e)).run(({ cold, expectObservable }) => {
      expectObservable(cold('a-p|', m).pipe(deliveryStage(() => 0))).toBe('a-p|', m);
    });
  });

  test('a not-persisted time tick that released messages is dropped', () => {
    createWalTestScheduler((a, e) => expect(a).toEqual(e)).run(({ cold, expectObservable }) => {
      expectObservable(cold('a-n-q|', m).pipe(deliveryStage(() => 0))).toBe('a---q|', m);
    });
  });

  test('a not-persisted time tick passes only while nothing waits for the consumer', () => {
    const run = (waiting: number, expected: string): void =>
      createWalTestScheduler((a, e) => expect(a).toEqual(e)).run(({ cold, expectObservable }) => {
        expectObservable(cold('n|', m).pipe(deliveryStage(() => waiting))).toBe(expected, m);
      });
    run(3, '-|');
    run(0, 'n|');
  });

  test('a persisted time tick passes even while messages wait', () => {
    createWalTestScheduler((a, e) => expect(a).toEqual(e)).run(({ cold, expectObservable }) => {
      expectObservable(cold('a-p|', m).pipe(deliveryStage(() => 5))).toBe('a-p|', m);
    });
  });
});
