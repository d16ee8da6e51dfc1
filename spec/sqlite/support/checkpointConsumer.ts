/**
 * The consumer of the checkpoint crash test (spec/sqlite/checkpointCrash.spec.ts): scans vchannel
 * v1 of a finished SQLite log and applies each message to its own table, saving the checkpoint in
 * the same SQLite transaction; resumes from that checkpoint when restarted. Prints one line per
 * applied message; exits 0 after applying the message whose payload is `END`, or at once when an
 * earlier run already applied it. The test kills it with SIGKILL at random points.
 */
import Database from 'better-sqlite3';

import { checkpointOf, isTxnMessage, scanWal, type WalMessage } from '../../../lib/index.js';
import { openSqliteWal, sqliteCheckpointStore } from '../../../lib/sqlite/index.js';

async function main(): Promise<void> {
  const [logPath, appPath] = process.argv.slice(2) as [string, string];
  const wal = await openSqliteWal(logPath, { readOnly: true, pollInterval: 5 });
  const db = new Database(appPath);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
  const store = sqliteCheckpointStore(db, { name: 'consumer' });
  // a plain INSERT: applying a row twice violates the primary key and kills this process loudly
  const insert = db.prepare('INSERT INTO rows (id, payload) VALUES (?, ?)');
  const rowsOf = (m: WalMessage): WalMessage[] =>
    isTxnMessage(m) ? [...m.body] : m.type === 'Insert' ? [m] : [];
  const apply = db.transaction((m: WalMessage) => {
    for (const row of rowsOf(m)) insert.run(Number(row.id.key), String(row.payload));
    store.saveSync(checkpointOf(m));
  });
  const resumeFrom = store.loadSync();
  process.stdout.write(`ready ${resumeFrom === undefined ? '-' : resumeFrom.id.key}\n`);
  // A run killed after it applied END (and saved its checkpoint) but before it exited leaves
  // nothing to deliver: the next scan would wait for ever on the finished log. The work is done.
  if (db.prepare("SELECT 1 FROM rows WHERE payload = 'END'").get() !== undefined) {
    db.close();
    await wal.close();
    return;
  }
  for await (const m of scanWal(wal, { vchannel: 'v1', ...(resumeFrom ? { resumeFrom } : {}) })) {
    apply(m);
    process.stdout.write(`applied ${m.id.key}\n`);
    if (m.type === 'Insert' && String(m.payload) === 'END') break;
    // let the test's SIGKILL land between any two messages, not only after a burst
    await new Promise((resolve) => setImmediate(resolve));
  }
  db.close();
  await wal.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
