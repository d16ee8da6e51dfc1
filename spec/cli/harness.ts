import { PassThrough, Writable } from 'node:stream';

import { createMemoryWal, type MemoryWal } from '../../lib/wal/memoryWal.js';
import type { CliDeps, CliWal } from '../../lib/cli/deps.js';
import { MissingWalError } from '../../lib/cli/errors.js';
import { run } from '../../lib/cli/run.js';

/** A writable that keeps what was written. */
export class Captured extends Writable {
  text = '';

  constructor(options: { highWaterMark?: number; delayMs?: number } = {}) {
    super({
      highWaterMark: options.highWaterMark ?? 16 * 1024,
      decodeStrings: false,
      write: (chunk: string | Buffer, _encoding, done) => {
        this.text += chunk.toString();
        for (const waiter of [...this.waiters]) waiter();
        if (options.delayMs === undefined) done();
        else if (options.delayMs === 0) setImmediate(done);
        else setTimeout(done, options.delayMs);
      },
    });
  }

  private readonly waiters = new Set<() => void>();

  /** Resolves when what was written satisfies `predicate` (checked at each write). */
  waitFor(predicate: (text: string) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!predicate(this.text)) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  get lines(): string[] {
    return this.text.split('\n').filter((line) => line !== '');
  }
}

const created = new Set<MemoryWal>();

/** Closes every WAL the harnesses made or were given (their writers keep timers): `afterEach`. */
export async function closeHarnessWals(): Promise<void> {
  const wals = [...created];
  created.clear();
  await Promise.all(wals.map((wal) => wal.close()));
}

/** An in-process `rxwal` whose files are memory WALs: `wals['log.db']`. */
export interface Harness {
  wals: Map<string, MemoryWal>;
  opened: { path: string; readOnly: boolean; payloadCodec?: string }[];
  closed: string[];
  stdout: Captured;
  stderr: Captured;
  stdin: PassThrough;
  abort: AbortController;
  deps: CliDeps;
  /** Runs the command line; resolves its exit code. */
  run(...argv: string[]): Promise<number>;
}

/** A harness; `wal` becomes the file `log.db`. Opening a missing path read-only fails as rxwal does. */
export function harness(
  options: { wal?: MemoryWal; isTTY?: boolean; stdout?: Captured } = {},
): Harness {
  const wals = new Map<string, MemoryWal>();
  if (options.wal !== undefined) {
    wals.set('log.db', options.wal);
    created.add(options.wal);
  }
  const h: Harness = {
    wals,
    opened: [],
    closed: [],
    stdout: options.stdout ?? new Captured(),
    stderr: new Captured(),
    stdin: new PassThrough(),
    abort: new AbortController(),
    deps: undefined as unknown as CliDeps,
    run: (...argv) => run(argv, h.deps),
  };
  h.deps = {
    openWal: async (path, openOptions) => {
      h.opened.push({ path, ...openOptions });
      let wal = wals.get(path);
      if (wal === undefined) {
        if (openOptions.readOnly) throw new MissingWalError(path);
        wal = createMemoryWal({ channel: path });
        wals.set(path, wal);
        created.add(wal);
      }
      // each open is a connection: closing it leaves the log for the next command
      const connection = Object.create(wal) as CliWal;
      connection.close = async () => void h.closed.push(path);
      return connection;
    },
    stdout: h.stdout,
    stderr: h.stderr,
    stdin: h.stdin,
    isTTY: options.isTTY ?? false,
    signal: h.abort.signal,
    version: '9.9.9-test',
  };
  return h;
}
