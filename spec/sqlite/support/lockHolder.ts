/**
 * Another rxwal process in the middle of creating a log: takes the write lock of the (empty)
 * file, creates the rxwal schema in that transaction, says `locked`, and commits only
 * `holdMs` later. A process opening the file meanwhile must wait for the lock (busy timeout)
 * and then find the schema there, not create it a second time.
 */
import Database from 'better-sqlite3';

const [path, holdMs] = process.argv.slice(2) as [string, string];
const db = new Database(path);
db.exec('BEGIN IMMEDIATE');
db.exec(`
  CREATE TABLE rxwal_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE rxwal_log (
    id INTEGER PRIMARY KEY, time_tick TEXT NOT NULL, type TEXT NOT NULL, vchannel TEXT NOT NULL,
    txn_id INTEGER, record BLOB NOT NULL
  );
  INSERT INTO rxwal_meta (key, value) VALUES ('format', 'rxwal'), ('channel', 'first');
  PRAGMA user_version = 1;
`);
process.stdout.write('locked\n');
setTimeout(() => {
  db.exec('COMMIT');
  db.close();
  process.stdout.write('committed\n');
}, Number(holdMs));
