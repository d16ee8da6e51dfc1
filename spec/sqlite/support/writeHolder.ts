/**
 * Another process in a write transaction on an existing log: takes the file's write lock, says
 * `locked`, and commits (nothing) `holdMs` later. It plays a creator that is still inside its
 * creating transaction while another process has already created the log and switches it to WAL.
 */
import Database from 'better-sqlite3';

const [path, holdMs] = process.argv.slice(2) as [string, string];
const db = new Database(path);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\n');
setTimeout(() => {
  db.exec('COMMIT');
  db.close();
  process.stdout.write('committed\n');
}, Number(holdMs));
