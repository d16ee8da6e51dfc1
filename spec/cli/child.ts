import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'lib/cli/main.ts');

/** How a child `rxwal` ended and everything it printed. */
export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * A running `rxwal` child process (the real command, through tsx). Its stdin gets `input` and is
 * closed, unless `input` is `'open'`: then the test writes to `child.stdin` and ends it.
 */
export class Rxwal {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly finished: Promise<Finished>;
  private readonly waiters = new Set<() => void>();

  constructor(args: string[], input?: string | Buffer | 'open') {
    this.child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      this.wake();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.wake();
    });
    // a child that exits before reading all of its input closes the pipe: not the test's error
    this.child.stdin?.on('error', () => undefined);
    if (input !== 'open') this.child.stdin?.end(input ?? '');
    this.finished = new Promise((resolveFinished) =>
      this.child.on('close', (code, signal) =>
        resolveFinished({ code, signal, stdout: this.stdout, stderr: this.stderr }),
      ),
    );
  }

  /** Writes to the child's stdin (opened with `'open'`). */
  write(text: string | Buffer): void {
    this.child.stdin?.write(text);
  }

  /**
   * Resolves when the output so far satisfies `predicate` (checked at each chunk). A deadline for
   * failing, not a wait for success: after `ms` the child is killed and the wait rejects with what
   * it printed, so that a hung child fails its test instead of holding jest.
   */
  waitFor(
    predicate: (out: { stdout: string; stderr: string }) => boolean,
    ms = 30_000,
  ): Promise<void> {
    return new Promise((resolveWait, rejectWait) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        this.child.kill('SIGKILL');
        rejectWait(new Error(`waited ${ms} ms; stdout: ${this.stdout}; stderr: ${this.stderr}`));
      }, ms);
      const check = (): void => {
        if (!predicate(this)) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolveWait();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The child's end; after `ms` it is killed and this rejects with what it printed. */
  async exitWithin(ms = 30_000): Promise<Finished> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(
          new Error(`still running after ${ms} ms; stdout: ${this.stdout}; stderr: ${this.stderr}`),
        );
      }, ms);
    });
    try {
      return await Promise.race([this.finished, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Runs `rxwal` with `input` on stdin; resolves when it has exited. */
export const rxwal = (args: string[], input?: string | Buffer): Promise<Finished> =>
  new Rxwal(args, input).finished;

/** The JSON objects of a JSON-lines text. */
export const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
