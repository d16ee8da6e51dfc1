import { of, repeat, take, tap, throwError, NEVER, EMPTY, type Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';

import { checkpointOf, type Checkpoint } from '../../lib/checkpoint/checkpoint.js';
import { resumeAfter } from '../../lib/checkpoint/resumeAfter.js';
import { ConfigError } from '../../lib/errors.js';
import type { WalMessage } from '../../lib/message/message.js';
import { walMessages } from '../../lib/testing/notation.js';
import { createWalTestScheduler } from '../../lib/testing/scheduler.js';

const m = walMessages({
  a: 'ins v1 @3 #5',
  t: 'tt @4 #6',
  b: 'ins v1 @4 #7',
  c: 'ins v1 @5 #8',
  n: 'tt @6 #8 np',
  u: 'tt @7 #9',
});
const at = (key: keyof typeof m): Checkpoint => checkpointOf(m[key] as WalMessage);

describe('resumeAfter', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createWalTestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  test('drops everything at or before the checkpoint in (tick, id) order, passes the rest', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('a-t-b-c-n-u|', m).pipe(resumeAfter(at('t')))).toBe('----b-c-n-u|', m);
    });
  });

  test('equal ticks are told apart by id', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('a-t-b-c|', m).pipe(resumeAfter(at('b')))).toBe('------c|', m);
    });
  });

  test('a not-persisted tick reusing an older id is placed by its tick', () => {
    // n reuses id 8 (c's) at a later tick: after c, before u
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('c-n-u|', m).pipe(resumeAfter(at('c')))).toBe('--n-u|', m);
      expectObservable(cold('c-n-u|', m).pipe(resumeAfter(at('n')))).toBe('----u|', m);
    });
  });

  test('passes errors and completion through; empty and never stay so', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('a-#', m).pipe(resumeAfter(at('t')))).toBe('--#');
      expectObservable((EMPTY as Observable<WalMessage>).pipe(resumeAfter(at('t')))).toBe('|');
      expectObservable((NEVER as Observable<WalMessage>).pipe(resumeAfter(at('t')))).toBe('');
    });
    const errors: unknown[] = [];
    throwError(() => new Error('boom'))
      .pipe(resumeAfter(at('t')))
      .subscribe({ error: (e: unknown) => errors.push(e) });
    expect(errors).toHaveLength(1);
  });

  test('should stop listening to a synchronous observable when unsubscribed, and starts fresh on re-subscription', () => {
    let emitted = 0;
    const source = (of(m.a, m.b, m.c, m.u) as Observable<WalMessage>).pipe(tap(() => emitted++));
    const got: string[] = [];
    source.pipe(resumeAfter(at('a')), take(1), repeat(2)).subscribe((x) => got.push(x.id.key));
    expect(got).toEqual(['7', '7']);
    // each subscription: a (dropped), then b, where take(1) unsubscribes; c and u never emitted
    expect(emitted).toBe(4);
  });

  test('rejects a bad checkpoint with a ConfigError naming resumeFrom', () => {
    expect(() => resumeAfter({ timeTick: 1 } as unknown as Checkpoint)).toThrow(ConfigError);
    expect(() => resumeAfter({ timeTick: 1 } as unknown as Checkpoint)).toThrow(/resumeFrom/);
  });
});
