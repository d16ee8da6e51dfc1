import { EMPTY, NEVER, Observable, Subject, Subscription, mergeMap, of, repeat, take } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';

import { createMessage } from '../../lib/message/createMessage.js';
import type { WalMessage } from '../../lib/message/message.js';
import { MAX_TIME_TICK } from '../../lib/message/tso.js';
import type { Logger } from '../../lib/observability/logger.js';
import { createInMemoryMetrics, type ScannerMetrics } from '../../lib/observability/metrics.js';
import { reorderUntilTick } from '../../lib/operators/reorderUntilTick.js';
import { walMessages } from '../../lib/testing/notation.js';
import { createWalTestScheduler } from '../../lib/testing/scheduler.js';

interface LogEntry {
  readonly level: string;
  readonly fields: unknown;
  readonly msg: unknown;
}

/** A pino-shaped logger that records what it is given; `debug` says whether debug is enabled. */
function recordingLogger(debug: boolean): {
  logger: Logger;
  entries: LogEntry[];
  bindings: unknown[];
} {
  const entries: LogEntry[] = [];
  const bindings: unknown[] = [];
  const log =
    (level: string) =>
    (fields: unknown, msg?: unknown): void => {
      entries.push({ level, fields, msg });
    };
  const logger = {
    child: (b: unknown) => {
      bindings.push(b);
      return logger;
    },
    trace: log('trace'),
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    isLevelEnabled: (level: string) => debug || (level !== 'debug' && level !== 'trace'),
  };
  return { logger: logger as unknown as Logger, entries, bindings };
}

function newScheduler(): TestScheduler {
  return createWalTestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const tick = (id: number, tt: bigint | number): WalMessage =>
  createMessage({ id, type: 'TimeTick', timeTick: tt });

describe('reorderUntilTick', () => {
  describe('release on time tick (reference § 4.4)', () => {
    it('releases, in tick order, every waiting message with tick ≤ T (inclusive), then T itself', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          a: 'ins v1 @3',
          b: 'ins v1 @2',
          c: 'ins v1 @5',
          t: 'tt @3',
          u: 'tt @5',
        });
        const source = cold('abct----u-----|', m);
        const expected = '   ---(bat)(cu)--|';
        expectObservable(source.pipe(reorderUntilTick())).toBe(expected, m);
      });
    });

    it('emits a time tick that releases nothing on its own', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({ t: 'tt @1', a: 'ins v1 @5', u: 'tt @4' });
        expectObservable(cold('t-a-u-|', m).pipe(reorderUntilTick())).toBe('t---u-|', m);
      });
    });

    it('keeps arrival order among equal ticks (stable, DESIGN decision 3)', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          a: 'ins v1 @4 #10',
          b: 'del v1 @4 #3',
          c: 'ins v2 @4 #7',
          d: 'ins v1 @2 #1',
          e: 'ins v1 @4 #2',
          t: 'tt @4 #20',
        });
        expectObservable(cold('abcdet-------|', m).pipe(reorderUntilTick())).toBe(
          '-----(dabcet)|',
          m,
        );
      });
    });

    it('accepts a message whose tick equals the last released tick and releases it with the next tick', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({ t: 'tt @5', a: 'ins v1 @5', u: 'tt @5' });
        expectObservable(cold('t-a-u---|', m).pipe(reorderUntilTick({ metrics }))).toBe(
          't---(au)|',
          m,
        );
      });
      expect(metrics.snapshot().timeTickViolations).toBe(0);
    });
  });

  describe('violations and duplicates (reference § 4.3 step 6)', () => {
    it('drops a message below the last released tick, counts a violation with the scanner model and warns', () => {
      const metrics = createInMemoryMetrics();
      const violation = jest.spyOn(metrics, 'observeTimeTickViolation');
      const { logger, entries } = recordingLogger(false);
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          a: 'ins v1 @5',
          t: 'tt @5',
          b: 'del v1 @4',
          c: 'ins v1 @6',
          u: 'tt @6',
        });
        const result = cold('a-t-b-c-u---|', m).pipe(
          reorderUntilTick({ metrics, logger, scannerModel: () => 'tailing' }),
        );
        expectObservable(result).toBe('--(at)--(cu)|', m);
      });
      expect(violation.mock.calls).toEqual([['tailing', 'Delete']]);
      expect(metrics.snapshot().timeTickViolations).toBe(1);
      expect(entries).toEqual([
        {
          level: 'warn',
          fields: { id: '3', type: 'Delete', timeTick: '4', vchannel: 'v1', lastPopTimeTick: '5' },
          msg: 'time tick violation: message below the last released time tick dropped',
        },
      ]);
      expect(metrics.snapshot().bytes.reorderBuffer).toBe(0);
    });

    it('asks no scanner model for a violation when nothing counts (the default metrics)', () => {
      const scannerModel = jest.fn((): 'tailing' => {
        throw new Error('asked for a model with nothing to count');
      });
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({ a: 'ins v1 @5', t: 'tt @5', b: 'del v1 @4', u: 'tt @6' });
        expectObservable(cold('a-t-b-u|', m).pipe(reorderUntilTick({ scannerModel }))).toBe(
          '--(at)u|',
          m,
        );
      });
      expect(scannerModel).not.toHaveBeenCalled();
    });

    it('drops a duplicate id still waiting, warns, and does not count it as a violation', () => {
      const scheduler = newScheduler();
      const metrics = createInMemoryMetrics();
      const { logger, entries } = recordingLogger(false);
      const samples: number[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        const m = walMessages({
          a: 'ins v1 @5 #1 size=4',
          b: 'ins v1 @6 #1 size=4',
          t: 'tt @6 #2',
        });
        expectObservable(cold('a-b-t---|', m).pipe(reorderUntilTick({ metrics, logger }))).toBe(
          '----(at)|',
          m,
        );
        // sampled between the emissions of the frames 0, 2 and 4
        for (const frame of [1, 3, 5])
          scheduler.schedule(() => samples.push(metrics.snapshot().bytes.reorderBuffer), frame);
      });
      expect(samples).toEqual([4, 4, 0]);
      expect(metrics.snapshot().timeTickViolations).toBe(0);
      expect(entries).toEqual([
        {
          level: 'warn',
          fields: { id: '1', type: 'Insert', timeTick: '6', vchannel: 'v1' },
          msg: 'duplicate message id in the reorder buffer dropped',
        },
      ]);
    });
  });

  describe('time ticks never go backwards (DESIGN decision 2)', () => {
    it('drops, without emitting it, a time tick lower than the last released one; an equal tick passes', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          t: 'tt @10',
          u: 'tt @7',
          a: 'ins v1 @8',
          v: 'tt @10',
          w: 'tt @11',
        });
        // the dropped tick 7 does not lower lastPopTimeTick: 8 is still a violation
        expectObservable(cold('t-u-a-v-w|', m).pipe(reorderUntilTick({ metrics }))).toBe(
          't-----v-w|',
          m,
        );
      });
      expect(metrics.snapshot().timeTickViolations).toBe(1);
    });

    it('logs the dropped tick at debug level only when debug is enabled', () => {
      const debugOn = recordingLogger(true);
      const debugOff = recordingLogger(false);
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({ t: 'tt @10', u: 'tt @7' });
        expectObservable(cold('tu|', m).pipe(reorderUntilTick({ logger: debugOn.logger }))).toBe(
          't-|',
          m,
        );
        expectObservable(cold('tu|', m).pipe(reorderUntilTick({ logger: debugOff.logger }))).toBe(
          't-|',
          m,
        );
      });
      expect(debugOn.entries).toEqual([
        {
          level: 'debug',
          fields: { id: '2', type: 'TimeTick', timeTick: '7', vchannel: '' },
          msg: 'time tick below the last released one dropped',
        },
      ]);
      expect(debugOff.entries).toEqual([]);
      expect(debugOn.bindings).toEqual([{ component: 'reorderUntilTick' }]);
    });
    it('a time tick pushed from downstream during a release goes out first; the releasing tick, now behind it, is dropped', () => {
      const source = new Subject<WalMessage>();
      const out: string[] = [];
      let fedBack = false;
      source.pipe(reorderUntilTick()).subscribe((m) => {
        out.push(`${m.type === 'TimeTick' ? 'T' : 'd'}${m.timeTick}`);
        if (fedBack || m.type === 'TimeTick') return;
        fedBack = true; // a consumer that writes back into the log it reads, synchronously
        source.next(createMessage({ id: 20, type: 'Insert', timeTick: 7, vchannel: 'v1' }));
        source.next(tick(21, 10));
      });
      const feed = walMessages({ a: 'ins v1 @3', b: 'ins v1 @1', c: 'ins v1 @2', t: 'tt @5' });
      for (const m of [feed.a, feed.b, feed.c, feed.t]) source.next(m);
      expect(out).toEqual(['d1', 'd2', 'd3', 'd7', 'T10']);
    });
  });

  describe('reorder-buffer byte gauge', () => {
    it('while a tick releases, holds exactly the messages not yet emitted', () => {
      const source = new Subject<WalMessage>();
      const metrics = createInMemoryMetrics();
      const seen: number[] = [];
      source
        .pipe(reorderUntilTick({ metrics }))
        .subscribe(() => seen.push(metrics.snapshot().bytes.reorderBuffer));
      const feed = walMessages({
        a: 'ins v1 @3 size=10',
        b: 'ins v1 @1 size=10',
        c: 'ins v1 @2 size=10',
        t: 'tt @5',
      });
      for (const m of [feed.a, feed.b, feed.c, feed.t]) source.next(m);
      expect(seen).toEqual([20, 10, 0, 0]);
    });

    it('returns to 0 when the downstream next throws mid-release', () => {
      const source = new Subject<WalMessage>();
      const metrics = createInMemoryMetrics();
      const errors: unknown[] = [];
      /** An observer that is a Subscription, so rxjs calls it unwrapped and its throw escapes. */
      class ThrowingSink extends Subscription {
        received = 0;
        next(): void {
          if (++this.received === 2) throw new Error('consumer failed');
        }
        error(err: unknown): void {
          errors.push(err);
          this.unsubscribe();
        }
        complete(): void {
          this.unsubscribe();
        }
      }
      source.pipe(reorderUntilTick({ metrics })).subscribe(new ThrowingSink() as never);
      const feed = walMessages({
        a: 'ins v1 @3 size=10',
        b: 'ins v1 @1 size=10',
        c: 'ins v1 @2 size=10',
        d: 'ins v1 @9 size=4',
        t: 'tt @5',
      });
      for (const m of [feed.a, feed.b, feed.c, feed.d, feed.t]) source.next(m);
      expect(errors).toEqual([new Error('consumer failed')]);
      expect(metrics.snapshot().bytes.reorderBuffer).toBe(0);
    });

    it('adds on push and returns to 0 after release', () => {
      const scheduler = newScheduler();
      const metrics = createInMemoryMetrics();
      const samples: number[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        const m = walMessages({
          a: 'ins v1 @3 size=10',
          b: 'ins v1 @2 size=5',
          t: 'tt @2',
          u: 'tt @3',
        });
        expectObservable(cold('a-b-t---u---|', m).pipe(reorderUntilTick({ metrics }))).toBe(
          '----(bt)(au)|',
          m,
        );
        for (const frame of [1, 3, 5, 9])
          scheduler.schedule(() => samples.push(metrics.snapshot().bytes.reorderBuffer), frame);
      });
      expect(samples).toEqual([10, 15, 10, 0]);
      expect(metrics.snapshot().bytes.reorderBuffer).toBe(0);
    });

    it('returns to 0 when the source completes with messages still waiting (they are dropped)', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({ t: 'tt @1', a: 'ins v1 @3 size=7', b: 'ins v1 @4 size=2' });
        expectObservable(cold('tab|', m).pipe(reorderUntilTick({ metrics }))).toBe('t--|', m);
      });
      expect(metrics.snapshot().bytes.reorderBuffer).toBe(0);
    });

    it('returns to 0 when unsubscribed with messages still waiting', () => {
      const scheduler = newScheduler();
      const metrics = createInMemoryMetrics();
      const samples: number[] = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const m = walMessages({ a: 'ins v1 @3 size=7', b: 'ins v1 @4 size=2' });
        const source = cold('a-b-----|', m);
        expectObservable(source.pipe(reorderUntilTick({ metrics })), '^---!').toBe('-----', m);
        expectSubscriptions(source.subscriptions).toBe('^---!');
        scheduler.schedule(() => samples.push(metrics.snapshot().bytes.reorderBuffer), 3);
      });
      expect(samples).toEqual([9]);
      expect(metrics.snapshot().bytes.reorderBuffer).toBe(0);
    });

    it('returns to 0 when the source errors with messages still waiting', () => {
      const metrics = createInMemoryMetrics();
      const error = new Error('read failed');
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({ a: 'ins v1 @3 size=7' });
        expectObservable(cold('a-#', m, error).pipe(reorderUntilTick({ metrics }))).toBe(
          '--#',
          m,
          error,
        );
      });
      expect(metrics.snapshot().bytes.reorderBuffer).toBe(0);
    });
  });

  describe('bigint ticks near 2^64', () => {
    it('orders and releases ticks that differ only in the lowest bits of 2^64 − 1', () => {
      const max = MAX_TIME_TICK;
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          a: `ins v1 @${max}`,
          b: `ins v1 @${max - 2n}`,
          c: `ins v1 @${max - 1n}`,
          t: `tt @${max - 1n}`,
          d: `ins v1 @${max - 2n}`,
          u: `tt @${max}`,
        });
        expectObservable(cold('abct-d--u---|', m).pipe(reorderUntilTick())).toBe(
          '---(bct)(au)|',
          m,
        );
      });
    });
  });

  describe('rxjs operator checklist', () => {
    it('should complete on an empty source', () => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<WalMessage>('|');
        expectObservable(source.pipe(reorderUntilTick())).toBe('|');
        expectSubscriptions(source.subscriptions).toBe('(^!)');
        expectObservable(EMPTY.pipe(reorderUntilTick())).toBe('|');
      });
    });

    it('should not complete on a never source', () => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<WalMessage>('-');
        expectObservable(source.pipe(reorderUntilTick()), '^----!').toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^----!');
        expectObservable(NEVER.pipe(reorderUntilTick())).toBe('-');
      });
    });

    it('should pass a source error through, after what was already released', () => {
      const error = new Error('boom');
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const m = walMessages({ a: 'ins v1 @1', t: 'tt @1', b: 'ins v1 @2' });
        const source = cold('a-t-b-#', m, error);
        expectObservable(source.pipe(reorderUntilTick())).toBe('--(at)#', m, error);
        expectSubscriptions(source.subscriptions).toBe('^-----!');
      });
    });

    it('should stop listening to a synchronous observable when unsubscribed', () => {
      const sideEffects: number[] = [];
      const synchronous = new Observable<WalMessage>((subscriber) => {
        for (let i = 1; !subscriber.closed && i <= 10; i++) {
          sideEffects.push(i);
          subscriber.next(tick(i, i));
        }
      });
      const received: string[] = [];
      synchronous.pipe(reorderUntilTick(), take(3)).subscribe((m) => received.push(m.id.key));
      expect(received).toEqual(['1', '2', '3']);
      expect(sideEffects).toEqual([1, 2, 3]);
    });

    it('should stop releasing when unsubscribed in the middle of a release', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const m = walMessages({ a: 'ins v1 @1', b: 'ins v1 @2', c: 'ins v1 @3', t: 'tt @3' });
        const source = cold('abct-|', m);
        expectObservable(source.pipe(reorderUntilTick({ metrics }), take(2))).toBe('---(ab|)', m);
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
      expect(metrics.snapshot().bytes.reorderBuffer).toBe(0);
    });

    it('should not break unsubscription chains when unsubscribed explicitly', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const m = walMessages({ a: 'tt @1', x: 'ins v1 @3 size=5', b: 'tt @2', c: 'tt @3' });
        const source = hot('  --a--x--b--c--|', m);
        const sourceSubs = '  ^------!       ';
        const expected = '    --a-----       ';
        const unsub = '       -------!       ';
        const result = source.pipe(
          mergeMap((x) => of(x)),
          reorderUntilTick({ metrics }),
          mergeMap((x) => of(x)),
        );
        expectObservable(result, unsub).toBe(expected, m);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
      expect(metrics.snapshot().bytes.reorderBuffer).toBe(0);
    });

    it('should start fresh on re-subscription (repeat)', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        // if lastPopTimeTick (4) leaked into the second subscription, the second a (@3) would be a violation
        const m = walMessages({ a: 'ins v1 @3 #1', t: 'tt @4 #2', b: 'ins v1 @9 #3' });
        const source = cold('a-t-----b|', m);
        expectObservable(source.pipe(reorderUntilTick({ metrics }), repeat(2))).toBe(
          '--(at)-----(at)---|',
          m,
        );
        expectSubscriptions(source.subscriptions).toBe(['^--------!', '---------^--------!']);
      });
      expect(metrics.snapshot().timeTickViolations).toBe(0);
      expect(metrics.snapshot().bytes.reorderBuffer).toBe(0);
    });

    it('should turn a throwing user callback (metrics sink) into an error notification', () => {
      const error = new Error('metrics sink failed');
      const metrics: ScannerMetrics = {
        ...createInMemoryMetrics(),
        observeTimeTickViolation: () => {
          throw error;
        },
      };
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const m = walMessages({ t: 'tt @5', a: 'ins v1 @4', b: 'ins v1 @6', u: 'tt @6' });
        const source = cold('t-a-b-u|', m);
        expectObservable(source.pipe(reorderUntilTick({ metrics }))).toBe('t-#', m, error);
        expectSubscriptions(source.subscriptions).toBe('^-!');
      });
    });

    it('should turn a throwing logger into an error notification', () => {
      const error = new Error('logger failed');
      const { logger } = recordingLogger(false);
      const throwing: Record<string, unknown> = {
        ...(logger as unknown as Record<string, unknown>),
        child: () => throwing,
        warn: () => {
          throw error;
        },
      };
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({ a: 'ins v1 @4 #1', b: 'ins v1 @4 #1' });
        expectObservable(
          cold('ab|', m).pipe(reorderUntilTick({ logger: throwing as unknown as Logger })),
        ).toBe('-#', m, error);
      });
    });

    it('keeps its state per subscription', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({ a: 'ins v1 @3', t: 'tt @4', u: 'tt @2' });
        const operator = reorderUntilTick();
        expectObservable(cold('a-t---|', m).pipe(operator)).toBe('--(at)|', m);
        // another subscription through the same operator has not released 4 yet
        expectObservable(cold('u|', m).pipe(operator)).toBe('u|', m);
      });
    });
  });
});
