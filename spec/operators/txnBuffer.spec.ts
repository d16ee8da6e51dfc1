import { EMPTY, NEVER, Observable, mergeMap, of, repeat, take } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';

import { createMessage } from '../../lib/message/createMessage.js';
import type { WalMessage } from '../../lib/message/message.js';
import { MAX_TIME_TICK, tso, type TimeTick } from '../../lib/message/tso.js';
import type { Logger } from '../../lib/observability/logger.js';
import {
  createInMemoryMetrics,
  type ScannerMetrics,
  type TxnOutcome,
} from '../../lib/observability/metrics.js';
import { txnBuffer } from '../../lib/operators/txnBuffer.js';
import { walMessages } from '../../lib/testing/notation.js';
import { createWalTestScheduler } from '../../lib/testing/scheduler.js';

interface LogEntry {
  readonly level: string;
  readonly fields: unknown;
  readonly msg: unknown;
}

/** A pino-shaped logger that records what it is given. */
function recordingLogger(): { logger: Logger; entries: LogEntry[]; bindings: unknown[] } {
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
    isLevelEnabled: (level: string) => level !== 'debug' && level !== 'trace',
  };
  return { logger: logger as unknown as Logger, entries, bindings };
}

function newScheduler(): TestScheduler {
  return createWalTestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A real hybrid time: 2025-01-01T12:00:00Z, logical 0 (reference § 8.3: `B` = current hybrid time). */
const B = tso.compose(Date.UTC(2025, 0, 1, 12, 0, 0), 0);
/** `B+x`, as the reference writes it: `addPhysicalDuration(B, x ms)`. */
const at = (ms: number): TimeTick => tso.addDuration(B, ms);

/** A metrics sink whose `observeTxn` throws for one outcome (and counts the others). */
function metricsThrowingOn(outcome: TxnOutcome, error: Error): ScannerMetrics {
  const inner = createInMemoryMetrics();
  return {
    ...inner,
    observeTxn: (o) => {
      if (o === outcome) throw error;
      inner.observeTxn(o);
    },
  };
}

describe('txnBuffer', () => {
  describe('reference § 8.3 txn_buffer_test part 1: non-txn and orphans', () => {
    it('call 1: three non-txn inserts at B pass, then the time tick B+1ms; no transaction opened', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          a: `ins v1 @${B}`,
          b: `ins v1 @${B}`,
          c: `ins v1 @${B}`,
          t: `tt @${at(1)}`,
        });
        expectObservable(cold('abct|', m).pipe(txnBuffer({ metrics }))).toBe('abct|', m);
      });
      expect(metrics.snapshot().txn).toEqual({
        autocommit: 3,
        committed: 0,
        rolledBack: 0,
        expired: 0,
        error: 0,
      });
      expect(metrics.snapshot().bytes.txnBuffer).toBe(0);
    });

    it.each([
      ['the default metrics', undefined],
      ['an in-memory sink', createInMemoryMetrics()],
    ])(
      'passes a begin and a commit without a transaction as auto-commits, around an open one (%s)',
      (_name, metrics) => {
        const m = walMessages({
          a: `begin:1 v1 @${B} keepalive=1s`,
          b: `begin v1 @${B}`,
          c: `ins:1 v1 @${B} keepalive=1s`,
          d: `commit v1 @${B}`,
          e: `commit:1 v1 @${B} keepalive=1s`,
          t: `tt @${at(1)}`,
        });
        const seen: string[] = [];
        of(m.a, m.b, m.c, m.d, m.e, m.t)
          .pipe(txnBuffer(metrics === undefined ? {} : { metrics }))
          .subscribe((out) => seen.push(`${out.type} #${out.id.key}`));
        expect(seen).toEqual(['BeginTxn #2', 'CommitTxn #4', 'Txn #5', 'TimeTick #6']);
        if (metrics !== undefined) {
          expect(metrics.snapshot().txn).toEqual({
            autocommit: 2,
            committed: 1,
            rolledBack: 0,
            expired: 0,
            error: 0,
          });
          expect(metrics.snapshot().bytes.txnBuffer).toBe(0);
        }
      },
    );

    it('call 2: an orphan body, a rollback and a commit of unknown txns are dropped; the two non-txn inserts pass', () => {
      const metrics = createInMemoryMetrics();
      const { logger, entries } = recordingLogger();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          a: `ins v1 @${B}`,
          b: `ins:1 v1 @${B} keepalive=1s`,
          c: `ins v1 @${B}`,
          d: `rollback:1 v1 @${B} keepalive=1s`,
          e: `commit:2 v1 @${B} keepalive=1s`,
          t: `tt @${at(1)}`,
        });
        expectObservable(cold('abcdet|', m).pipe(txnBuffer({ metrics, logger }))).toBe(
          'a-c--t|',
          m,
        );
      });
      expect(metrics.snapshot().txn).toEqual({
        autocommit: 2,
        committed: 0,
        rolledBack: 0,
        expired: 0,
        error: 0,
      });
      expect(metrics.snapshot().bytes.txnBuffer).toBe(0);
      expect(entries.map((e) => [e.level, e.msg, (e.fields as { id: string }).id])).toEqual([
        ['warn', 'body without an open transaction dropped', '2'],
        ['warn', 'commit without an open transaction ignored (may be a repeated commit)', '5'],
      ]);
    });
  });

  describe('reference § 8.3 txn_buffer_test part 2: uncommitted transaction (keepalive 201 ms), real hybrid ticks', () => {
    /** u1..u3 of the upstream "create uncommitted" helper, each call followed by its `ts` as a time tick. */
    function uncommitted(txnId: number): Record<'b' | 't' | 'x' | 'u' | 'p' | 'y' | 'v', string> {
      return {
        b: `begin:${txnId} v1 @${at(0)} keepalive=201ms`, // u1
        t: `tt @${at(1)}`,
        x: `ins:${txnId} v1 @${at(100)} keepalive=201ms size=10`, // u2
        u: `tt @${at(200)}`,
        p: `ins v1 @${at(250)}`, // u3
        y: `ins:${txnId} v1 @${at(300)} keepalive=201ms size=20`,
        v: `tt @${at(400)}`,
      };
    }
    const uncommittedSource = '   btxupyv';
    const uncommittedExpected = '  -t-up-v';

    it('commit (T=1) at B+500ms: one Txn of 2 bodies re-stamped to B+500ms, then the tick B+600ms', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          ...uncommitted(1),
          c: `commit:1 v1 @${at(500)} keepalive=201ms`,
          w: `tt @${at(600)}`,
        });
        const txn = `Txn:1 v1 @${at(500)} #8 [Insert:1 v1 @${at(500)} #3 lc=8, Insert:1 v1 @${at(500)} #6 lc=8]`;
        expectObservable(cold(`${uncommittedSource}cw|`, m).pipe(txnBuffer({ metrics }))).toBe(
          `${uncommittedExpected}Xw|`,
          { ...m, X: txn },
        );
      });
      expect(metrics.snapshot().txn).toEqual({
        autocommit: 1,
        committed: 1,
        rolledBack: 0,
        expired: 0,
        error: 0,
      });
      expect(metrics.snapshot().bytes.txnBuffer).toBe(0);
    });

    it('rollback (T=2) at B+500ms: nothing emitted, then the tick B+600ms', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          ...uncommitted(2),
          r: `rollback:2 v1 @${at(500)} keepalive=201ms`,
          w: `tt @${at(600)}`,
        });
        expectObservable(cold(`${uncommittedSource}rw|`, m).pipe(txnBuffer({ metrics }))).toBe(
          `${uncommittedExpected}-w|`,
          m,
        );
      });
      expect(metrics.snapshot().txn).toEqual({
        autocommit: 1,
        committed: 0,
        rolledBack: 1,
        expired: 0,
        error: 0,
      });
      expect(metrics.snapshot().bytes.txnBuffer).toBe(0);
    });

    it('expiry (T=2): still alive at the tick B+500ms, expired at B+501ms (deadline = B+300ms + 201ms)', () => {
      const metrics = createInMemoryMetrics();
      const { logger, entries } = recordingLogger();
      const scheduler = newScheduler();
      const samples: [number, number][] = [];
      scheduler.run(({ cold, expectObservable }) => {
        const m = walMessages({
          ...uncommitted(2),
          w: `tt @${at(500)}`,
          z: `tt @${at(501)}`,
          c: `commit:2 v1 @${at(502)} keepalive=201ms`,
        });
        // a late commit after the expiry finds nothing to commit
        expectObservable(
          cold(`${uncommittedSource}-w-z-c|`, m).pipe(txnBuffer({ metrics, logger })),
        ).toBe(`${uncommittedExpected}-w-z--|`, m);
        for (const frame of [7, 9, 11]) {
          scheduler.schedule(
            () =>
              samples.push([metrics.snapshot().txn.expired, metrics.snapshot().bytes.txnBuffer]),
            frame,
          );
        }
      });
      // begin size + 10 + 20 held until B+501ms
      const beginSize = createMessage({
        id: 1,
        type: 'BeginTxn',
        timeTick: 1,
        txn: { txnId: 2 },
      }).size;
      expect(samples).toEqual([
        [0, beginSize + 30],
        [0, beginSize + 30],
        [1, 0],
      ]);
      expect(metrics.snapshot().txn).toEqual({
        autocommit: 1,
        committed: 0,
        rolledBack: 0,
        expired: 1,
        error: 0,
      });
      expect(entries.filter((e) => e.level === 'info')).toEqual([
        { level: 'info', fields: { txnId: '2' }, msg: 'transaction expired and dropped' },
      ]);
    });
  });

  describe('reference § 8.3 [derived] extra txn cases', () => {
    it('duplicate begin: the first begin wins, one Txn with 1 body', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          b: 'begin:7 v1 @10',
          c: 'begin:7 v2 @11',
          x: 'ins:7 v1 @12',
          d: 'commit:7 v1 @13',
          t: 'tt @13',
        });
        expectObservable(cold('bcxdt|', m).pipe(txnBuffer({ metrics }))).toBe('---Xt|', {
          ...m,
          X: 'Txn:7 v1 @13 #4 [Insert:7 v1 @13 #3 lc=4]',
        });
      });
      expect(metrics.snapshot().txn.committed).toBe(1);
    });

    it('commit without begin: nothing emitted, nothing held', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({ d: 'commit:7 v1 @13', t: 'tt @13' });
        expectObservable(cold('dt|', m).pipe(txnBuffer({ metrics }))).toBe('-t|', m);
      });
      expect(metrics.snapshot().txn).toEqual({
        autocommit: 0,
        committed: 0,
        rolledBack: 0,
        expired: 0,
        error: 0,
      });
      expect(metrics.snapshot().bytes.txnBuffer).toBe(0);
    });

    it('late commit after expiry: nothing emitted, metric expired = 1', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const X = at(0);
        const m = walMessages({
          b: `begin:7 v1 @${X} keepalive=1ms`,
          t: `tt @${tso.addDuration(X, 1)}`,
          c: `commit:7 v1 @${tso.addDuration(X, 2)} keepalive=1ms`,
          u: `tt @${tso.addDuration(X, 2)}`,
        });
        expectObservable(cold('btcu|', m).pipe(txnBuffer({ metrics }))).toBe('-t-u|', m);
      });
      expect(metrics.snapshot().txn).toEqual({
        autocommit: 0,
        committed: 0,
        rolledBack: 0,
        expired: 1,
        error: 0,
      });
      expect(metrics.snapshot().bytes.txnBuffer).toBe(0);
    });

    it('commit in the same batch as the expiry time (keepalive 0): the commit wins over the sweep', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          b: 'begin:7 v1 @10 keepalive=0',
          c: 'commit:7 v1 @11 keepalive=0',
          t: 'tt @11',
        });
        expectObservable(cold('bct|', m).pipe(txnBuffer({ metrics }))).toBe('-Xt|', {
          ...m,
          X: 'Txn:7 v1 @11 #2 []',
        });
      });
      expect(metrics.snapshot().txn).toEqual({
        autocommit: 0,
        committed: 1,
        rolledBack: 0,
        expired: 0,
        error: 0,
      });
    });

    it('keepalive 0 expires at a time tick equal to the begin tick, before a later commit', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          b: 'begin:7 v1 @10 keepalive=0',
          t: 'tt @10',
          c: 'commit:7 v1 @11 keepalive=0',
          u: 'tt @11',
        });
        expectObservable(cold('btcu|', m).pipe(txnBuffer({ metrics }))).toBe('-t-u|', m);
      });
      expect(metrics.snapshot().txn).toEqual({
        autocommit: 0,
        committed: 0,
        rolledBack: 0,
        expired: 1,
        error: 0,
      });
    });

    it('Txn fields: id 7, tick 106, vchannel v1, body copy of id 5 at tick 106 with the commit last-confirmed id', () => {
      const received: WalMessage[] = [];
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          b: 'begin:7 v1 @101 #4',
          x: 'ins:7 v1 @104 #5',
          c: 'commit:7 v1 @106 #7 lc=4',
        });
        const result = cold('bxc|', m).pipe(txnBuffer());
        expectObservable(result).toBe('--X|', {
          X: 'Txn:7 v1 @106 #7 lc=4 [Insert:7 v1 @106 #5 lc=4]',
        });
        result.subscribe((out) => received.push(out));
      });
      expect(received).toHaveLength(1);
      const txn = received[0] as WalMessage;
      expect(txn.type).toBe('Txn');
      expect(txn.persisted).toBe(true);
    });

    it('bytes: begin [3] → body [5] → commit: gauge 3 → 8 → 0', () => {
      const metrics = createInMemoryMetrics();
      const scheduler = newScheduler();
      const samples: number[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        const m = walMessages({
          b: 'begin:7 v1 @1 size=3',
          x: 'ins:7 v1 @2 size=5',
          c: 'commit:7 v1 @3 size=4',
        });
        expectObservable(cold('b-x-c-|', m).pipe(txnBuffer({ metrics }))).toBe('----X-|', {
          X: 'Txn:7 v1 @3 #3 [Insert:7 v1 @3 #2 lc=3]',
        });
        for (const frame of [1, 3, 5])
          scheduler.schedule(() => samples.push(metrics.snapshot().bytes.txnBuffer), frame);
      });
      expect(samples).toEqual([3, 8, 0]);
    });
  });

  describe('expiry', () => {
    it('keepalive Infinity never expires, not even at the largest tick', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          b: 'begin:7 v1 @1 keepalive=Infinity',
          x: 'ins:7 v1 @2 keepalive=Infinity',
          t: `tt @${MAX_TIME_TICK}`,
          c: `commit:7 v1 @${MAX_TIME_TICK} keepalive=Infinity`,
        });
        expectObservable(cold('bxtc|', m).pipe(txnBuffer({ metrics }))).toBe('--tX|', {
          ...m,
          X: `Txn:7 v1 @${MAX_TIME_TICK} #4 [Insert:7 v1 @${MAX_TIME_TICK} #2 lc=4]`,
        });
      });
      expect(metrics.snapshot().txn.expired).toBe(0);
    });

    it('expires only the transactions whose deadline passed, and emits the tick after the sweep', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          a: `begin:1 v1 @${at(0)} keepalive=100ms`,
          b: `begin:2 v1 @${at(0)} keepalive=1s`,
          t: `tt @${at(100)}`,
          c: `commit:1 v1 @${at(150)} keepalive=100ms`,
          d: `commit:2 v1 @${at(150)} keepalive=1s`,
        });
        expectObservable(cold('abtcd|', m).pipe(txnBuffer({ metrics }))).toBe('--t-X|', {
          ...m,
          X: `Txn:2 v1 @${at(150)} #5 []`,
        });
      });
      expect(metrics.snapshot().txn).toEqual({
        autocommit: 0,
        committed: 1,
        rolledBack: 0,
        expired: 1,
        error: 0,
      });
    });
  });

  describe('metrics and bodies', () => {
    it('counts outcomes: autocommit per non-txn message (not per time tick), committed, rolledBack, expired', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          a: 'ins v1 @1',
          b: 'begin:1 v1 @2',
          c: 'commit:1 v1 @3',
          d: 'begin:2 v1 @4',
          e: 'rollback:2 v1 @5',
          f: 'begin:3 v1 @6 keepalive=0',
          t: 'tt @7',
          g: 'del v1 @8',
        });
        expectObservable(cold('abcdeftg|', m).pipe(txnBuffer({ metrics }))).toBe('a-X---tg|', {
          ...m,
          X: 'Txn:1 v1 @3 #3 []',
        });
      });
      expect(metrics.snapshot().txn).toEqual({
        autocommit: 2,
        committed: 1,
        rolledBack: 1,
        expired: 1,
        error: 0,
      });
      expect(metrics.snapshot().bytes.txnBuffer).toBe(0);
    });

    it('drops bodies without a begin and warns', () => {
      const { logger, entries, bindings } = recordingLogger();
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          x: 'ins:9 v1 @1',
          b: 'begin:7 v1 @2',
          y: 'del:8 v1 @3',
          c: 'commit:7 v1 @4',
        });
        expectObservable(cold('xbyc|', m).pipe(txnBuffer({ logger }))).toBe('---X|', {
          X: 'Txn:7 v1 @4 #4 []',
        });
      });
      expect(entries).toEqual([
        {
          level: 'warn',
          fields: { id: '1', type: 'Insert', timeTick: '1', vchannel: 'v1' },
          msg: 'body without an open transaction dropped',
        },
        {
          level: 'warn',
          fields: { id: '3', type: 'Delete', timeTick: '3', vchannel: 'v1' },
          msg: 'body without an open transaction dropped',
        },
      ]);
      expect(bindings).toEqual([{ component: 'txnBuffer' }]);
    });

    it('accepts a body of another vchannel; the Txn takes the begin vchannel', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          b: 'begin:7 v1 @1',
          x: 'ins:7 v2 @2',
          y: 'ins:7 @3',
          c: 'commit:7 v1 @4',
        });
        expectObservable(cold('bxyc|', m).pipe(txnBuffer())).toBe('---X|', {
          X: 'Txn:7 v1 @4 #4 [Insert:7 v2 @4 #2 lc=4, Insert:7 @4 #3 lc=4]',
        });
      });
    });

    it('returns the txn byte gauge to 0 when the source completes with transactions open', () => {
      const metrics = createInMemoryMetrics();
      const scheduler = newScheduler();
      const samples: number[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        const m = walMessages({ b: 'begin:7 v1 @1 size=3', x: 'ins:7 v1 @2 size=5' });
        expectObservable(cold('b-x-|', m).pipe(txnBuffer({ metrics }))).toBe('----|');
        scheduler.schedule(() => samples.push(metrics.snapshot().bytes.txnBuffer), 3);
      });
      expect(samples).toEqual([8]);
      expect(metrics.snapshot().bytes.txnBuffer).toBe(0);
    });

    it('returns the txn byte gauge to 0 when unsubscribed or errored with transactions open', () => {
      const metrics = createInMemoryMetrics();
      const error = new Error('read failed');
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({
          b: 'begin:7 v1 @1 size=3',
          x: 'ins:7 v1 @2 size=5',
          c: 'begin:8 v1 @3 size=2',
        });
        expectObservable(cold('b-x-----|', m).pipe(txnBuffer({ metrics })), '^----!').toBe('-');
        expectObservable(cold('c-#', m, error).pipe(txnBuffer({ metrics }))).toBe(
          '--#',
          undefined,
          error,
        );
      });
      expect(metrics.snapshot().bytes.txnBuffer).toBe(0);
    });
  });

  describe('rxjs operator checklist', () => {
    it('should complete on an empty source', () => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<WalMessage>('|');
        expectObservable(source.pipe(txnBuffer())).toBe('|');
        expectSubscriptions(source.subscriptions).toBe('(^!)');
        expectObservable(EMPTY.pipe(txnBuffer())).toBe('|');
      });
    });

    it('should not complete on a never source', () => {
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold<WalMessage>('-');
        expectObservable(source.pipe(txnBuffer()), '^----!').toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^----!');
        expectObservable(NEVER.pipe(txnBuffer())).toBe('-');
      });
    });

    it('should pass a source error through', () => {
      const error = new Error('boom');
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const m = walMessages({ a: 'ins v1 @1', b: 'begin:7 v1 @2' });
        const source = cold('a-b-#', m, error);
        expectObservable(source.pipe(txnBuffer())).toBe('a---#', m, error);
        expectSubscriptions(source.subscriptions).toBe('^---!');
      });
    });

    it('should stop listening to a synchronous observable when unsubscribed', () => {
      const sideEffects: number[] = [];
      const synchronous = new Observable<WalMessage>((subscriber) => {
        for (let i = 1; !subscriber.closed && i <= 10; i++) {
          sideEffects.push(i);
          subscriber.next(createMessage({ id: i, type: 'Insert', timeTick: i, vchannel: 'v1' }));
        }
      });
      const received: string[] = [];
      synchronous.pipe(txnBuffer(), take(3)).subscribe((m) => received.push(m.id.key));
      expect(received).toEqual(['1', '2', '3']);
      expect(sideEffects).toEqual([1, 2, 3]);
    });

    it('should not break unsubscription chains when unsubscribed explicitly', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const m = walMessages({
          a: 'ins v1 @1',
          b: 'begin:7 v1 @2 size=6',
          c: 'tt @3',
          d: 'ins v1 @4',
        });
        const source = hot('  --a--b--c--d--|', m);
        const sourceSubs = '  ^--------!     ';
        const expected = '    --a-----c-     ';
        const unsub = '       ---------!     ';
        const result = source.pipe(
          mergeMap((x) => of(x)),
          txnBuffer({ metrics }),
          mergeMap((x) => of(x)),
        );
        expectObservable(result, unsub).toBe(expected, m);
        expectSubscriptions(source.subscriptions).toBe(sourceSubs);
      });
      expect(metrics.snapshot().bytes.txnBuffer).toBe(0);
    });

    it('should start fresh on re-subscription (repeat)', () => {
      const metrics = createInMemoryMetrics();
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        // if the open transaction 7 leaked into the second subscription, its commit would emit a Txn there
        const m = walMessages({
          a: 'ins v1 @0 #9',
          c: 'commit:7 v1 @3 #3',
          b: 'begin:7 v1 @1 #1',
          x: 'ins:7 v1 @2 #2',
        });
        const source = cold('acbx|', m);
        expectObservable(source.pipe(txnBuffer({ metrics }), repeat(2))).toBe('a---a---|', m);
        expectSubscriptions(source.subscriptions).toBe(['^---!', '----^---!']);
      });
      expect(metrics.snapshot().txn.committed).toBe(0);
      expect(metrics.snapshot().bytes.txnBuffer).toBe(0);
    });

    it('should turn a throwing user callback (metrics sink on autocommit) into an error notification', () => {
      const error = new Error('metrics sink failed');
      newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const m = walMessages({ t: 'tt @1', a: 'ins v1 @2', u: 'tt @3' });
        const source = cold('t-a-u|', m);
        expectObservable(
          source.pipe(txnBuffer({ metrics: metricsThrowingOn('autocommit', error) })),
        ).toBe('t-#', m, error);
        expectSubscriptions(source.subscriptions).toBe('^-!');
      });
    });

    it('should turn a metrics sink throwing on commit into an error notification, not a silently dropped txn', () => {
      const error = new Error('metrics sink failed');
      const metrics = metricsThrowingOn('committed', error);
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({ b: 'begin:7 v1 @1', c: 'commit:7 v1 @2', t: 'tt @3' });
        expectObservable(cold('bct|', m).pipe(txnBuffer({ metrics }))).toBe('-#', m, error);
      });
    });

    it('should turn a metrics sink throwing on expiry into an error notification', () => {
      const error = new Error('metrics sink failed');
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({ b: 'begin:7 v1 @1 keepalive=0', t: 'tt @1' });
        expectObservable(
          cold('bt|', m).pipe(txnBuffer({ metrics: metricsThrowingOn('expired', error) })),
        ).toBe('-#', m, error);
      });
    });

    it('keeps its state per subscription', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const m = walMessages({ b: 'begin:7 v1 @1', c: 'commit:7 v1 @2' });
        const operator = txnBuffer();
        expectObservable(cold('b---|', m).pipe(operator)).toBe('----|');
        // the begin seen by the first subscription is not open in the second
        expectObservable(cold('-c-|', m).pipe(operator)).toBe('---|');
      });
    });
  });
});
