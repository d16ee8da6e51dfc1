/** `rxwal append` and `rxwal scan` against a `nats://` location on a real nats-server. */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

import { UsageError } from '../../lib/cli/errors.js';
import { isNatsLocation, parseNatsLocation } from '../../lib/cli/natsLocation.js';
import {
  describeWithNats,
  PASSWORD,
  startNatsServer,
  USER,
  type NatsServer,
} from './support/natsServer.js';

const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'lib/cli/main.ts');

function rxwal(
  args: string[],
  input: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(input);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('nats:// locations', () => {
  test('parse into a server, a channel and credentials', () => {
    expect(isNatsLocation('nats://127.0.0.1:4222/p0')).toBe(true);
    expect(isNatsLocation('./p0.sqlite')).toBe(false);
    expect(parseNatsLocation('nats://u:p%40ss@127.0.0.1:4222/p%2E0')).toEqual({
      server: 'nats://127.0.0.1:4222',
      channel: 'p.0',
      user: 'u',
      password: 'p@ss',
    });
    expect(() => parseNatsLocation('nats://127.0.0.1:4222/')).toThrow(UsageError);
    expect(() => parseNatsLocation('nats://[bad')).toThrow(/not a NATS location/);
  });
});

describeWithNats('the rxwal command on a nats:// location', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer('cli');
  });
  afterAll(async () => {
    await server.dispose();
  });

  test('append writes JSON lines to the stream and scan reads them back', async () => {
    const location = `${server.url}/cli0`;
    const env = { NATS_USER: USER, NATS_PASSWORD: PASSWORD };
    const lines = [
      '{"type":"Insert","vchannel":"v1","payload":{"pk":1}}',
      '{"type":"Delete","vchannel":"v1","payload":{"pk":1}}',
    ];
    const appended = await rxwal(
      ['append', location, '--payload-codec', 'json'],
      lines.join('\n') + '\n',
      env,
    );
    expect(appended.stderr).toBe('');
    expect(appended.code).toBe(0);
    expect(appended.stdout.trim().split('\n')).toHaveLength(2);
    const scanned = await rxwal(['scan', location, '--vchannel', 'v1'], '', env);
    expect(scanned.code).toBe(0);
    expect(scanned.stdout).toContain('Insert');
    expect(scanned.stdout).toContain('Delete');
    const refused = await rxwal(['scan', location], '', {
      NATS_USER: USER,
      NATS_PASSWORD: 'wrong',
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/cannot connect/);
  }, 60_000);
});
