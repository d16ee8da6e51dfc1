import {
  BehaviorSubject,
  concat,
  defer,
  merge,
  mergeMap,
  Observable,
  of,
  repeat,
  startWith,
  Subject,
  take,
  tap,
  throwError,
  type SchedulerLike,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';

import { ConfigError } from '../../lib/errors.js';
import type { Logger } from '../../lib/observability/logger.js';
import {
  createInMemoryMetrics,
  noopMetrics,
  type ScannerMetrics,
} from '../../lib/observability/metrics.js';
import { pauseGate, type PauseGateOptions } from '../../lib/operators/pauseGate.js';

/** The config switch: `t` paused, `f` not paused. */
const P = { t: true, f: false } as const;

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

interface FakeLogger {
  child: jest.Mock;
  trace: jest.Mock;
  debug: jest.Mock;
  info: jest.Mock;
  warn: jest.Mock;
  error: jest.Mock;
  isLevelEnabled: jest.Mock;
}

function fakeLogger(): FakeLogger & { asLogger(): Logger } {
  const fake = {
    child: jest.fn(),
    trace: jest.fn(),
    debug: jest.fn(),
    info: jest.fn(),
    warn: jest.fn(),
    error: jest.fn(),
    isLevelEnabled: jest.fn(() => true),
    asLogger: (): Logger => fake as unknown as Logger,
  };
  fake.child.mockReturnValue(fake);
  return fake;
}

/** A synchronous source that stops only when its subscriber closes, recording what it emitted. */
function synchronousCounter(emitted: number[]): Observable<number> {
  return new Observable<number>((subscriber) => {
    for (let i = 0; !subscriber.closed && i < 10; i++) {
      emitted.push(i);
      subscriber.next(i);
    }
  });
}

describe('pauseGate', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = newScheduler();
  });

  describe('reference § 8.1', () => {
    it('T-SA-2 pause gate resumes on config change: still blocked after 50 ms, consumes once pause$ says false', () => {
      const metrics = createInMemoryMetrics();
      const at50ms: { sourceSubscriptions: number; paused: number }[] = [];
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const changes = hot('60ms f', P);
        const source = cold('a-b|');
        scheduler.schedule(() => {
          at50ms.push({
            sourceSubscriptions: source.subscriptions.length,
            paused: metrics.snapshot().paused,
          });
        }, 50);
        const result = source.pipe(
          pauseGate(changes.pipe(startWith(true)), { metrics, scheduler }),
        );
        expectObservable(result).toBe('60ms a-b|');
        expectSubscriptions(source.subscriptions).toBe('60ms ^--!');
      });
      expect(at50ms).toEqual([{ sourceSubscriptions: 0, paused: 1 }]);
      expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [60] });
    });

    it('T-SA-3 config false, ignore false: consumes immediately, no pause recorded (paused gauge stays 0)', () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const changes = hot('-----', P);
        const source = cold('a-b|');
        const result = source.pipe(pauseGate(changes.pipe(startWith(false)), { metrics }));
        expectObservable(result).toBe('a-b|');
        expectSubscriptions(source.subscriptions).toBe('^--!');
        expectSubscriptions(changes.subscriptions).toBe('(^!)');
      });
      expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [] });
    });

    it('T-SA-3 config true, ignore true: consumes immediately, pause$ never subscribed', () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const pause$ = hot('t--t', P);
        const source = cold('a-b|');
        expectObservable(source.pipe(pauseGate(pause$, { ignore: true, metrics }))).toBe('a-b|');
        expectSubscriptions(source.subscriptions).toBe('^--!');
        expectSubscriptions(pause$.subscriptions).toBe([]);
      });
      expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [] });
    });

    it('T-SA-3 config true, ignore false, never changes: nothing delivered, source not subscribed, paused gauge 1', () => {
      const metrics = createInMemoryMetrics();
      const pausedAt100: number[] = [];
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const changes = hot('-', P);
        const source = cold('a-b|');
        scheduler.schedule(() => pausedAt100.push(metrics.snapshot().paused), 100);
        expectObservable(source.pipe(pauseGate(changes.pipe(startWith(true)), { metrics }))).toBe(
          '-',
        );
        expectSubscriptions(source.subscriptions).toBe([]);
        expectSubscriptions(changes.subscriptions).toBe('^');
      });
      expect(pausedAt100).toEqual([1]);
      expect(metrics.snapshot()).toMatchObject({ paused: 1, pauseDurationsMs: [] });
    });

    it('T-SA-3 config true, ignore false, event with value still true: still paused', () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const changes = hot('--t--t', P);
        const source = cold('a-b|');
        expectObservable(source.pipe(pauseGate(changes.pipe(startWith(true)), { metrics }))).toBe(
          '-',
        );
        expectSubscriptions(source.subscriptions).toBe([]);
      });
      expect(metrics.snapshot()).toMatchObject({ paused: 1, pauseDurationsMs: [] });
    });

    it('T-SA-3 config true, ignore false, unsubscribed while paused (Close): no message, pause$ unsubscribed, gauge 0, duration recorded', () => {
      const metrics = createInMemoryMetrics();
      const logger = fakeLogger();
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const changes = hot('-', P);
        const source = cold('a-b|');
        const result = source.pipe(
          pauseGate(changes.pipe(startWith(true)), { metrics, logger: logger.asLogger() }),
        );
        expectObservable(result, '10ms !').toBe('-');
        expectSubscriptions(changes.subscriptions).toBe('^ 9ms !');
        expectSubscriptions(source.subscriptions).toBe([]);
      });
      expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [10] });
      expect(logger.info).toHaveBeenLastCalledWith(
        { durationMs: 10 },
        'pause consumption is canceled',
      );
    });

    it("T-SA-3 config false→true after start, ignore false ('start' mode): keeps consuming", () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const changes = hot('--t--', P);
        const source = cold('a-b-c-d|');
        expectObservable(source.pipe(pauseGate(changes.pipe(startWith(false)), { metrics }))).toBe(
          'a-b-c-d|',
        );
        expectSubscriptions(source.subscriptions).toBe('^------!');
      });
      expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [] });
    });
  });

  describe("mode 'live'", () => {
    it('holds delivery on a later true and delivers the held values in order on false', () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const changes = hot('---t----f', P);
        const source = hot('-a--b-c-------d|');
        const result = source.pipe(
          pauseGate(changes.pipe(startWith(false)), { mode: 'live', metrics }),
        );
        expectObservable(result).toBe('-a------(bc)--d|');
        expectSubscriptions(source.subscriptions).toBe('^--------------!');
      });
      expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [5] });
    });

    it("holds the start like 'start' mode, then watches pause$ for later pauses", () => {
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const changes = hot('--f--t---f', P);
        const source = cold('a-b-c-|');
        const result = source.pipe(pauseGate(changes.pipe(startWith(true)), { mode: 'live' }));
        expectObservable(result).toBe('--a-b----(c|)');
        expectSubscriptions(source.subscriptions).toBe('--^-----!');
        expectSubscriptions(changes.subscriptions).toBe('^--------!');
      });
    });

    it('lets a source completion wait behind the held values', () => {
      scheduler.run(({ hot, expectObservable }) => {
        const changes = hot('--t---f', P);
        const source = hot('-a-b|');
        expectObservable(
          source.pipe(pauseGate(changes.pipe(startWith(false)), { mode: 'live' })),
        ).toBe('-a----(b|)');
      });
    });

    it('lets a source error wait behind the held values', () => {
      scheduler.run(({ hot, expectObservable }) => {
        const changes = hot('--t---f', P);
        const source = hot('-a-b#', undefined, new Error('read failed'));
        expectObservable(
          source.pipe(pauseGate(changes.pipe(startWith(false)), { mode: 'live' })),
        ).toBe('-a----(b#)', undefined, new Error('read failed'));
      });
    });

    it('stops a flush when the consumer re-pauses, and delivers the rest on the next false', () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ hot, expectObservable }) => {
        const consumerSwitch = new Subject<boolean>();
        const changes = hot('--t---f---f', P);
        const source = hot('-a-bcd');
        const result = source.pipe(
          pauseGate(merge(changes.pipe(startWith(false)), consumerSwitch), {
            mode: 'live',
            metrics,
          }),
          tap((v) => {
            if (v === 'b') consumerSwitch.next(true); // the consumer pauses from its own callback
          }),
        );
        expectObservable(result).toBe('-a----b---(cd)');
      });
      expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [4, 4] });
    });

    it('delivers every held value exactly once when the consumer pauses and resumes inside a flush', () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ hot, expectObservable }) => {
        const consumerSwitch = new Subject<boolean>();
        const changes = hot('--t---f', P);
        const source = hot('-a-bcd');
        const result = source.pipe(
          pauseGate(merge(changes.pipe(startWith(false)), consumerSwitch), {
            mode: 'live',
            metrics,
          }),
          tap((v) => {
            if (v !== 'b') return;
            consumerSwitch.next(true); // a consumer that toggles the switch from its callback
            consumerSwitch.next(false);
          }),
        );
        expectObservable(result).toBe('-a----(bcd)');
      });
      expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [4, 0] });
    });

    it('stops a flush when the consumer unsubscribes during it', () => {
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const changes = hot('--t---f', P);
        const source = hot('-a-bcd');
        const result = source.pipe(
          pauseGate(changes.pipe(startWith(false)), { mode: 'live' }),
          take(2),
        );
        expectObservable(result).toBe('-a----(b|)');
        expectSubscriptions(source.subscriptions).toBe('^-----!');
      });
    });

    it('turns an error of pause$ after the start into the result error', () => {
      scheduler.run(({ hot, cold, expectObservable }) => {
        const changes = hot('---#', P, new Error('kv down'));
        const source = cold('a-b-c');
        expectObservable(
          source.pipe(pauseGate(changes.pipe(startWith(false)), { mode: 'live' })),
        ).toBe('a-b#', undefined, new Error('kv down'));
      });
    });

    it('ignores a repeated false while open (no pause recorded)', () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ hot, cold, expectObservable }) => {
        const changes = hot('-f-f-', P);
        const source = cold('a-b-c|');
        const result = source.pipe(
          pauseGate(changes.pipe(startWith(false)), { mode: 'live', metrics }),
        );
        expectObservable(result).toBe('a-b-c|');
      });
      expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [] });
    });

    it('keeps delivering when pause$ completes while open', () => {
      const logger = fakeLogger();
      scheduler.run(({ hot, cold, expectObservable }) => {
        const changes = hot('--|', P);
        const source = cold('a-b-c|');
        const result = source.pipe(
          pauseGate(changes.pipe(startWith(false)), { mode: 'live', logger: logger.asLogger() }),
        );
        expectObservable(result).toBe('a-b-c|');
      });
      expect(logger.warn).not.toHaveBeenCalled();
    });
  });

  describe('pause duration', () => {
    it('is measured in virtual time on the injected scheduler (exact ms)', () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ hot, cold, expectObservable }) => {
        const changes = hot('25ms f 14ms t 6ms f', P);
        const source = cold('a 50ms b');
        const result = source.pipe(
          pauseGate(changes.pipe(startWith(true)), { mode: 'live', metrics, scheduler }),
        );
        expectObservable(result).toBe('25ms a 50ms b');
      });
      // held 0 → 25, then 40 → 47 (the second hold delays nothing: no value waited)
      expect(metrics.snapshot().pauseDurationsMs).toEqual([25, 7]);
    });

    it('reads the clock of the injected scheduler, not the default one', () => {
      const metrics = createInMemoryMetrics();
      const clock = [1_000, 1_750];
      const injected: SchedulerLike = {
        now: () => clock.shift() ?? Number.NaN,
        schedule: () => {
          throw new Error('pauseGate never schedules');
        },
      };
      scheduler.run(({ hot, cold, expectObservable }) => {
        const changes = hot('3ms f', P);
        expectObservable(
          cold('a|').pipe(
            pauseGate(changes.pipe(startWith(true)), { metrics, scheduler: injected }),
          ),
        ).toBe('3ms a|');
      });
      expect(metrics.snapshot().pauseDurationsMs).toEqual([750]);
    });

    it('is never negative, even when the clock goes backwards', () => {
      const metrics = createInMemoryMetrics();
      const clock = [500, 100];
      const injected: SchedulerLike = {
        now: () => clock.shift() ?? Number.NaN,
        schedule: () => {
          throw new Error('unused');
        },
      };
      scheduler.run(({ hot, cold, expectObservable }) => {
        const changes = hot('2ms f', P);
        expectObservable(
          cold('a|').pipe(
            pauseGate(changes.pipe(startWith(true)), { metrics, scheduler: injected }),
          ),
        ).toBe('2ms a|');
      });
      expect(metrics.snapshot().pauseDurationsMs).toEqual([0]);
    });
  });

  describe('pause$ values and lifecycle', () => {
    it("the last value given while subscribing decides the start: of(false, true) holds in 'start' mode", () => {
      scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const source = cold('x|');
        const later = hot('---f', { f: false });
        expectObservable(source.pipe(pauseGate(concat(of(false, true), later)))).toBe('---x|');
        expectSubscriptions(source.subscriptions).toBe('---^!');
      });
    });

    it("logs invalid values ('false', null, 1) and never takes them as resume", () => {
      const logger = fakeLogger();
      const metrics = createInMemoryMetrics();
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const changes = hot('-a-b-c-f', {
          a: 'false',
          b: null,
          c: 1,
          f: false,
        }) as unknown as Observable<boolean>;
        const source = cold('x|');
        expectObservable(
          source.pipe(pauseGate(changes, { logger: logger.asLogger(), metrics })),
        ).toBe('-------x|');
        expectSubscriptions(source.subscriptions).toBe('-------^!');
      });
      expect(logger.error.mock.calls).toEqual([
        [
          { value: 'false' },
          'pause$ gave a value that is not a boolean; keeping the current state',
        ],
        [{ value: null }, 'pause$ gave a value that is not a boolean; keeping the current state'],
        [{ value: 1 }, 'pause$ gave a value that is not a boolean; keeping the current state'],
      ]);
      expect(logger.child).toHaveBeenCalledWith({ component: 'pauseGate' });
      expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [7] });
    });

    it('logs an invalid value while open and keeps delivering (live)', () => {
      const logger = fakeLogger();
      scheduler.run(({ hot, cold, expectObservable }) => {
        const changes = hot('--x', { x: 'true' }) as unknown as Observable<boolean>;
        const source = cold('a-b-c|');
        const result = source.pipe(
          pauseGate(changes.pipe(startWith(false)), { mode: 'live', logger: logger.asLogger() }),
        );
        expectObservable(result).toBe('a-b-c|');
      });
      expect(logger.error).toHaveBeenCalledTimes(1);
      expect(logger.error).toHaveBeenCalledWith({ value: 'true' }, expect.any(String));
    });

    it('keeps holding when pause$ completes while paused, and logs it', () => {
      const logger = fakeLogger();
      const metrics = createInMemoryMetrics();
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const changes = hot('--|', P);
        const source = cold('a|');
        const result = source.pipe(
          pauseGate(changes.pipe(startWith(true)), { logger: logger.asLogger(), metrics }),
        );
        expectObservable(result).toBe('-');
        expectSubscriptions(source.subscriptions).toBe([]);
      });
      expect(logger.warn).toHaveBeenCalledWith(
        {},
        'pause$ completed while paused; staying paused until unsubscribed',
      );
      expect(metrics.snapshot().paused).toBe(1);
    });

    it('turns an error of pause$ while paused into the result error, ending the pause', () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const changes = hot('--#', P, new Error('kv down'));
        const source = cold('a|');
        const result = source.pipe(pauseGate(changes.pipe(startWith(true)), { metrics }));
        expectObservable(result).toBe('--#', undefined, new Error('kv down'));
        expectSubscriptions(source.subscriptions).toBe([]);
      });
      expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [2] });
    });

    it('never subscribes the source when pause$ errors synchronously', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('a|');
        const result = source.pipe(pauseGate(throwError(() => new Error('no config'))));
        expectObservable(result).toBe('#', undefined, new Error('no config'));
        expectSubscriptions(source.subscriptions).toBe([]);
      });
    });

    it("stops watching pause$ once open in 'start' mode (a later error is not seen)", () => {
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const changes = hot('--f--#', P, new Error('kv down'));
        const source = cold('a-b-c|');
        expectObservable(source.pipe(pauseGate(changes.pipe(startWith(true))))).toBe('--a-b-c|');
        expectSubscriptions(changes.subscriptions).toBe('^-!');
      });
    });

    it("in 'start' mode a true given while subscribing, after a false, still holds", () => {
      const held: number[] = [];
      of(1, 2, 3)
        .pipe(pauseGate(of(false, true)))
        .subscribe((v) => held.push(v));
      expect(held).toEqual([]); // (a true after the gate opened is ignored: see T-SA-3 above)
    });

    it('starts synchronously with a BehaviorSubject(false)', () => {
      const seen: number[] = [];
      let completed = false;
      of(1, 2, 3)
        .pipe(pauseGate(new BehaviorSubject(false)))
        .subscribe({ next: (v) => seen.push(v), complete: () => (completed = true) });
      expect(seen).toEqual([1, 2, 3]);
      expect(completed).toBe(true);
    });

    it('does not even subscribe the source with a BehaviorSubject(true)', () => {
      let subscriptions = 0;
      const source = defer(() => {
        subscriptions += 1;
        return of(1);
      });
      const seen: number[] = [];
      const subscription = source
        .pipe(pauseGate(new BehaviorSubject(true)))
        .subscribe((v) => seen.push(v));
      expect(subscriptions).toBe(0);
      expect(seen).toEqual([]);
      subscription.unsubscribe();
    });

    it('holds until the first value when pause$ has no current value', () => {
      scheduler.run(({ hot, cold, expectObservable }) => {
        const changes = hot('---f', P);
        expectObservable(cold('a|').pipe(pauseGate(changes))).toBe('---a|');
      });
    });
  });

  describe('options', () => {
    const pause$ = of(false);
    it.each<[string, unknown]>([
      ['mode', { mode: 'always' }],
      ['ignore', { ignore: 'yes' }],
      ['scheduler', { scheduler: {} }],
      ['pauseGate options', 'fast'],
      ['metrics', { metrics: 42 }],
      ['logger', { logger: { info: () => undefined } }],
    ])('rejects a bad %s with ConfigError', (option, options) => {
      expect(() => pauseGate(pause$, options as PauseGateOptions)).toThrow(ConfigError);
      expect(() => pauseGate(pause$, options as PauseGateOptions)).toThrow(
        expect.objectContaining({ option }),
      );
    });

    it.each<unknown>([undefined, null, Promise.resolve(false), { subscribe: 1 }, false])(
      'rejects a pause$ that is not an Observable (%p) with ConfigError',
      (bad) => {
        expect(() => pauseGate(bad as Observable<boolean>)).toThrow(
          expect.objectContaining({ option: 'pause$' }),
        );
        expect(() => pauseGate(bad as Observable<boolean>)).toThrow(ConfigError);
      },
    );

    it('needs no pause$ when ignore is true', () => {
      const seen: number[] = [];
      of(1, 2)
        .pipe(pauseGate(undefined as unknown as Observable<boolean>, { ignore: true }))
        .subscribe((v) => seen.push(v));
      expect(seen).toEqual([1, 2]);
    });
  });

  describe('rxjs operator checklist', () => {
    const modes = ['start', 'live'] as const;

    it.each(modes)('completes with an empty source (%s)', (mode) => {
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = cold('|');
        expectObservable(source.pipe(pauseGate(hot('-', P).pipe(startWith(false)), { mode }))).toBe(
          '|',
        );
        expectSubscriptions(source.subscriptions).toBe('(^!)');
      });
    });

    it.each(modes)('never emits with a never source (%s)', (mode) => {
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-');
        expectObservable(source.pipe(pauseGate(hot('-', P).pipe(startWith(false)), { mode }))).toBe(
          '-',
        );
        expectSubscriptions(source.subscriptions).toBe('^');
      });
    });

    it.each(modes)('passes a source error through (%s)', (mode) => {
      scheduler.run(({ hot, cold, expectObservable }) => {
        const source = cold('-a-#', undefined, new Error('boom'));
        expectObservable(source.pipe(pauseGate(hot('-', P).pipe(startWith(false)), { mode }))).toBe(
          '-a-#',
          undefined,
          new Error('boom'),
        );
      });
    });

    it.each(modes)(
      'should stop listening to a synchronous observable when unsubscribed (%s)',
      (mode) => {
        const emitted: number[] = [];
        const seen: number[] = [];
        synchronousCounter(emitted)
          .pipe(pauseGate(new BehaviorSubject(false), { mode }), take(3))
          .subscribe((v) => seen.push(v));
        expect(seen).toEqual([0, 1, 2]);
        expect(emitted).toEqual([0, 1, 2]);
      },
    );

    it.each(modes)(
      'does not break unsubscription chains when unsubscribed explicitly (%s)',
      (mode) => {
        scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
          const source = hot('---a---b---c---|');
          const changes = hot('-', P);
          const result = source.pipe(
            mergeMap((x) => of(x)),
            pauseGate(changes.pipe(startWith(false)), { mode }),
            mergeMap((x) => of(x)),
          );
          expectObservable(result, '---------!').toBe('---a---b---');
          expectSubscriptions(source.subscriptions).toBe('^--------!');
        });
      },
    );

    it('starts fresh on re-subscription (repeat): each subscription waits for its own false', () => {
      const metrics = createInMemoryMetrics();
      scheduler.run(({ cold, expectObservable }) => {
        const pause$ = cold('t-f', P);
        const source = cold('a|');
        expectObservable(source.pipe(pauseGate(pause$, { metrics, scheduler }), repeat(2))).toBe(
          '--a--a|',
        );
      });
      expect(metrics.snapshot()).toMatchObject({ paused: 0, pauseDurationsMs: [2, 2] });
    });

    it('starts fresh on re-subscription in live mode (no values held over)', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const pause$ = concat(of(false), cold('-t-f', P));
        const source = cold('a-b---|');
        expectObservable(source.pipe(pauseGate(pause$, { mode: 'live' }), repeat(2))).toBe(
          'a--b--a--b--|',
        );
      });
    });

    it('turns a throwing metrics callback on resume into an error notification', () => {
      const metrics: ScannerMetrics = {
        ...noopMetrics,
        pauseEnded: () => {
          throw new Error('sink broken');
        },
      };
      scheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const changes = hot('--f', P);
        const source = cold('a|');
        expectObservable(source.pipe(pauseGate(changes.pipe(startWith(true)), { metrics }))).toBe(
          '--#',
          undefined,
          new Error('sink broken'),
        );
        expectSubscriptions(source.subscriptions).toBe([]);
        expectSubscriptions(changes.subscriptions).toBe('^-!');
      });
    });

    it('turns a throwing metrics callback at subscription into an error notification', () => {
      const metrics: ScannerMetrics = {
        ...noopMetrics,
        pauseStarted: () => {
          throw new Error('sink broken');
        },
      };
      scheduler.run(({ hot, cold, expectObservable }) => {
        const changes = hot('--f', P);
        expectObservable(cold('a|').pipe(pauseGate(changes, { metrics }))).toBe(
          '#',
          undefined,
          new Error('sink broken'),
        );
      });
    });
  });
});
