import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import pino from 'pino';
import {
  asyncScheduler,
  filter,
  firstValueFrom,
  timeout,
  type SchedulerAction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';

import { pauseFromFile, type PauseFileSubject } from '../../lib/config/pauseFromFile.js';
import { ConfigError } from '../../lib/errors.js';
import type { Logger } from '../../lib/observability/logger.js';
import { createInMemoryMetrics } from '../../lib/observability/metrics.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { createMemoryWal } from '../../lib/wal/memoryWal.js';

/** How long a test waits for a file-system event before failing. */
const EVENT_TIMEOUT_MS = 5000;

/** A pino logger writing into memory, with a way to wait for a line. */
function recordingLogger(): {
  logger: Logger;
  lines: { level: number; msg: string; reason?: string }[];
  waitFor(pattern: RegExp): Promise<void>;
} {
  const lines: { level: number; msg: string; reason?: string }[] = [];
  let waiters: { pattern: RegExp; resolve(): void }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const line = JSON.parse(chunk.toString()) as { level: number; msg: string; reason?: string };
      lines.push(line);
      waiters = waiters.filter((w) => {
        if (!w.pattern.test(line.msg)) return true;
        w.resolve();
        return false;
      });
      callback();
    },
  });
  const logger = pino({ level: 'debug' }, stream) as unknown as Logger;
  const waitFor = (pattern: RegExp): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no log line matching ${pattern}`)),
        EVENT_TIMEOUT_MS,
      );
      waiters.push({
        pattern,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  return { logger, lines, waitFor };
}

/** Resolves when the switch says `state` (at once when it already does). */
function until(pause$: PauseFileSubject, state: boolean): Promise<boolean> {
  return firstValueFrom(
    pause$.pipe(
      filter((v) => v === state),
      timeout(EVENT_TIMEOUT_MS),
    ),
  );
}

/** Polls a condition until it holds, failing after a bounded time. */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + EVENT_TIMEOUT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets handles closed by earlier tests finish closing (libuv closes them on a later turn). */
async function quiesce(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

function resources(type: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === type).length;
}

describe('pauseFromFile', () => {
  let dir: string;
  let file: string;
  const opened: PauseFileSubject[] = [];
  const open = (options?: Parameters<typeof pauseFromFile>[1]): PauseFileSubject => {
    const pause$ = pauseFromFile(file, { debounce: 10, ...options });
    opened.push(pause$);
    return pause$;
  };
  const write = (content: unknown): void =>
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxwal-pause-'));
    file = join(dir, 'pause.json');
  });

  afterEach(() => {
    for (const pause$ of opened.splice(0)) pause$.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('the initial state', () => {
    test('a missing file means not paused', () => {
      expect(open().getValue()).toBe(false);
    });

    test('{"pauseConsumption": true} pauses, false does not', () => {
      write({ pauseConsumption: true });
      expect(open().getValue()).toBe(true);
      write({ pauseConsumption: false, comment: 'other keys are ignored' });
      expect(open().getValue()).toBe(false);
    });

    test.each([
      ['bad JSON', '{"pauseConsumption": tru', /not JSON/],
      ['an empty file', '', /not JSON/],
      ['a wrong type', '{"pauseConsumption": "yes"}', /must be true or false \(got "yes"\)/],
      ['no key', '{}', /got nothing/],
      ['not an object', '[true]', /not a JSON object/],
    ])('%s is logged and gives options.initial (default true: never resume)', (_, content, why) => {
      write(content);
      const { logger, lines } = recordingLogger();
      expect(open({ logger }).getValue()).toBe(true);
      expect(open({ logger, initial: false }).getValue()).toBe(false);
      const errors = lines.filter((l) => l.level === 50);
      expect(errors).toHaveLength(2);
      expect(errors[0]?.msg).toMatch(/invalid pause file/);
      expect(errors[0]?.reason).toMatch(why);
    });

    test('a directory in the file’s place is invalid', () => {
      const { logger, lines } = recordingLogger();
      const sub = join(dir, 'sub');
      mkdtempSync(sub);
      const pause$ = pauseFromFile(dir, { logger });
      opened.push(pause$);
      expect(pause$.getValue()).toBe(true);
      expect(lines.find((l) => l.level === 50)?.reason).toMatch(/cannot read it/);
    });
  });

  test('follows writes, replacement by rename, deletion and re-creation; emits on change only', async () => {
    const pause$ = open();
    const seen: boolean[] = [];
    pause$.subscribe((v) => seen.push(v));

    write({ pauseConsumption: true });
    await until(pause$, true);
    write({ pauseConsumption: false });
    await until(pause$, false);

    const temporary = join(dir, 'pause.json.tmp');
    writeFileSync(temporary, JSON.stringify({ pauseConsumption: true }));
    renameSync(temporary, file); // how editors and config managers replace a file
    await until(pause$, true);

    unlinkSync(file);
    await until(pause$, false);

    write({ pauseConsumption: true });
    await until(pause$, true);

    expect(seen).toEqual([false, true, false, true, false, true]);
  });

  test('invalid contents keep the current state and are logged', async () => {
    write({ pauseConsumption: true });
    const { logger, waitFor } = recordingLogger();
    const pause$ = open({ logger });
    const seen: boolean[] = [];
    pause$.subscribe((v) => seen.push(v));

    const badJson = waitFor(/invalid pause file; keeping the current state/);
    write('{"pauseConsumption": fals');
    await badJson;
    expect(pause$.getValue()).toBe(true);

    const wrongType = waitFor(/invalid pause file; keeping the current state/);
    write({ pauseConsumption: 0 });
    await wrongType;
    expect(pause$.getValue()).toBe(true);

    write({ pauseConsumption: false });
    await until(pause$, false);
    expect(seen).toEqual([true, false]);
  });

  test('close() releases the watcher and a pending debounce timer, and completes', async () => {
    await quiesce();
    const watchersBefore = resources('FSEventWrap');
    const timersBefore = resources('Timeout');
    const pause$ = open({ debounce: '1h' });
    expect(resources('FSEventWrap')).toBe(watchersBefore + 1);
    let completed = false;
    pause$.subscribe({ complete: () => (completed = true) });

    write({ pauseConsumption: true }); // starts the debounce timer, which will not fire for 1h
    await eventually(() => resources('Timeout') > timersBefore, 'the debounce timer');

    pause$.close();
    expect(completed).toBe(true);
    // libuv closes a handle on the next turn of the loop
    await eventually(() => resources('FSEventWrap') === watchersBefore, 'the watcher to close');
    expect(resources('Timeout')).toBe(timersBefore);
    expect(pause$.getValue()).toBe(false); // the change was never read
    pause$.close(); // idempotent
  });

  test('aborting options.signal closes the switch; an aborted signal gives a closed one', async () => {
    write({ pauseConsumption: true });
    await quiesce();
    const watchersBefore = resources('FSEventWrap');
    const controller = new AbortController();
    const pause$ = open({ signal: controller.signal });
    expect(resources('FSEventWrap')).toBe(watchersBefore + 1);
    controller.abort();
    expect(pause$.isStopped).toBe(true);
    await eventually(() => resources('FSEventWrap') === watchersBefore, 'the watcher to close');

    const closed = open({ signal: controller.signal });
    expect(resources('FSEventWrap')).toBe(watchersBefore);
    expect(closed.isStopped).toBe(true);
    expect(closed.getValue()).toBe(true);
  });

  test('removing the directory stops following (logged) and releases the watcher', async () => {
    write({ pauseConsumption: true });
    await quiesce();
    const watchersBefore = resources('FSEventWrap');
    const { logger, waitFor } = recordingLogger();
    const pause$ = open({ logger });
    expect(pause$.getValue()).toBe(true);
    const stopped = waitFor(/directory was removed; no longer following/);
    rmSync(dir, { recursive: true });
    await stopped;
    await until(pause$, false); // the file went with it: not paused
    await eventually(() => resources('FSEventWrap') === watchersBefore, 'the watcher to close');
    expect(pause$.isStopped).toBe(false);
  });

  test('the debounce runs on the given scheduler', async () => {
    const delays: number[] = [];
    const scheduler = {
      now: () => asyncScheduler.now(),
      schedule<T>(
        work: (this: SchedulerAction<T>, state?: T) => void,
        delay?: number,
        state?: T,
      ): Subscription {
        delays.push(delay ?? 0);
        return asyncScheduler.schedule(work, delay, state);
      },
    } as SchedulerLike;
    const pause$ = open({ scheduler, debounce: '20ms' });
    write({ pauseConsumption: true });
    await until(pause$, true);
    expect(delays.length).toBeGreaterThan(0);
    expect(delays.every((d) => d === 20)).toBe(true);
  });

  test('bad arguments throw ConfigError', () => {
    expect(() => pauseFromFile('')).toThrow(ConfigError);
    expect(() => pauseFromFile(join(dir, 'missing-dir', 'pause.json'))).toThrow(/must exist/);
    expect(() => pauseFromFile(file, { debounce: 'soon' })).toThrow(ConfigError);
    expect(() => pauseFromFile(file, { initial: 'yes' as unknown as boolean })).toThrow(
      ConfigError,
    );
    expect(() => pauseFromFile(file, { signal: {} as AbortSignal })).toThrow(ConfigError);
    expect(() => pauseFromFile(file, { logger: {} as Logger })).toThrow(ConfigError);
    expect(() => pauseFromFile(file, null as unknown as object)).toThrow(ConfigError);
    expect(() => pauseFromFile(file, { scheduler: {} as unknown as SchedulerLike })).toThrow(
      ConfigError,
    );
  });

  test('scanWal with pause$ = pauseFromFile(...) starts paused and resumes when the file says false', async () => {
    write({ pauseConsumption: true });
    const wal = createMemoryWal({ channel: 'p0' });
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 1 });
    const pause$ = open();
    const metrics = createInMemoryMetrics();
    const seen: string[] = [];
    const sub = scanWal(wal, { vchannel: 'v1', pause$, metrics }).subscribe((m) =>
      seen.push(m.type),
    );
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: 2 });
    // paused at the start gate: the source is not even subscribed
    expect(metrics.snapshot()).toMatchObject({ paused: 1, scanners: { catchup: 0, tailing: 0 } });
    expect(seen).toEqual([]);

    write({ pauseConsumption: false });
    await until(pause$, false);
    await eventually(() => seen.filter((t) => t === 'Insert').length === 2, 'both inserts');
    expect(metrics.snapshot().paused).toBe(0);
    expect(metrics.snapshot().pauseDurationsMs).toHaveLength(1);
    sub.unsubscribe();
    await wal.close();
  });
});
