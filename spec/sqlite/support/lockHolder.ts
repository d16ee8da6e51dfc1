/**
 * Another process holding the write lock of a log: takes the file's write lock, says `locked`,
 * and commits `holdMs` later.
 * - `create` (the default): the file is empty, and the transaction creates the rxwal schema in
 *   it, as a process in the middle of creating a log. A process opening the file meanwhile must
 *   wait for the lock (busy timeout) and then find the schema there, not create it a second time.
 * - `hold`: the log exists, and the transaction writes nothing, as a creator still inside its
 *   creating transaction while another process has created the log and switches it to WAL.
 */
import Database from 'better-sqlite3';

const [path, holdMs, mode = 'create'] = process.argv.slice(2) as [string, string, string?];
const db = new Database(path);
db.exec('BEGIN IMMEDIATE');
if (mode === 'create') {
  db.exec(`
    CREATE TABLE rxwal_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE rxwal_log (
      id INTEGER PRIMARY KEY, time_tick TEXT NOT NULL, type TEXT NOT NULL, vchannel TEXT NOT NULL,
      txn_id INTEGER, record BLOB NOT NULL
    );
    INSERT INTO rxwal_meta (key, value) VALUES ('format', 'rxwal'), ('channel', 'first');
    PRAGMA user_version = 1;
  `);
}
process.stdout.write('locked\n');
setTimeout(() => {
  db.exec('COMMIT');
  db.close();
  process.stdout.write('committed\n');
}, Number(holdMs));
