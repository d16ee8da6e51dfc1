import { appendCommand } from './append.js';
import type { CliDeps } from './deps.js';
import { describeFailure, ExitCode, UsageError } from './errors.js';
import { MAIN_HELP } from './help.js';
import { scanCommand } from './scan.js';
import { statsCommand } from './stats.js';

const COMMANDS: Readonly<Record<string, (argv: string[], deps: CliDeps) => Promise<ExitCode>>> = {
  scan: scanCommand,
  append: appendCommand,
  stats: statsCommand,
};

/**
 * Runs the `rxwal` command line `argv` (without `node` and the script) and resolves its exit
 * code; never rejects: failures are reported on `deps.stderr` as `rxwal: <message>`.
 *
 * @example
 * ```ts
 * process.exitCode = await run(process.argv.slice(2), nodeDeps());
 * ```
 */
export async function run(argv: readonly string[], deps: CliDeps): Promise<ExitCode> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined) {
      deps.stderr.write(MAIN_HELP); // a bare `rxwal` is a usage error: the help goes to stderr
      return ExitCode.Usage;
    }
    if (first === '--help' || first === '-h' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      if (topic !== undefined) return await commandFor(topic)(['--help'], deps);
      deps.stdout.write(MAIN_HELP);
      return ExitCode.Ok;
    }
    if (first === '--version' || first === '-V') {
      deps.stdout.write(`${deps.version}\n`);
      return ExitCode.Ok;
    }
    return await commandFor(first)(rest, deps);
  } catch (err) {
    const { code, message } = describeFailure(err);
    deps.stderr.write(`rxwal: ${message}\n`);
    return code;
  }
}

function commandFor(name: string): (argv: string[], deps: CliDeps) => Promise<ExitCode> {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command !== undefined) return command;
  if (name.startsWith('-')) throw new UsageError(`unknown option ${name}`);
  throw new UsageError(`unknown command ${JSON.stringify(name)}: use scan, append or stats`);
}
