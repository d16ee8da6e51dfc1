// README example
import { BehaviorSubject } from 'rxjs';
import { scanWal } from '../../lib/index.js';
import { formatWalMessage, scriptedWal, VirtualClock } from '../../lib/testing/index.js';

it('a paused scanner resumes and delivers the backlog once, in tick order, then tails', async () => {
  const clock = new VirtualClock();
  const wal = scriptedWal(
    '(abt) 10ms (cds) 30ms (eu)', // the log grows at 0, 15 and 50 ms (a group takes its length)
    {
      a: 'ins v1 @2',
      b: 'ins v1 @1', // written after a, with a lower tick
      t: 'tt @3',
      c: 'ins v1 @5',
      d: 'ins v1 @4',
      s: 'tt @6',
      e: 'ins v1 @7',
      u: 'tt @8',
    },
    { writeAheadBuffer: true, scheduler: clock.scheduler }, // a writer's process: tailing possible
  );
  const pause$ = new BehaviorSubject(true);
  const seen: string[] = [];
  scanWal(wal, { vchannel: 'v1', pause$, scheduler: clock.scheduler }).subscribe((m) =>
    seen.push(formatWalMessage(m)),
  );

  await clock.advance(30);
  expect(seen).toEqual([]); // paused: the backlog waits in the log
  expect(wal.reads).toEqual([]); // not even read

  pause$.next(false);
  await clock.advance(1);
  expect(seen).toEqual([
    'Insert v1 @1 #2',
    'Insert v1 @2 #1',
    'TimeTick @3 #3',
    'Insert v1 @4 #5',
    'Insert v1 @5 #4',
    'TimeTick @6 #6',
  ]);

  await clock.advance(30); // the scanner now tails the write-ahead buffer
  expect(seen.slice(6)).toEqual(['Insert v1 @7 #7', 'TimeTick @8 #8']);
  expect(wal.reads).toHaveLength(1); // one catch-up pass, then the buffer: nothing twice
});
