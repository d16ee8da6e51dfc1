import { Waiters } from '../../lib/internal/waiters.js';
import { watch } from '../support/promises.js';
import { settle } from '../../lib/testing/index.js';

describe('Waiters', () => {
  test('wakes each waiting callback once, not the ones deleted before', () => {
    const waiters = new Waiters();
    const woken: string[] = [];
    const b = (): void => void woken.push('b');
    waiters.add(() => woken.push('a'));
    waiters.add(b);
    waiters.delete(b);
    expect(waiters.size).toBe(1);
    waiters.wakeAll();
    waiters.wakeAll();
    expect(woken).toEqual(['a']);
    expect(waiters.size).toBe(0);
  });

  test('a callback added while waking waits for the next wakeAll', () => {
    const waiters = new Waiters();
    const woken: number[] = [];
    waiters.add(() => {
      woken.push(1);
      waiters.add(() => woken.push(2));
    });
    waiters.wakeAll();
    expect(woken).toEqual([1]);
    waiters.wakeAll();
    expect(woken).toEqual([1, 2]);
  });

  test('next() resolves on the next wakeAll', async () => {
    const waiters = new Waiters();
    const next = watch(waiters.next());
    await settle();
    expect(next.state).toBe('pending');
    waiters.wakeAll();
    await settle();
    expect(next.state).toBe('resolved');
  });
});
