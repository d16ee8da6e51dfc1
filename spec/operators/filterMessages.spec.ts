import { mergeMap, Observable, of, repeat, take } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';

import { ConfigError } from '../../lib/errors.js';
import type { WalMessage } from '../../lib/message/message.js';
import { filterMessages } from '../../lib/operators/filterMessages.js';
import { createInMemoryMetrics } from '../../lib/observability/metrics.js';
import { reorderUntilTick } from '../../lib/operators/reorderUntilTick.js';
import { txnBuffer } from '../../lib/operators/txnBuffer.js';
import { DeliverFilter } from '../../lib/options/deliverFilter.js';
import { parseWalMessage, walMessages } from '../../lib/testing/notation.js';
import { createWalTestScheduler } from '../../lib/testing/scheduler.js';

describe('filterMessages', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createWalTestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  describe('filter semantics (reference § 2.2, § 2.3)', () => {
    const m = walMessages({
      t: 'tt @1',
      a: 'ins v1 @2',
      b: 'del v1 @3',
      c: 'ins v1 @3',
      u: 'tt @3',
      d: 'del v2 @5',
      e: 'ins v2 @6',
      w: 'tt @6',
    });

    it('keeps everything with an empty filter list', () => {
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('tabcudew|', m).pipe(filterMessages([]))).toBe('tabcudew|', m);
      });
    });

    it('applies timeTickGT to every message, time ticks included', () => {
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(
          cold('tabcudew|', m).pipe(filterMessages([DeliverFilter.timeTickGT(2n)])),
        ).toBe('--bcudew|', m);
      });
    });

    it('applies timeTickGTE with an inclusive bound', () => {
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(
          cold('tabcudew|', m).pipe(filterMessages([DeliverFilter.timeTickGTE(3n)])),
        ).toBe('--bcudew|', m);
        expectObservable(
          cold('tabcudew|', m).pipe(filterMessages([DeliverFilter.timeTickGTE(4n)])),
        ).toBe('-----dew|', m);
      });
    });

    it('keeps system types under a messageType filter and drops the types not listed', () => {
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(
          cold('tabcudew|', m).pipe(filterMessages([DeliverFilter.messageType('Insert')])),
        ).toBe('ta-cu-ew|', m);
      });
    });

    it('ANDs the filters of a list: a message is kept only when every filter keeps it', () => {
      const filters = [DeliverFilter.timeTickGT(2n), DeliverFilter.messageType('Delete')];
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('tabcudew|', m).pipe(filterMessages(filters))).toBe('--b-ud-w|', m);
      });
    });

    it('ANDs two tick filters into a window', () => {
      const filters = [DeliverFilter.timeTickGT(1n), DeliverFilter.timeTickGTE(6n)];
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('tabcudew|', m).pipe(filterMessages(filters))).toBe('------ew|', m);
      });
    });

    it('judges a transaction by its commit only: begin and bodies always pass a tick filter', () => {
      const txn = walMessages({
        b: 'begin:7 v1 @1',
        i: 'ins:7 v1 @1',
        c: 'commit:7 v1 @2',
        r: 'rollback:8 v1 @2',
        k: 'begin:9 v1 @3',
        j: 'ins:9 v1 @4',
        x: 'commit:9 v1 @9',
      });
      // the rejected commit of 7 becomes its rollback: same id, tick and vchannel (issue 9 item 6)
      const out = { ...txn, C: parseWalMessage('rollback:7 v1 @2 #3', 3) };
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(
          cold('bicrkjx|', txn).pipe(filterMessages([DeliverFilter.timeTickGT(5n)])),
        ).toBe('biCrkjx|', out);
      });
    });

    it('turns a rejected commit into a rollback, so txnBuffer discards a keepalive-Infinity transaction whole (issue 9 item 6)', () => {
      const txn = walMessages({
        b: 'begin:7 v1 @1 keepalive=Infinity',
        i: 'ins:7 v1 @1 size=100',
        c: 'commit:7 v1 @2',
        t: 'tt @6',
        u: 'tt @7',
      });
      const metrics = createInMemoryMetrics();
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(
          cold('bict-u', txn).pipe(
            filterMessages([DeliverFilter.timeTickGT(5n)]),
            reorderUntilTick(),
            txnBuffer({ metrics }),
          ),
        ).toBe('---t-u', txn);
      });
      expect(metrics.snapshot().bytes.txnBuffer).toBe(0); // still subscribed: nothing held
      expect(metrics.snapshot().txn).toMatchObject({ committed: 0, rolledBack: 1 });
    });

    it('keeps every rollback: a rollback discards its transaction whatever its tick', () => {
      const txn = walMessages({ r: 'rollback:8 v1 @2' });
      const filters = [DeliverFilter.timeTickGT(5n), DeliverFilter.messageType('Insert')];
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('r|', txn).pipe(filterMessages(filters))).toBe('r|', txn);
      });
    });

    it('a filtered-out time tick does not release the reorder buffer', () => {
      const txn = walMessages({
        b: 'begin:7 v1 @2',
        i: 'ins:7 v1 @2',
        t: 'tt @3',
        c: 'commit:7 v1 @6',
        u: 'tt @6',
      });
      scheduler.run(({ cold, expectObservable }) => {
        const source = cold('bi-t------(cu|)', txn);
        // unfiltered, tt@3 releases the begin and the body
        expectObservable(source.pipe(reorderUntilTick())).toBe('3ms (bit) 2ms (cu|)', txn);
        expectObservable(
          source.pipe(filterMessages([DeliverFilter.timeTickGT(5n)]), reorderUntilTick()),
        ).toBe('10ms (bicu|)', txn);
      });
    });
  });

  describe('options', () => {
    it('rejects a filter list that is not an array with ConfigError', () => {
      expect(() =>
        filterMessages(DeliverFilter.timeTickGT(1n) as unknown as DeliverFilter[]),
      ).toThrow(ConfigError);
    });

    it('rejects a malformed filter eagerly with ConfigError', () => {
      const bogus = { kind: 'vchannel', vchannel: 'v1' } as unknown as DeliverFilter;
      expect(() => filterMessages([DeliverFilter.timeTickGT(1n), bogus])).toThrow(
        expect.objectContaining({ option: 'filters[1]' }),
      );
    });
  });

  describe('rxjs operator checklist', () => {
    const filters = [DeliverFilter.timeTickGT(1n)];
    const m = walMessages({ a: 'ins v1 @1', b: 'ins v1 @2', c: 'ins v1 @3' });

    it('completes with an empty source', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<WalMessage>('|');
        expectObservable(source.pipe(filterMessages(filters))).toBe('|');
        expectSubscriptions(source.subscriptions).toBe('(^!)');
      });
    });

    it('never emits with a never source', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<WalMessage>('-');
        expectObservable(source.pipe(filterMessages(filters))).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^');
      });
    });

    it('passes a source error through', () => {
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(
          cold('a-b-#', m, new Error('read failed')).pipe(filterMessages(filters)),
        ).toBe('--b-#', m, new Error('read failed'));
      });
    });

    it('should stop listening to a synchronous observable when unsubscribed', () => {
      const emitted: number[] = [];
      const seen: string[] = [];
      new Observable<WalMessage>((subscriber) => {
        for (let i = 1; !subscriber.closed && i <= 10; i++) {
          emitted.push(i);
          subscriber.next(parseWalMessage(`ins v1 @${i}`, i));
        }
      })
        .pipe(filterMessages(filters), take(3))
        .subscribe((x) => seen.push(x.id.key));
      expect(seen).toEqual(['2', '3', '4']);
      expect(emitted).toEqual([1, 2, 3, 4]);
    });

    it('does not break unsubscription chains when unsubscribed explicitly', () => {
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('---a---b---c---|', m);
        const result = source.pipe(
          mergeMap((x) => of(x)),
          filterMessages(filters),
          mergeMap((x) => of(x)),
        );
        expectObservable(result, '---------!').toBe('-------b---', m);
        expectSubscriptions(source.subscriptions).toBe('^--------!');
      });
    });

    it('starts fresh on re-subscription (repeat)', () => {
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('abc|', m).pipe(filterMessages(filters), repeat(2))).toBe(
          '-bc-bc|',
          m,
        );
      });
    });

    it('turns a message accessor that throws into an error notification', () => {
      const good = parseWalMessage('ins v1 @5', 1);
      const broken = Object.defineProperty({ ...good }, 'timeTick', {
        get(): bigint {
          throw new Error('undecodable tick');
        },
      }) as WalMessage;
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('g-x-g|', { g: good, x: broken });
        expectObservable(source.pipe(filterMessages(filters))).toBe(
          'g-#',
          { g: good },
          new Error('undecodable tick'),
        );
        expectSubscriptions(source.subscriptions).toBe('^-!');
      });
    });
  });
});
