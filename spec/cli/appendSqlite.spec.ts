import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { ExitCode } from '../../lib/cli/errors.js';
import type { CliDeps } from '../../lib/cli/deps.js';
import { run } from '../../lib/cli/run.js';
import { openSqliteWal, sqliteWalStats } from '../../lib/sqlite/index.js';
import { Captured } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'rxwal-cli-append-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('rxwal append on SQLite: a line the WAL refuses stops the command before the lines after it', async () => {
  const db = join(dir, 'bad-line.db');
  const stdin = new PassThrough();
  const stdout = new Captured();
  const stderr = new Captured();
  const deps: CliDeps = {
    openWal: (path, o) => openSqliteWal(path, { readOnly: o.readOnly }),
    stdin,
    stdout,
    stderr,
    isTTY: false,
    version: 'test',
  };
  const exit = run(['append', db], deps);
  stdin.end(
    [
      '{"type":"Insert","vchannel":"v1"}',
      '{"type":"Insert","vchannel":"\\ud800"}', // valid JSON, but UTF-8 cannot hold a lone surrogate
      '{"type":"Insert","vchannel":"v1"}',
      '{"type":"Insert","vchannel":"v1"}',
    ].join('\n'),
  );
  expect(await exit).toBe(ExitCode.InvalidInput);
  expect(stderr.text).toMatch(/line 2/);
  const stats = await sqliteWalStats(db);
  expect(stats.byType.Insert).toBe(1); // only the line before the bad one
  expect(stdout.text.split('\n').filter((line) => line !== '')).toHaveLength(1); // and its id
});
