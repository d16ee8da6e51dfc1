import Database from 'better-sqlite3';

import { checkpointOf } from '../../lib/checkpoint/checkpoint.js';
import { ConfigError } from '../../lib/errors.js';
import { createMessage } from '../../lib/message/createMessage.js';
import { sqliteCheckpointStore, SQLITE_CHECKPOINT_TABLE } from '../../lib/sqlite/index.js';
import { checkpointStoreContract } from '../support/checkpointStoreContract.js';
import { configErrorOf } from '../support/errors.js';
import { tempFiles } from './support/files.js';

const files = tempFiles();
afterAll(() => files.cleanup());

checkpointStoreContract('sqliteCheckpointStore on a Database the user opened', () => {
  const db = new Database(files.path());
  const store = sqliteCheckpointStore(db, { name: 'indexer' });
  return Promise.resolve({
    store,
    reopen: () => Promise.resolve(sqliteCheckpointStore(db, { name: 'indexer' })),
    other: () => Promise.resolve(sqliteCheckpointStore(db, { name: 'mailer' })),
    dispose: () => {
      db.close();
      return Promise.resolve();
    },
  });
});

checkpointStoreContract('sqliteCheckpointStore on a path', () => {
  const path = files.path();
  const opened = [sqliteCheckpointStore(path, { name: 'indexer' })];
  const open = (name: string) => {
    const store = sqliteCheckpointStore(path, { name });
    opened.push(store);
    return Promise.resolve(store);
  };
  return Promise.resolve({
    store: opened[0] as ReturnType<typeof sqliteCheckpointStore>,
    reopen: () => open('indexer'),
    other: () => open('mailer'),
    dispose: () => {
      opened.forEach((s) => s.close());
      return Promise.resolve();
    },
  });
});

describe('sqliteCheckpointStore', () => {
  const m = createMessage({
    id: 9,
    type: 'Insert',
    timeTick: 900,
    vchannel: 'v1',
    lastConfirmedId: 7,
  });

  test('saveSync inside the consumer transaction commits and rolls back with its writes', () => {
    const db = new Database(files.path());
    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT)');
    const store = sqliteCheckpointStore(db, { name: 'indexer' });
    const apply = db.transaction((fail: boolean) => {
      db.prepare('INSERT INTO rows (id, body) VALUES (?, ?)').run(9, 'x');
      store.saveSync(checkpointOf(m));
      if (fail) throw new Error('the consumer failed after its write');
    });
    expect(() => apply(true)).toThrow('the consumer failed');
    expect(store.loadSync()).toBeUndefined();
    expect(db.prepare('SELECT count(*) AS n FROM rows').get()).toEqual({ n: 0 });
    apply(false);
    expect(store.loadSync()?.id.key).toBe('9');
    expect(db.prepare('SELECT count(*) AS n FROM rows').get()).toEqual({ n: 1 });
    db.close();
  });

  test('keeps each name in one row of its own table', () => {
    const db = new Database(files.path());
    sqliteCheckpointStore(db, { name: 'a' }).saveSync(checkpointOf(m));
    sqliteCheckpointStore(db, { name: 'a' }).saveSync(checkpointOf(m));
    sqliteCheckpointStore(db, { name: 'b' }).saveSync(checkpointOf(m));
    expect(db.prepare(`SELECT name FROM ${SQLITE_CHECKPOINT_TABLE} ORDER BY name`).all()).toEqual([
      { name: 'a' },
      { name: 'b' },
    ]);
    db.close();
  });

  test('a damaged row fails load with a ConfigError naming the field', async () => {
    const db = new Database(files.path());
    const store = sqliteCheckpointStore(db, { name: 'a' });
    db.prepare(`INSERT INTO ${SQLITE_CHECKPOINT_TABLE} (name, checkpoint) VALUES (?, ?)`).run(
      'a',
      '{"v":1,"timeTick":"12","id":"x","lastConfirmedId":"1"}',
    );
    await expect(store.load()).rejects.toThrow(/checkpoint\.id/);
    db.close();
  });

  test('bad arguments are ConfigErrors naming what was wrong', () => {
    expect(configErrorOf(() => sqliteCheckpointStore(42 as never, { name: 'a' })).option).toBe(
      'db',
    );
    expect(configErrorOf(() => sqliteCheckpointStore('', { name: 'a' })).option).toBe('db');
    expect(configErrorOf(() => sqliteCheckpointStore(files.path(), { name: '' })).option).toBe(
      'name',
    );
    expect(configErrorOf(() => sqliteCheckpointStore(files.path(), null as never)).option).toBe(
      'options',
    );
    expect(() => sqliteCheckpointStore(files.path(), { name: 7 as never })).toThrow(ConfigError);
  });

  test('close leaves a Database the user gave open', () => {
    const db = new Database(files.path());
    sqliteCheckpointStore(db, { name: 'a' }).close();
    expect(db.open).toBe(true);
    db.close();
  });
});
