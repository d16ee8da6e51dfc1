import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';

import { messageId } from '../../lib/message/messageId.js';
import { parseWalMessage, walMessages } from '../../lib/testing/notation.js';
import { createWalTestScheduler, normalizeWalValues } from '../../lib/testing/scheduler.js';

describe('normalizeWalValues', () => {
  const m = parseWalMessage('ins v1 @3', 2);

  it('replaces a message by its canonical text', () => {
    expect(normalizeWalValues(m)).toBe('Insert v1 @3 #2');
  });

  it('replaces messages inside arrays and plain objects (frames, notifications)', () => {
    const frames = [
      { frame: 4, notification: { kind: 'N', value: m } },
      { frame: 5, notification: { kind: 'C' } },
    ];
    expect(normalizeWalValues(frames)).toEqual([
      { frame: 4, notification: { kind: 'N', value: 'Insert v1 @3 #2' } },
      { frame: 5, notification: { kind: 'C' } },
    ]);
    expect(normalizeWalValues([[m], { batch: [m, 1] }])).toEqual([
      ['Insert v1 @3 #2'],
      { batch: ['Insert v1 @3 #2', 1] },
    ]);
  });

  it('leaves primitives, class instances and look-alikes without a MessageId as they are', () => {
    const error = new Error('boom');
    const notAMessage = { type: 'Insert', timeTick: 3n, id: '2' };
    const id = messageId(2);
    for (const value of [undefined, null, 3, 'Insert v1 @3 #2', 3n, error, id]) {
      expect(normalizeWalValues(value)).toBe(value);
    }
    expect(normalizeWalValues(notAMessage)).toEqual(notAMessage);
  });

  it('does not modify its input', () => {
    const frame = { frame: 0, notification: { kind: 'N', value: m } };
    normalizeWalValues(frame);
    expect(frame.notification.value).toBe(m);
  });
});

describe('createWalTestScheduler', () => {
  it('returns an rxjs TestScheduler', () => {
    expect(createWalTestScheduler(() => true)).toBeInstanceOf(TestScheduler);
  });

  it('compares messages with notation strings', () => {
    const scheduler = createWalTestScheduler((actual, expected) =>
      expect(actual).toEqual(expected),
    );
    scheduler.run(({ cold, expectObservable }) => {
      const m = walMessages({ a: 'tt @100', b: 'ins v1 @103' });
      expectObservable(cold('a-b|', m)).toBe('a-b|', {
        a: 'TimeTick @100 #1',
        b: 'Insert v1 @103 #2',
      });
      expectObservable(cold('a-b|', m)).toBe('a-b|', { a: m.a, b: 'Insert v1 @103 #2' });
    });
  });

  it('hands both sides to the assertion already normalized', () => {
    const assertDeepEqual = jest.fn<void, [unknown, unknown]>();
    const scheduler = createWalTestScheduler(assertDeepEqual);
    scheduler.run(({ cold, expectObservable }) => {
      const m = walMessages({ a: 'ins v1 @3' });
      expectObservable(cold('a|', m)).toBe('a|', { a: m.a });
    });
    expect(assertDeepEqual).toHaveBeenCalledTimes(1);
    const [actual, expected] = assertDeepEqual.mock.calls[0] ?? [];
    expect(actual).toEqual([
      { frame: 0, notification: { kind: 'N', value: 'Insert v1 @3 #1', error: undefined } },
      { frame: 1, notification: { kind: 'C', value: undefined, error: undefined } },
    ]);
    expect(expected).toEqual(actual);
  });

  it('fails when a message differs from the expected notation', () => {
    const scheduler = createWalTestScheduler((actual, expected) =>
      expect(actual).toEqual(expected),
    );
    expect(() =>
      scheduler.run(({ cold, expectObservable }) => {
        const m = walMessages({ a: 'ins v1 @3' });
        expectObservable(cold('a|', m)).toBe('a|', { a: 'Insert v2 @3 #1' });
      }),
    ).toThrow(/Insert v2 @3 #1/);
  });

  it('fails when a message arrives at another frame', () => {
    const scheduler = createWalTestScheduler((actual, expected) =>
      expect(actual).toEqual(expected),
    );
    expect(() =>
      scheduler.run(({ cold, expectObservable }) => {
        const m = walMessages({ a: 'ins v1 @3' });
        expectObservable(cold('-a|', m)).toBe('a-|', m);
      }),
    ).toThrow();
  });

  it('compares values derived from messages too', () => {
    const scheduler = createWalTestScheduler((actual, expected) =>
      expect(actual).toEqual(expected),
    );
    scheduler.run(({ cold, expectObservable }) => {
      const m = walMessages({ a: 'ins v1 @3', b: 'tt @4' });
      expectObservable(cold('ab|', m).pipe(map((x) => [x, x.timeTick]))).toBe('xy|', {
        x: ['Insert v1 @3 #1', 3n],
        y: ['TimeTick @4 #2', 4n],
      });
    });
  });
});
