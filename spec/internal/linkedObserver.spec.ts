import { Observable, take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';

import { subscribeLinked, type LinkedHandlers } from '../../lib/internal/linkedObserver.js';

/** An operator that subscribes its source through subscribeLinked with the given handlers. */
function linked<T>(makeHandlers: (forward: (value: T) => void) => LinkedHandlers<T>) {
  return (source: Observable<T>): Observable<T> =>
    new Observable<T>((subscriber) => {
      subscribeLinked(
        source,
        subscriber,
        makeHandlers((value) => subscriber.next(value)),
      );
    });
}

describe('subscribeLinked', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('passes values to next and forwards completion by default', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b|');
      expectObservable(
        source.pipe(linked((forward) => ({ next: (v) => forward(v.toUpperCase()) }))),
      ).toBe('A-B|');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('forwards an error by default', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(
        cold('a-#', undefined, new Error('boom')).pipe(linked((forward) => ({ next: forward }))),
      ).toBe('a-#', undefined, new Error('boom'));
    });
  });

  it('calls the given error and complete handlers instead of forwarding', () => {
    const ends: string[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const handlers = (forward: (v: string) => void): LinkedHandlers<string> => ({
        next: forward,
        error: (err) => ends.push(`error ${String(err)}`),
        complete: () => ends.push('complete'),
      });
      expectObservable(cold('a|').pipe(linked(handlers))).toBe('a-');
      expectObservable(cold('a#', undefined, 'x').pipe(linked(handlers))).toBe('a-');
    });
    expect(ends).toEqual(['complete', 'error x']);
  });

  it('turns a throwing next handler into an error and unsubscribes the source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|');
      const result = source.pipe(
        linked((forward) => ({
          next: (v) => {
            if (v === 'b') throw new Error('handler failed');
            forward(v);
          },
        })),
      );
      expectObservable(result).toBe('a-#', undefined, new Error('handler failed'));
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('passes a throwing next handler to the given error handler', () => {
    const errors: unknown[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const result = cold('a|').pipe(
        linked<string>(() => ({
          next: () => {
            throw new Error('handler failed');
          },
          error: (err) => errors.push(err),
        })),
      );
      expectObservable(result).toBe('-');
    });
    expect(errors).toEqual([new Error('handler failed')]);
  });

  it('turns a throwing error handler into an error notification', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const result = cold('a#', undefined, new Error('source failed')).pipe(
        linked((forward) => ({
          next: forward,
          error: () => {
            throw new Error('error handler failed');
          },
        })),
      );
      expectObservable(result).toBe('a#', undefined, new Error('error handler failed'));
    });
  });

  it('turns a throwing complete handler into an error notification', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const result = cold('a|').pipe(
        linked((forward) => ({
          next: forward,
          complete: () => {
            throw new Error('complete handler failed');
          },
        })),
      );
      expectObservable(result).toBe('a#', undefined, new Error('complete handler failed'));
    });
  });

  it('ignores what a misbehaving source sends after it ended', () => {
    const seen: string[] = [];
    const ends: string[] = [];
    // a hand-made source that breaks the Observable contract: it talks to the observer it is given
    const misbehaving = {
      subscribe(observer: { next(v: string): void; complete(): void; error(e: unknown): void }) {
        observer.next('a');
        observer.complete();
        observer.next('b');
        observer.complete();
        observer.error(new Error('late'));
      },
    } as unknown as Observable<string>;
    new Observable<string>((subscriber) => {
      subscribeLinked(misbehaving, subscriber, {
        next: (v) => seen.push(v),
        complete: () => ends.push('complete'),
        error: () => ends.push('error'),
      });
    }).subscribe();
    expect(seen).toEqual(['a']);
    expect(ends).toEqual(['complete']);
  });

  it('should stop listening to a synchronous observable when unsubscribed', () => {
    const emitted: number[] = [];
    const seen: number[] = [];
    new Observable<number>((subscriber) => {
      for (let i = 0; !subscriber.closed && i < 10; i++) {
        emitted.push(i);
        subscriber.next(i);
      }
    })
      .pipe(
        linked((forward) => ({ next: forward })),
        take(2),
      )
      .subscribe((v) => seen.push(v));
    expect(seen).toEqual([0, 1]);
    expect(emitted).toEqual([0, 1]);
  });

  it('returns the inner subscription, closed together with the destination', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-');
      const inner: { closed: boolean }[] = [];
      const result = new Observable<string>((subscriber) => {
        inner.push(subscribeLinked(source, subscriber, { next: (v) => subscriber.next(v) }));
      });
      expectObservable(result, '----!').toBe('-a-b-');
      expectSubscriptions(source.subscriptions).toBe('^---!');
      scheduler.schedule(() => expect(inner.map((s) => s.closed)).toEqual([true]), 5);
    });
  });
});
