/**
 * `rxwal append|scan|stats` on a `nats://` location with `--tls-ca` against a TLS server (a CA
 * made here) and with `--creds` against an operator-mode server (JWTs made here); and what each
 * says, promptly, when the CA or the credentials are missing, wrong or malformed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { createAccount } from '@nats-io/nkeys';

import { makeTlsFiles, operatorSetup, userCreds, type TlsFiles } from './support/natsAuth.js';
import {
  describeWithNats,
  PASSWORD,
  serverScratch,
  USER,
  type NatsServer,
} from './support/natsServer.js';
import { rxwal } from './support/rxwalCli.js';

/** Nothing from the environment the command would otherwise fall back to. */
const NO_NATS_ENV = { NATS_USER: '', NATS_PASSWORD: '', NATS_CREDS: '', NATS_CA: '' };

const LINES = [
  '{"type":"Insert","vchannel":"v1","payloadText":"one"}',
  '{"type":"Delete","vchannel":"v1","payloadText":"two"}',
].join('\n');

describeWithNats('the rxwal command with --tls-ca and --creds', () => {
  const scratch = serverScratch('rxwal-nats-cli-auth-');

  describe('a TLS server', () => {
    let tls: TlsFiles;
    let server: NatsServer;
    const password = ['--user', USER, '--password', PASSWORD];
    beforeAll(async () => {
      tls = makeTlsFiles(scratch.dir, 'cli');
      server = await scratch.start('cli-tls', {
        args: ['--tls', '--tlscert', tls.certFile, '--tlskey', tls.keyFile],
      });
    });

    test('append, scan and stats work with --tls-ca (and with NATS_CA)', async () => {
      const location = `${server.url}/tls0`;
      const appended = await rxwal(
        ['append', location, ...password, '--tls-ca', tls.caFile],
        `${LINES}\n`,
        NO_NATS_ENV,
      );
      expect(appended.stderr).toBe('');
      expect(appended.code).toBe(0);
      expect(appended.stdout.trim().split('\n')).toHaveLength(2);
      const scanned = await rxwal(
        ['scan', location, ...password, '--tls-ca', tls.caFile, '--vchannel', 'v1'],
        '',
        NO_NATS_ENV,
      );
      expect(scanned.stderr).toBe('');
      expect(scanned.code).toBe(0);
      expect(scanned.stdout).toMatch(/Insert[^]*one[^]*Delete[^]*two/);
      const stats = await rxwal(['stats', location, ...password], '', {
        ...NO_NATS_ENV,
        NATS_CA: tls.caFile,
      });
      expect(stats.stderr).toBe('');
      expect(stats.code).toBe(0);
      expect(stats.stdout).toContain('Insert');
      expect(stats.stdout).toContain('Delete');
    }, 60_000);

    test('without --tls-ca the command fails, naming the certificate and --tls-ca', async () => {
      const started = Date.now();
      const refused = await rxwal(['scan', `${server.url}/tls0`, ...password], '', NO_NATS_ENV);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        // Node's own reason in the brackets; Node 24 adds a hint about --use-system-ca to it
        /^rxwal: cannot connect to nats:\/\/127\.0\.0\.1:\d+: the server's TLS certificate is not trusted \(unable to verify the first certificate(; [^)]*)?\): give the CA that signed it \(.*--tls-ca\)\n$/,
      );
      expect(Date.now() - started).toBeLessThan(20_000);
    }, 30_000);

    test('a --tls-ca that is missing or not a certificate is a usage error naming it', async () => {
      const notPem = join(scratch.dir, 'not-a-ca.pem');
      writeFileSync(notPem, 'hello\n');
      for (const [file, reason] of [
        [join(scratch.dir, 'missing.pem'), /ENOENT/],
        [notPem, /not a PEM certificate/],
      ] as const) {
        const r = await rxwal(
          ['stats', `${server.url}/tls0`, ...password, '--tls-ca', file],
          '',
          NO_NATS_ENV,
        );
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`rxwal: --tls-ca ${file}: `);
        expect(r.stderr).toMatch(reason);
      }
    }, 30_000);

    test('a tls:// location requires TLS: a server without it is refused', async () => {
      const plain = await scratch.start('cli-plain');
      const r = await rxwal(
        ['stats', `${plain.url.replace('nats://', 'tls://')}/tls0`, ...password],
        '',
        NO_NATS_ENV,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /cannot connect to tls:\/\/127\.0\.0\.1:\d+: server does not support 'tls'/,
      );
    }, 30_000);
  });

  describe('an operator-mode server (credentials files)', () => {
    const setup = operatorSetup();
    let server: NatsServer;
    let creds: string;
    beforeAll(async () => {
      server = await scratch.start('cli-operator', { password: false, config: setup.config });
      creds = join(scratch.dir, 'app.creds');
      writeFileSync(creds, setup.app.userCreds, { mode: 0o600 });
    });

    test('append, scan and stats work with --creds (and with NATS_CREDS)', async () => {
      const location = `${server.url}/creds0`;
      const appended = await rxwal(
        ['append', location, '--creds', creds],
        `${LINES}\n`,
        NO_NATS_ENV,
      );
      expect(appended.stderr).toBe('');
      expect(appended.code).toBe(0);
      const scanned = await rxwal(['scan', location, '--creds', creds], '', NO_NATS_ENV);
      expect(scanned.stderr).toBe('');
      expect(scanned.code).toBe(0);
      expect(scanned.stdout).toMatch(/Insert[^]*one[^]*Delete[^]*two/);
      const stats = await rxwal(['stats', location], '', { ...NO_NATS_ENV, NATS_CREDS: creds });
      expect(stats.stderr).toBe('');
      expect(stats.code).toBe(0);
      expect(stats.stdout).toContain('Insert');
    }, 60_000);

    test('credentials of an account the server does not know are refused', async () => {
      const stranger = join(scratch.dir, 'stranger.creds');
      writeFileSync(stranger, userCreds(createAccount(), 'stranger'), { mode: 0o600 });
      const r = await rxwal(
        ['stats', `${server.url}/creds0`, '--creds', stranger],
        '',
        NO_NATS_ENV,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^rxwal: cannot connect to nats:\/\/127\.0\.0\.1:\d+: Authorization Violation\n$/,
      );
    }, 30_000);

    test('a missing or malformed --creds is a usage error naming the file', async () => {
      const malformed = join(scratch.dir, 'malformed.creds');
      writeFileSync(malformed, 'not a credentials file\n', { mode: 0o600 });
      const badSeed = join(scratch.dir, 'bad-seed.creds');
      writeFileSync(badSeed, setup.app.userCreds.replace(/\nSU[A-Z2-7]+\n/, '\nSUAAAA\n'), {
        mode: 0o600,
      });
      for (const [file, reason] of [
        [join(scratch.dir, 'missing.creds'), /ENOENT/],
        [malformed, /not a NATS credentials file \(unable to parse credentials\)/],
        [badSeed, /not a NATS credentials file \(nkeys: /],
      ] as const) {
        const r = await rxwal(['stats', `${server.url}/creds0`, '--creds', file], '', NO_NATS_ENV);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`rxwal: --creds ${file}: `);
        expect(r.stderr).toMatch(reason);
      }
    }, 30_000);
  });
});
