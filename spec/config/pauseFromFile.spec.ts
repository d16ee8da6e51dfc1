import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
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
import { ConfigError, WalError } from '../../lib/errors.js';
import type { Logger } from '../../lib/observability/logger.js';
import { createInMemoryMetrics } from '../../lib/observability/metrics.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { createMemoryWal } from '../../lib/wal/memoryWal.js';
import { VirtualClock } from '../../lib/testing/index.js';

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

    test('a directory in the file’s place is refused with ConfigError', () => {
      expect(() => pauseFromFile(dir)).toThrow(ConfigError);
      expect(() => pauseFromFile(dir)).toThrow(/is a directory, not a regular file/);
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
    // The switch's own timers, each a real one of asyncScheduler: the process-wide count of
    // Timeout handles also moves with timers other specs left running, so it cannot tell ours.
    const timers: Subscription[] = [];
    const scheduler: SchedulerLike = {
      now: () => asyncScheduler.now(),
      schedule: <T>(
        work: (this: SchedulerAction<T>, state?: T) => void,
        delay?: number,
        state?: T,
      ): Subscription => {
        const action = asyncScheduler.schedule(work, delay, state);
        timers.push(action);
        return action;
      },
    };
    const pause$ = open({ debounce: '1h', scheduler });
    expect(resources('FSEventWrap')).toBe(watchersBefore + 1);
    expect(timers.map((t) => t.closed)).toEqual([false]); // the poll
    let completed = false;
    pause$.subscribe({ complete: () => (completed = true) });

    write({ pauseConsumption: true }); // starts the debounce timer, which will not fire for 1h
    // (one write can be seen as two changes: each restarts the debounce, closing the one before)
    const debounces = (): Subscription[] => timers.slice(1);
    await eventually(() => debounces().some((t) => !t.closed), 'the debounce timer');
    expect(timers[0]?.closed).toBe(false); // the poll goes on

    pause$.close();
    expect(completed).toBe(true);
    expect(timers.filter((t) => !t.closed).length).toBe(0); // the poll and the debounce
    // libuv closes a handle on the next turn of the loop
    await eventually(() => resources('FSEventWrap') === watchersBefore, 'the watcher to close');
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
    const stopped = waitFor(/directory was removed; watching stopped, polling goes on/);
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
    const pause$ = open({ scheduler, debounce: '20ms', pollInterval: '5s' });
    write({ pauseConsumption: true });
    await until(pause$, true);
    expect(delays[0]).toBe(5_000); // the poll
    expect(delays.length).toBeGreaterThan(1);
    expect(delays.slice(1).every((d) => d === 20)).toBe(true);
  });

  test('bad arguments throw ConfigError', () => {
    expect(() => pauseFromFile('')).toThrow(ConfigError);
    expect(() => pauseFromFile(join(dir, 'missing-dir', 'pause.json'))).toThrow(/must exist/);
    expect(() => pauseFromFile(file, { debounce: 'soon' })).toThrow(ConfigError);
    expect(() => pauseFromFile(file, { pollInterval: 0 })).toThrow(/pollInterval/);
    expect(() => pauseFromFile(file, { pollInterval: 'often' })).toThrow(/pollInterval/);
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
    // paused at the start gate: the source is not even subscribed, but the scanner is counted
    // (as catch-up, reference § 7.3), so `paused` never exceeds the scanners
    expect(metrics.snapshot()).toMatchObject({ paused: 1, scanners: { catchup: 1, tailing: 0 } });
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

function mkfifo(path: string): void {
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${String(made.stderr)}`);
}

describe('pauseFromFile: only regular files (issue 9 item 11)', () => {
  let dir: string;
  const opened: PauseFileSubject[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxwal-pause-kind-'));
  });
  afterEach(() => {
    for (const pause$ of opened.splice(0)) pause$.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a named pipe as the pause file is refused at once, in a process of its own (it used to block)', () => {
    const fifo = join(dir, 'pause.json');
    mkfifo(fifo);
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'support', 'openPauseFile.ts'), fifo],
      { cwd: join(__dirname, '..', '..'), encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.signal).toBeNull(); // not killed by the timeout: it did not block
    expect(run.stdout).toMatch(
      /ConfigError: invalid path: is a named pipe \(FIFO\), not a regular file \(or a symlink to one\): reading it would block the process/,
    );
    expect(run.status).toBe(1);
  }, 60_000);

  test.each([
    ['a symlink to a named pipe', 'a named pipe (FIFO)', (target: string) => mkfifo(target)],
    ['a symlink to a directory', 'a directory', (target: string) => mkdirSync(target)],
    ['a symlink to a character device', 'a character device', () => '/dev/null'],
  ])('%s is refused with ConfigError naming what it is', (_name, kind, make) => {
    const target = join(dir, 'target');
    const made = make(target);
    const file = join(dir, 'pause.json');
    symlinkSync(typeof made === 'string' ? made : target, file);
    expect(() => pauseFromFile(file)).toThrow(ConfigError);
    expect(() => pauseFromFile(file)).toThrow(`is ${kind}, not a regular file`);
  });

  test('a socket is refused', async () => {
    const socket = join(dir, 'pause.sock');
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      expect(() => pauseFromFile(socket)).toThrow(/is a socket, not a regular file/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a symlink to a regular file is followed; a dangling one means missing', () => {
    writeFileSync(join(dir, 'real.json'), JSON.stringify({ pauseConsumption: true }));
    symlinkSync(join(dir, 'real.json'), join(dir, 'pause.json'));
    symlinkSync(join(dir, 'nowhere.json'), join(dir, 'dangling.json'));
    const followed = pauseFromFile(join(dir, 'pause.json'), { pollInterval: Infinity });
    const dangling = pauseFromFile(join(dir, 'dangling.json'), { pollInterval: Infinity });
    opened.push(followed, dangling);
    expect(followed.getValue()).toBe(true);
    expect(dangling.getValue()).toBe(false);
  });

  test('a named pipe that takes the file’s place later is logged, never read, and keeps the state', async () => {
    const file = join(dir, 'pause.json');
    writeFileSync(file, JSON.stringify({ pauseConsumption: true }));
    const { logger, waitFor } = recordingLogger();
    const pause$ = pauseFromFile(file, { logger, debounce: 10 });
    opened.push(pause$);
    const refused = waitFor(/invalid pause file; keeping the current state/);
    const fifo = join(dir, 'fifo');
    mkfifo(fifo);
    renameSync(fifo, file);
    await refused; // the read did not block: the worker is still running
    expect(pause$.getValue()).toBe(true);

    const temporary = join(dir, 'pause.json.tmp');
    writeFileSync(temporary, JSON.stringify({ pauseConsumption: false }));
    renameSync(temporary, file);
    await until(pause$, false);
  }, 30_000);
});

describe('pauseFromFile: symlinks and directory swaps (issue 9 item 17)', () => {
  let dir: string;
  const opened: PauseFileSubject[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxwal-pause-k8s-'));
  });
  afterEach(() => {
    for (const pause$ of opened.splice(0)) pause$.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes a timestamped data directory as the kubelet's atomic writer does, and returns its name. */
  const dataDir = (stamp: string, paused: boolean): string => {
    const name = `..2026_11_30_${stamp}.000000001`;
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'pause.json'), JSON.stringify({ pauseConsumption: paused }));
    return name;
  };
  /** Points `..data` at `name` the kubelet's way: a new symlink renamed over the old one. */
  const swapData = (name: string, old?: string): void => {
    symlinkSync(name, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    if (old !== undefined) rmSync(join(dir, old), { recursive: true });
  };

  test('follows a Kubernetes ConfigMap update (..data swapped by rename) from true to false and back', async () => {
    const first = dataDir('15_00_00', true);
    swapData(first);
    symlinkSync(join('..data', 'pause.json'), join(dir, 'pause.json'));
    // the poll is off: the directory watcher alone must see the swap
    const pause$ = pauseFromFile(join(dir, 'pause.json'), { debounce: 10, pollInterval: Infinity });
    opened.push(pause$);
    expect(pause$.getValue()).toBe(true);

    const second = dataDir('15_01_00', false);
    swapData(second, first);
    await until(pause$, false);

    const third = dataDir('15_02_00', true);
    swapData(third, second);
    await until(pause$, true);
  }, 30_000);

  test('the poll sees a change behind a symlink into a directory nobody watches', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'rxwal-pause-target-'));
    try {
      const target = join(elsewhere, 'pause.json');
      writeFileSync(target, JSON.stringify({ pauseConsumption: true }));
      symlinkSync(target, join(dir, 'pause.json'));
      const clock = new VirtualClock();
      const pause$ = pauseFromFile(join(dir, 'pause.json'), {
        debounce: 10,
        pollInterval: '1s',
        scheduler: clock.scheduler,
      });
      opened.push(pause$);
      writeFileSync(target, JSON.stringify({ pauseConsumption: false, padding: 'a new size' }));
      await clock.advance(990, 10);
      expect(pause$.getValue()).toBe(true); // no poll yet, and no event in the watched directory
      await clock.advance(20, 10); // the poll at 1 s, its debounced read at 1.01 s
      expect(pause$.getValue()).toBe(false);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  }, 30_000);

  test('a removed directory is watched again once it is back', async () => {
    const file = join(dir, 'pause.json');
    writeFileSync(file, JSON.stringify({ pauseConsumption: true }));
    const { logger, waitFor } = recordingLogger();
    const clock = new VirtualClock();
    const pause$ = pauseFromFile(file, { logger, debounce: 10, scheduler: clock.scheduler });
    opened.push(pause$);
    const stopped = waitFor(/directory was removed; watching stopped/);
    rmSync(dir, { recursive: true });
    await stopped;
    await clock.advance(10);
    expect(pause$.getValue()).toBe(false); // the file went with it

    mkdirSync(dir);
    writeFileSync(file, JSON.stringify({ pauseConsumption: true }));
    const again = waitFor(/watching the pause file again/);
    await clock.advance(1_000, 10);
    await again;
    await clock.advance(10);
    expect(pause$.getValue()).toBe(true);
    // and the new watcher sees the next change
    writeFileSync(file, JSON.stringify({ pauseConsumption: false }));
    await eventually(() => clock.pendingTimers > 1, 'the debounce after an event'); // poll + debounce
    await clock.advance(10);
    expect(pause$.getValue()).toBe(false);
  }, 30_000);
});

describe('pauseFromFile without Node built-ins (issue 10: the root entry loads none)', () => {
  test('a runtime without process.getBuiltinModule gets a clear error', () => {
    const original = Object.getOwnPropertyDescriptor(process, 'getBuiltinModule');
    Object.defineProperty(process, 'getBuiltinModule', { value: undefined, configurable: true });
    try {
      expect(() => pauseFromFile('pause.json')).toThrow(WalError);
      expect(() => pauseFromFile('pause.json')).toThrow(/needs Node\.js ≥ 20\.16/);
    } finally {
      if (original !== undefined) Object.defineProperty(process, 'getBuiltinModule', original);
    }
  });

  test('the module imports no Node built-in at load time (types only)', () => {
    const source = readFileSync(join(__dirname, '../../lib/config/pauseFromFile.ts'), 'utf8');
    const imports = [...source.matchAll(/^import (type )?.* from '(node:[^']+)';$/gm)];
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.every((m) => m[1] === 'type ')).toBe(true);
  });
});
