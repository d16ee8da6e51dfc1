import { mergeMap, Observable, of, repeat, take } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';

import { ConfigError } from '../../lib/errors.js';
import type { WalMessage } from '../../lib/message/message.js';
import {
  createInMemoryMetrics,
  noopMetrics,
  type ScannerMetrics,
} from '../../lib/observability/metrics.js';
import { filterVChannel } from '../../lib/operators/filterVChannel.js';
import { parseWalMessage, walMessages } from '../../lib/testing/notation.js';
import { createWalTestScheduler } from '../../lib/testing/scheduler.js';

/** A log with two vchannels, an every-vchannel message and time ticks. */
const m = walMessages({
  t: 'tt @1 size=0',
  a: 'ins v1 @2 size=10',
  b: 'ins v2 @3 size=20',
  c: 'ins @4 size=30',
  d: 'del v1 @5 size=40',
  u: 'tt @6 size=0',
});

describe('filterVChannel', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createWalTestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  describe('the vchannel rule (reference § 1.5, § 4.3 step 5)', () => {
    it('drops a data message whose vchannel is non-empty and differs from the consumer vchannel', () => {
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('t-a-b-c-d-u|', m).pipe(filterVChannel('v1'))).toBe(
          't-a---c-d-u|',
          m,
        );
      });
    });

    it("keeps every message for a '' consumer (flusher, recovery scanner)", () => {
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('t-a-b-c-d-u|', m).pipe(filterVChannel(''))).toBe('t-a-b-c-d-u|', m);
      });
    });

    it("keeps '' (every-vchannel) messages for every consumer", () => {
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('a-b-c-d|', m).pipe(filterVChannel('v3'))).toBe('----c--|', m);
      });
    });

    it('always lets time ticks through, even one carrying another vchannel', () => {
      const ticks = walMessages({ x: 'tt v2 @7', y: 'tt @8', z: 'ins v2 @9' });
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('x-y-z|', ticks).pipe(filterVChannel('v1'))).toBe('x-y--|', ticks);
      });
    });

    it("drops another vchannel's transaction messages like any data message", () => {
      const txn = walMessages({
        b: 'begin:7 v2 @1',
        i: 'ins:7 v2 @1',
        c: 'commit:7 v2 @2',
        k: 'begin:8 v1 @3',
      });
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('bick|', txn).pipe(filterVChannel('v1'))).toBe('---k|', txn);
      });
    });
  });

  describe('metrics', () => {
    it('observes every message and counts as passed only the data messages that pass', () => {
      const observeMessage = jest.fn<void, Parameters<ScannerMetrics['observeMessage']>>();
      const observePassedMessage = jest.fn<
        void,
        Parameters<ScannerMetrics['observePassedMessage']>
      >();
      const metrics: ScannerMetrics = { ...noopMetrics, observeMessage, observePassedMessage };
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('tabcdu|', m).pipe(filterVChannel('v1', { metrics }))).toBe(
          'ta-cdu|',
          m,
        );
      });
      expect(observeMessage.mock.calls).toEqual([
        ['catchup', 'TimeTick', 0],
        ['catchup', 'Insert', 10],
        ['catchup', 'Insert', 20],
        ['catchup', 'Insert', 30],
        ['catchup', 'Delete', 40],
        ['catchup', 'TimeTick', 0],
      ]);
      expect(observePassedMessage.mock.calls).toEqual([
        ['catchup', 'Insert', 10],
        ['catchup', 'Insert', 30],
        ['catchup', 'Delete', 40],
      ]);
    });

    it('labels the events with the scanner model of the moment', () => {
      const metrics = {
        ...noopMetrics,
        observeMessage: jest.fn(),
        observePassedMessage: jest.fn(),
      };
      const models = ['catchup', 'tailing'] as const;
      let calls = 0;
      const scannerModel = (): 'catchup' | 'tailing' => models[calls++ % 2] ?? 'catchup';
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('ab|', m).pipe(filterVChannel('v1', { metrics, scannerModel }))).toBe(
          'a-|',
          m,
        );
      });
      expect(metrics.observeMessage.mock.calls).toEqual([
        ['catchup', 'Insert', 10],
        ['tailing', 'Insert', 20],
      ]);
      expect(metrics.observePassedMessage.mock.calls).toEqual([['catchup', 'Insert', 10]]);
    });

    it('counts by type in an in-memory sink', () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('tabcdu|', m).pipe(filterVChannel('v2', { metrics }))).toBe(
          't-bc-u|',
          m,
        );
      });
      const snapshot = metrics.snapshot();
      expect(snapshot.messages).toEqual({ TimeTick: 2, Insert: 3, Delete: 1 });
      expect(snapshot.passedMessages).toEqual({ Insert: 2 });
    });
  });

  describe('options', () => {
    it.each<unknown>([undefined, null, 1, ['v1']])(
      'rejects a vchannel that is not a string (%p) with ConfigError',
      (bad) => {
        expect(() => filterVChannel(bad as string)).toThrow(ConfigError);
        expect(() => filterVChannel(bad as string)).toThrow(
          expect.objectContaining({ option: 'vchannel', value: bad }),
        );
      },
    );

    it('rejects bad observability options with ConfigError', () => {
      expect(() => filterVChannel('v1', { metrics: 1 as unknown as ScannerMetrics })).toThrow(
        ConfigError,
      );
    });
  });

  describe('rxjs operator checklist', () => {
    it('completes with an empty source', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<WalMessage>('|');
        expectObservable(source.pipe(filterVChannel('v1'))).toBe('|');
        expectSubscriptions(source.subscriptions).toBe('(^!)');
      });
    });

    it('never emits with a never source', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<WalMessage>('-');
        expectObservable(source.pipe(filterVChannel('v1'))).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^');
      });
    });

    it('passes a source error through', () => {
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(
          cold('a-b-#', m, new Error('read failed')).pipe(filterVChannel('v1')),
        ).toBe('a---#', m, new Error('read failed'));
      });
    });

    it('should stop listening to a synchronous observable when unsubscribed', () => {
      const emitted: number[] = [];
      const seen: WalMessage[] = [];
      new Observable<WalMessage>((subscriber) => {
        for (let i = 1; !subscriber.closed && i <= 10; i++) {
          emitted.push(i);
          subscriber.next(parseWalMessage(`ins v1 @${i}`, i));
        }
      })
        .pipe(filterVChannel('v1'), take(3))
        .subscribe((x) => seen.push(x));
      expect(seen.map((x) => x.id.key)).toEqual(['1', '2', '3']);
      expect(emitted).toEqual([1, 2, 3]);
    });

    it('does not break unsubscription chains when unsubscribed explicitly', () => {
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('---a---b---c---|', m);
        const result = source.pipe(
          mergeMap((x) => of(x)),
          filterVChannel('v1'),
          mergeMap((x) => of(x)),
        );
        expectObservable(result, '---------!').toBe('---a-------', m);
        expectSubscriptions(source.subscriptions).toBe('^--------!');
      });
    });

    it('starts fresh on re-subscription (repeat)', () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('ab|', m).pipe(filterVChannel('v1', { metrics }), repeat(2))).toBe(
          'a-a-|',
          m,
        );
      });
      expect(metrics.snapshot().passedMessages).toEqual({ Insert: 2 });
    });

    it('turns a throwing metrics callback into an error notification', () => {
      const metrics: ScannerMetrics = {
        ...noopMetrics,
        observePassedMessage: () => {
          throw new Error('sink broken');
        },
      };
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('t-a-c|', m);
        expectObservable(source.pipe(filterVChannel('v1', { metrics }))).toBe(
          't-#',
          m,
          new Error('sink broken'),
        );
        expectSubscriptions(source.subscriptions).toBe('^-!');
      });
    });

    it('turns a throwing scannerModel callback into an error notification', () => {
      const scannerModel = (): 'catchup' => {
        throw new Error('no model');
      };
      const metrics = createInMemoryMetrics();
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('t|', m).pipe(filterVChannel('v1', { metrics, scannerModel }))).toBe(
          '#',
          m,
          new Error('no model'),
        );
      });
    });

    it('asks no scanner model and calls no hook when nothing counts (the default metrics)', () => {
      const scannerModel = jest.fn((): 'catchup' => 'catchup');
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(
          cold('tabc|', m).pipe(filterVChannel('v1', { metrics: noopMetrics, scannerModel })),
        ).toBe('ta-c|', m);
      });
      expect(scannerModel).not.toHaveBeenCalled();
    });
  });
});
