/**
 * One of the processes of the concurrent-creation spec: waits until the agreed start time (so
 * that every process opens the new file at the same moment), opens it read-write, and prints
 * `ok` or the error.
 */
import { openSqliteWal } from '../../../lib/sqlite/index.js';

async function main(): Promise<void> {
  const [path, startAt] = process.argv.slice(2) as [string, string];
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
  const wal = await openSqliteWal(path, { channel: 'race' });
  process.stdout.write('ok\n');
  await wal.close();
}

main().catch((err: unknown) => {
  process.stdout.write(`${String(err)}\n`);
  process.exit(1);
});
