/** `rxwal append` and `rxwal scan` against a `nats://` location on a real nats-server. */
import { spawn } from 'node:child_process';

import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';

import { UsageError } from '../../lib/cli/errors.js';
import {
  isNatsLocation,
  natsCredentialsOf,
  parseNatsLocation,
} from '../../lib/cli/natsLocation.js';
import { until } from '../support/promises.js';
import { MAIN, ROOT, rxwal } from './support/rxwalCli.js';
import {
  describeWithNats,
  PASSWORD,
  startNatsServer,
  USER,
  type NatsServer,
} from './support/natsServer.js';

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

  test('--user, --password, --creds and --tls-ca are read, and refused for a file', () => {
    const values = { user: 'u', password: 'p', creds: '/c.creds', 'tls-ca': '/ca.pem' };
    expect(natsCredentialsOf('scan', values, 'nats://127.0.0.1:4222/p0')).toEqual({
      user: 'u',
      password: 'p',
      creds: '/c.creds',
      tlsCa: '/ca.pem',
    });
    expect(natsCredentialsOf('scan', {}, 'nats://127.0.0.1:4222/p0')).toBeUndefined();
    expect(() => natsCredentialsOf('append', { user: 'u' }, './p0.sqlite')).toThrow(
      /append: --user, --password, --creds and --tls-ca go with a nats:\/\/ location/,
    );
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

  test('--user and --password take the place of the environment; a wrong one fails', async () => {
    const location = `${server.url}/cli1`;
    const appended = await rxwal(
      ['append', location, '--user', USER, '--password', PASSWORD],
      '{"type":"Insert","vchannel":"v1","payloadText":"a"}\n',
      {},
    );
    expect(appended.stderr).toBe('');
    expect(appended.code).toBe(0);
    const stats = await rxwal(['stats', location, '--user', USER, '--password', PASSWORD], '', {});
    expect(stats.code).toBe(0);
    expect(stats.stdout).toContain('Insert');
    // the option wins over a right password in the environment
    const refused = await rxwal(['scan', location, '--user', USER, '--password', 'wrong'], '', {
      NATS_USER: USER,
      NATS_PASSWORD: PASSWORD,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/cannot connect/);
    const onAFile = await rxwal(['scan', 'p0.sqlite', '--user', USER], '', {});
    expect(onAFile.code).toBe(2);
    expect(onAFile.stderr).toMatch(/go with a nats:\/\/ location/);
  }, 60_000);

  test('scan --pause-kv holds the scan until one KV write says false', async () => {
    const location = `${server.url}/cli2`;
    const nc = await connect({ servers: server.url, user: USER, pass: PASSWORD });
    try {
      const kv = await new Kvm(nc).create('rxwal_pause');
      await kv.put('cli2', '{"pauseConsumption": true}');
      const appended = await rxwal(
        ['append', location, '--user', USER, '--password', PASSWORD],
        '{"type":"Insert","vchannel":"v1","payloadText":"held"}\n',
        {},
      );
      expect(appended.code).toBe(0);
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          MAIN,
          'scan',
          location,
          '--follow',
          '--pause-kv',
          'rxwal_pause/cli2',
          '--user',
          USER,
          '--password',
          PASSWORD,
        ],
        { cwd: ROOT, env: process.env },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((done) => child.on('close', done));
      await until(() => /paused by KV rxwal_pause\/cli2/.test(stderr), 30_000);
      expect(stdout).toBe(''); // held: the message waits
      await kv.put('cli2', '{"pauseConsumption": false}');
      await until(() => stdout.includes('held'), 30_000);
      expect(stderr).toMatch(/resumed by KV rxwal_pause\/cli2/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await nc.close();
    }
  }, 90_000);

  test('scan --pause-kv is refused for a file, with --pause-file, or without bucket/key', async () => {
    for (const [args, message] of [
      [['scan', 'p0.sqlite', '--pause-kv', 'b/k'], /--pause-kv goes with a nats:\/\/ location/],
      [
        ['scan', `${server.url}/p0`, '--pause-kv', 'b/k', '--pause-file', 'pause.json'],
        /one switch each/,
      ],
      [['scan', `${server.url}/p0`, '--pause-kv', 'bucket-only'], /needs <bucket>\/<key>/],
    ] as const) {
      const r = await rxwal([...args], '', { NATS_USER: USER, NATS_PASSWORD: PASSWORD });
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
    }
  }, 60_000);
});
