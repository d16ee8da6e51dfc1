import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import { jsonLines, ROOT, Rxwal, rxwal } from './child.js';

const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

// each child starts node with tsx: seconds on a loaded machine
jest.setTimeout(60_000);

describe('rxwal as a child process, on real SQLite files', () => {
  let dir: string;
  let db: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rxwal-cli-'));
    db = join(dir, 'log.db');
    const plain = await rxwal(
      ['append', db, '--payload-codec', 'json'],
      [
        '{"type":"Insert","vchannel":"v1","payload":{"pk":1}}',
        '{"type":"Delete","vchannel":"v2","payload":{"pk":2},"properties":{"why":"ttl"}}',
      ].join('\n'),
    );
    expect(plain).toMatchObject({ code: 0, stderr: '' });
    expect(plain.stdout).toMatch(/^\d+\n\d+\n$/);
    const txn = await rxwal(
      ['append', db, '--txn', '--vchannel', 'v1'],
      '{"type":"Insert","payload":{"pk":3}}\n{"type":"Insert","payload":{"pk":4}}\n',
    );
    expect(txn.code).toBe(0);
    expect(txn.stdout).toMatch(/^\d+\n\d+\n$/);
    expect(txn.stderr).toMatch(/^rxwal: committed transaction \d+ on "v1": 2 messages/);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('scans what append wrote, pretty and as JSON, with no progress output off a terminal', async () => {
    const pretty = await rxwal(['scan', db, '--vchannel', 'v1']);
    expect(pretty.code).toBe(0);
    expect(pretty.stderr).toBe('');
    const lines = pretty.stdout.split('\n');
    expect(lines[0]).toMatch(/^\S+Z {2}Insert v1 @\d+ #\d+ {2}\{"pk":1\}$/);
    expect(lines[1]).toMatch(/^\S+Z {2}Txn:\d+ v1 @\d+ #\d+ lc=\d+ \(2 messages\)$/);
    expect(lines[2]).toMatch(/^ {4}Insert:\d+ v1 @\d+ #\d+ lc=\d+ {2}\{"pk":3\}$/);
    expect(lines[3]).toMatch(/^ {4}Insert:\d+ v1 @\d+ #\d+ lc=\d+ {2}\{"pk":4\}$/);
    expect(lines.slice(4)).toEqual(['']);

    const json = await rxwal(['scan', db, '--format', 'json', '--type', 'Delete']);
    expect(json.code).toBe(0);
    const messages = jsonLines(json.stdout);
    expect(messages.map((m) => m.type)).toEqual(['Delete']); // no Txn emptied by --type
    expect(messages[0]).toMatchObject({
      vchannel: 'v2',
      payload: { pk: 2 },
      properties: { why: 'ttl' },
    });
    expect(typeof messages[0]?.timeTick).toBe('string');
  });

  it('prints stats as JSON: counts, tick range as dates, open transactions, size', async () => {
    const stats = await rxwal(['stats', db, '--format', 'json']);
    expect(stats.code).toBe(0);
    const report = JSON.parse(stats.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      channel: 'rxwal',
      byType: { Insert: 3, Delete: 1, BeginTxn: 1, CommitTxn: 1 },
      byVChannel: { v1: 5, v2: 1 }, // v1: an insert, and begin, two inserts, commit
      openTransactions: [],
      payloadCodec: 'json',
    });
    expect(report.fileBytes).toBeGreaterThan(0);
    const ticks = report.timeTicks as { from: string; to: string };
    expect(Date.parse(ticks.from)).toBeLessThanOrEqual(Date.parse(ticks.to));
    expect(Math.abs(Date.now() - Date.parse(ticks.to))).toBeLessThan(60_000);
    const pretty = await rxwal(['stats', db]);
    expect(pretty.stdout).toContain('  open transactions  0');
    expect(pretty.stdout).toMatch(/ {2}size {10}[\d.]+ KiB/);
  });

  it('answers --help and --version with exit 0, a bad option with exit 2', async () => {
    const help = await rxwal(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('Exit codes:');
    expect(await rxwal(['--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const bad = await rxwal(['scan', db, '--format', 'xml']);
    expect(bad).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'rxwal: scan: --format must be pretty or json (got "xml") (see rxwal scan --help)\n',
    });
  });

  it('exits 3 for a missing file and 4 for a file that is not an rxwal log', async () => {
    const missing = join(dir, 'missing.db');
    expect(await rxwal(['scan', missing])).toMatchObject({
      code: 3,
      stderr: `rxwal: no such WAL file: ${missing}\n`,
    });
    expect((await rxwal(['stats', missing])).code).toBe(3);
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello, not a database\n'.repeat(100));
    const notWal = await rxwal(['scan', text]);
    expect(notWal.code).toBe(4);
    expect(notWal.stderr).toMatch(
      new RegExp(`^rxwal: ${text.replace(/[.]/g, '\\.')} is not an rxwal log: `),
    );
  });

  it('exits 4 naming the record when a stored record is corrupt', async () => {
    const damaged = join(dir, 'damaged.db');
    const appended = await rxwal(
      ['append', damaged],
      '{"type":"Insert","payload":"a"}\n{"type":"Insert","payload":"b"}\n',
    );
    const [, second] = appended.stdout.split('\n');
    const sqlite = new Database(damaged);
    sqlite
      .prepare(
        "UPDATE rxwal_log SET record = substr(record, 1, length(record) - 1) || x'ff' WHERE id = ?",
      )
      .run(Number(second));
    sqlite.close();
    const scan = await rxwal(['scan', damaged]);
    expect(scan.code).toBe(4);
    expect(scan.stderr).toMatch(new RegExp(`^rxwal: corrupt record ${second}: `));
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'scan --follow prints new records and ends cleanly on %s with exit 0',
    async (signal) => {
      const vchannel = `follow-${signal}`;
      const follow = new Rxwal([
        'scan',
        db,
        '--follow',
        '--format',
        'json',
        '--vchannel',
        vchannel,
      ]);
      const marker = `new-${signal}`;
      await rxwal(
        ['append', db, '--vchannel', vchannel],
        `{"type":"Insert","payload":"${marker}"}\n`,
      );
      await follow.waitFor(({ stdout }) => stdout.includes(marker));
      follow.child.kill(signal);
      const done = await follow.finished;
      expect(done).toMatchObject({ code: 0, signal: null, stderr: '' });
      expect(jsonLines(done.stdout)).toEqual([expect.objectContaining({ payload: marker })]);
    },
  );

  it('serves Prometheus metrics on 127.0.0.1 with --metrics-port', async () => {
    const scan = new Rxwal(['scan', db, '--follow', '--metrics-port', '0']);
    await scan.waitFor(({ stderr }) => /metrics on (\S+)\n/.test(stderr));
    const url = /metrics on (\S+)\n/.exec(scan.stderr)?.[1] as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    await scan.waitFor(({ stdout }) => stdout.includes('{"pk":4}'));
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^rxwal_\w+\{[^}]*channel_name="rxwal"/m);
    scan.child.kill('SIGTERM');
    expect((await scan.finished).code).toBe(0);
  });

  it('holds the scan while --pause-file says so, and runs once the file says false', async () => {
    const pauseFile = join(dir, 'pause.json');
    writeFileSync(pauseFile, '{"pauseConsumption": true}');
    const scan = new Rxwal(['scan', db, '--pause-file', pauseFile, '--vchannel', 'v2']);
    await scan.waitFor(({ stderr }) => stderr.includes('paused by'));
    expect(scan.stdout).toBe('');
    writeFileSync(pauseFile, '{"pauseConsumption": false}');
    const done = await scan.finished;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^\S+ {2}Delete v2 @\d+ #\d+ \{why=ttl\} {2}\{"pk":2\}\n$/);
    expect(done.stderr).toBe(
      `rxwal: paused by ${pauseFile} (waiting for "pauseConsumption": false)\nrxwal: resumed by ${pauseFile}\n`,
    );
  });

  it('refuses a named pipe as --pause-file with exit 2 instead of blocking on it (issue 9 item 11)', async () => {
    const fifo = join(dir, 'pause.fifo');
    execFileSync('mkfifo', [fifo]);
    // nobody ever writes to the pipe: a read of it would block the whole process for ever
    const done = await new Rxwal(['scan', db, '--pause-file', fifo]).exitWithin();
    expect(done).toMatchObject({ code: 2, stdout: '' });
    expect(done.stderr).toBe(
      `rxwal: scan: --pause-file ${fifo}: invalid path: is a named pipe (FIFO), not a regular file (or a symlink to one): reading it would block the process (got ${JSON.stringify(fifo)}) (see rxwal scan --help)\n`,
    );
  });
});
