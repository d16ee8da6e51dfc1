#!/usr/bin/env node
/**
 * The `rxwal` command: `rxwal scan|append|stats <wal> [options]` on an rxwal SQLite file.
 * `rxwal --help` lists the commands, options and exit codes.
 */
import { ExitCode } from './errors.js';
import { nodeDeps } from './nodeDeps.js';
import { run } from './run.js';

const stop = new AbortController();
const onSignal = (signal: NodeJS.Signals): void => {
  // the first signal ends `scan --follow` cleanly; a second one does not wait for that
  if (stop.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
  stop.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

run(process.argv.slice(2), nodeDeps(stop.signal)).then(
  (code) => {
    process.exitCode = code;
    // nothing may keep the process alive after the command: stdin, timers of a closed WAL
    process.stdin.destroy();
  },
  (err: unknown) => {
    process.stderr.write(`rxwal: ${String(err)}\n`);
    process.exitCode = ExitCode.Failure;
  },
);
