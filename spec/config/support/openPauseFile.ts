// Opens pauseFromFile on argv[2] in a process of its own and prints the state or the error:
// a pause file that blocks blocks this process, not the test runner.
import { pauseFromFile } from '../../../lib/config/pauseFromFile.js';

try {
  const pause$ = pauseFromFile(process.argv[2] as string);
  process.stdout.write(`paused: ${pause$.getValue()}\n`);
  pause$.close();
} catch (error) {
  process.stdout.write(`${(error as Error).name}: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
