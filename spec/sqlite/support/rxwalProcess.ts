/**
 * `rxwal` as a child process for the file-fault specs: optionally as user `nobody` (the specs run
 * as root, who passes every permission check), inside a private mount namespace with a directory
 * bind-mounted read-only or a small tmpfs mounted on it (a disk that fills up), or with a script
 * preloaded that hides better-sqlite3's native binding.
 * Every child is killed after `timeoutMs`, so a hang shows up as `code: null`, never as a
 * stuck test.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const MAIN = join(ROOT, 'lib/cli/main.ts');

/** How the child is run. */
export interface RunAs {
  /** stdin; closed at once when absent. */
  input?: string;
  /** Run as `nobody` (uid 65534) with `setpriv`. */
  asNobody?: boolean;
  /** Bind-mount this directory read-only (a read-only file system) in the child's namespace. */
  readOnlyMount?: string;
  /** Mount a tmpfs of `size` bytes (`mount`'s `size=`, e.g. `'512k'`) on `dir` in the child's namespace. */
  smallDisk?: { dir: string; size: string };
  /** Write `input` but leave stdin open: the child must end by itself (else it is killed). */
  keepStdinOpen?: boolean;
  /** A script for `node --require`. */
  preload?: string;
  /** Killed (SIGKILL) after this long. Default 30 s. */
  timeoutMs?: number;
}

export interface Finished {
  /** The exit code; null when the child was killed (it hung). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `rxwal args…` and resolves when it has exited (or was killed for hanging). */
export function rxwal(args: readonly string[], how: RunAs = {}): Promise<Finished> {
  let command = [
    process.execPath,
    ...(how.preload === undefined ? [] : ['--require', how.preload]),
    '--import',
    'tsx',
    MAIN,
    ...args,
  ];
  if (how.asNobody === true) {
    command = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...command];
  }
  if (how.readOnlyMount !== undefined) {
    const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"';
    command = ['unshare', '--mount', 'sh', '-c', script, 'sh', how.readOnlyMount, ...command];
  }
  if (how.smallDisk !== undefined) {
    const script = 'mount -t tmpfs -o size="$2" tmpfs "$1" && shift 2 && exec "$@"';
    const { dir, size } = how.smallDisk;
    command = ['unshare', '--mount', 'sh', '-c', script, 'sh', dir, size, ...command];
  }
  const child = spawn(command[0] as string, command.slice(1), {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // a child that exits before reading all of its input closes the pipe: not the test's error
  child.stdin.on('error', () => undefined);
  if (how.keepStdinOpen === true) child.stdin.write(how.input ?? '');
  else child.stdin.end(how.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), how.timeoutMs ?? 30_000);
  return new Promise((resolveRun) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    }),
  );
}
