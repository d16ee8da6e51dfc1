/** Runs the `rxwal` command from source (tsx) in a child process, for the NATS CLI specs. */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

/** The repository's root, where the command runs. */
export const ROOT = resolve(__dirname, '../../..');
/** The command's entry point. */
export const MAIN = join(ROOT, 'lib/cli/main.ts');

/** What a finished run printed and how it exited. */
export interface RxwalRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `rxwal ...args` with `input` on stdin and `env` over this process's environment. */
export function rxwal(
  args: readonly string[],
  input: string,
  env: Record<string, string>,
): Promise<RxwalRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(input);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
