/**
 * openJetStreamWal's `servers` + `connectOptions` against real nats-servers configured for each
 * kind of connection option: TLS with a throw-away CA, a credentials file in operator mode
 * (JWTs generated here), a token, an nkey. Each appends and scans; each wrong or missing
 * credential fails the open within a bounded time with an error naming the problem.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { createAccount, createUser } from '@nats-io/nkeys';
import { credsAuthenticator, nkeyAuthenticator } from '@nats-io/transport-node';
import { firstValueFrom, filter, take, toArray } from 'rxjs';

import { ConfigError, WalError } from '../../lib/errors.js';
import { openJetStreamWal } from '../../lib/nats/index.js';
import { DeliverPolicy } from '../../lib/options/deliverPolicy.js';
import { scanWal } from '../../lib/scanner/scanWal.js';
import { makeTlsFiles, operatorSetup, userCreds, type TlsFiles } from './support/natsAuth.js';
import {
  describeWithNats,
  PASSWORD,
  serverScratch,
  USER,
  type NatsServer,
} from './support/natsServer.js';

jest.setTimeout(30_000);

/** Well inside the 5 s default connect timeout: these failures are answers, not timeouts. */
const PROMPT_MS = 4_000;

/** Opens, appends one message, scans it back, closes: the round trip every option must allow. */
async function roundTrip(servers: string, connectOptions: object, channel: string): Promise<void> {
  const wal = await openJetStreamWal({ channel, servers, connectOptions });
  try {
    await wal.append({ type: 'Insert', vchannel: 'v1', payload: Buffer.from(channel) });
    const read = await firstValueFrom(
      scanWal(wal, { vchannel: 'v1', deliverPolicy: DeliverPolicy.all() }).pipe(
        filter((m) => m.type === 'Insert'),
        take(1),
        toArray(),
      ),
    );
    expect(read.map((m) => Buffer.from(m.payload as Uint8Array).toString())).toEqual([channel]);
  } finally {
    await wal.close();
  }
}

/** The open's rejection and how long it took. */
async function refusal(servers: string, connectOptions: object): Promise<[WalError, number]> {
  const started = Date.now();
  const error = await openJetStreamWal({ channel: 'refused', servers, connectOptions }).then(
    async (wal) => {
      await wal.close();
      throw new Error('the open succeeded');
    },
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(WalError);
  return [error as WalError, Date.now() - started];
}

describeWithNats('connection options against real servers', () => {
  const scratch = serverScratch('rxwal-nats-auth-');

  describe('TLS with a CA', () => {
    let tls: TlsFiles;
    let other: TlsFiles;
    let server: NatsServer;
    const auth = { user: USER, pass: PASSWORD };
    beforeAll(async () => {
      tls = makeTlsFiles(scratch.dir, 'good');
      other = makeTlsFiles(scratch.dir, 'other');
      server = await scratch.start('tls', {
        args: ['--tls', '--tlscert', tls.certFile, '--tlskey', tls.keyFile],
      });
    });

    test('with the CA that signed the server certificate, appends and scans', async () => {
      await roundTrip(server.url, { ...auth, tls: { caFile: tls.caFile } }, 'tls0');
      // the name in the certificate is checked too: localhost is in it
      const byName = server.url.replace('127.0.0.1', 'localhost');
      await roundTrip(byName, { ...auth, tls: { caFile: tls.caFile } }, 'tls1');
    });

    test('without the CA, or with another CA, the open fails promptly naming the certificate', async () => {
      for (const options of [auth, { ...auth, tls: { caFile: other.caFile } }]) {
        const [error, ms] = await refusal(server.url, options);
        expect(error.code).toBe('NATS_CONNECT');
        expect(error.message).toMatch(
          // Node's own reason in the brackets; Node 24 adds a hint about --use-system-ca to it
          /^cannot connect to nats:\/\/127\.0\.0\.1:\d+: the server's TLS certificate is not trusted \(unable to verify the first certificate(; [^)]*)?\): give the CA that signed it/,
        );
        expect(ms).toBeLessThan(PROMPT_MS);
      }
    });

    test('a CA file that does not exist fails the open naming the file', async () => {
      const missing = join(scratch.dir, 'missing-ca.pem');
      const [error, ms] = await refusal(server.url, { ...auth, tls: { caFile: missing } });
      expect(error.message).toContain(`${missing} doesn't exist`);
      expect(ms).toBeLessThan(PROMPT_MS);
    });

    test('a CA file that holds no certificate is refused before connecting, naming the file', async () => {
      const notPem = join(scratch.dir, 'not-a-ca.pem');
      writeFileSync(notPem, 'just some text\n');
      const truncated = join(scratch.dir, 'truncated-ca.pem');
      writeFileSync(truncated, readFileSync(tls.caFile, 'utf8').slice(0, 200));
      for (const caFile of [notPem, truncated]) {
        const error = await openJetStreamWal({
          channel: 'c',
          servers: server.url,
          connectOptions: { ...auth, tls: { caFile } },
        }).catch((err: unknown) => err);
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).message).toBe(
          `invalid connectOptions.tls.caFile: holds no PEM certificate (got "${caFile}")`,
        );
      }
    });

    test('a tls:// server requires TLS: a server without it is refused, not used in clear', async () => {
      const plain = await scratch.start('plain');
      const tlsUrl = plain.url.replace('nats://', 'tls://');
      const [error, ms] = await refusal(tlsUrl, auth);
      expect(error.message).toMatch(
        /^cannot connect to tls:\/\/127\.0\.0\.1:\d+: server does not support 'tls'$/,
      );
      expect(ms).toBeLessThan(PROMPT_MS);
      // and on the TLS server, tls:// with the CA is the same round trip
      await roundTrip(
        server.url.replace('nats://', 'tls://'),
        { ...auth, tls: { caFile: tls.caFile } },
        'tls2',
      );
      await expect(
        openJetStreamWal({ channel: 'c', servers: tlsUrl, connectOptions: { tls: null } }),
      ).rejects.toThrow(ConfigError);
    });
  });

  describe('a credentials file (operator mode, JWTs)', () => {
    const setup = operatorSetup();
    let server: NatsServer;
    const creds = (text: string): object => ({
      authenticator: credsAuthenticator(Buffer.from(text)),
    });
    beforeAll(async () => {
      server = await scratch.start('operator', { password: false, config: setup.config });
    });

    test('a user of the JetStream account appends and scans with its .creds', async () => {
      await roundTrip(server.url, creds(setup.app.userCreds), 'creds0');
    });

    test('a user of an account the server does not know is refused promptly', async () => {
      const strangers = [
        userCreds(createAccount(), 'stranger'), // an account no operator signed
        operatorSetup().app.userCreds, // a JetStream account of another operator
      ];
      for (const text of strangers) {
        const [error, ms] = await refusal(server.url, creds(text));
        expect(error.code).toBe('NATS_CONNECT');
        expect(error.message).toMatch(/: Authorization Violation$/);
        expect(ms).toBeLessThan(PROMPT_MS);
      }
    });

    test('a malformed credentials file fails the open promptly, saying so', async () => {
      const seedless = setup.app.userCreds.replace(/-----BEGIN USER NKEY SEED[^]*$/, '');
      const badSeed = setup.app.userCreds.replace(/\nSU[A-Z2-7]+\n/, '\nSUAAAA\n');
      for (const [text, reason] of [
        ['not a credentials file\n', /: unable to parse credentials$/],
        [seedless, /: unable to parse credentials$/],
        [badSeed, /: nkeys: /],
      ] as const) {
        const [error, ms] = await refusal(server.url, creds(text));
        expect(error.code).toBe('NATS_CONNECT');
        expect(error.message).toMatch(reason);
        expect(ms).toBeLessThan(PROMPT_MS);
      }
    });

    test('the system account has no JetStream: the open says so', async () => {
      await expect(
        openJetStreamWal({
          channel: 'sys',
          servers: server.url,
          connectOptions: creds(setup.system.userCreds),
        }),
      ).rejects.toThrow(/JetStream not enabled for account/);
    });
  });

  test('a token: the right one appends and scans, a wrong one is refused', async () => {
    const server = await scratch.start('token', {
      password: false,
      args: ['--auth', 'tok-3n-rxwal'],
    });
    await roundTrip(server.url, { token: 'tok-3n-rxwal' }, 'token0');
    const [error, ms] = await refusal(server.url, { token: 'wrong' });
    expect(error.message).toMatch(/: Authorization Violation$/);
    expect(ms).toBeLessThan(PROMPT_MS);
  });

  test('an nkey: the listed key appends and scans, another key is refused', async () => {
    const user = createUser();
    const server = await scratch.start('nkey', {
      password: false,
      config: `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }\n`,
    });
    await roundTrip(server.url, { authenticator: nkeyAuthenticator(user.getSeed()) }, 'nkey0');
    const [error, ms] = await refusal(server.url, {
      authenticator: nkeyAuthenticator(createUser().getSeed()),
    });
    expect(error.message).toMatch(/: Authorization Violation$/);
    expect(ms).toBeLessThan(PROMPT_MS);
  });
});
