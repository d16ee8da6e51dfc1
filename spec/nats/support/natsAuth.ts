/**
 * Throw-away credentials for the NATS specs: a CA and a server certificate made with `openssl`,
 * and nats-server operator-mode material (operator, accounts and users as nkeys, their JWTs, a
 * decorated `.creds` file), all generated per run.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';

/** The files of a throw-away CA and a server certificate it signed. */
export interface TlsFiles {
  /** The CA certificate the client trusts. */
  readonly caFile: string;
  /** The server's certificate (127.0.0.1 and localhost) and key. */
  readonly certFile: string;
  readonly keyFile: string;
}

function openssl(args: string[], dir: string): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A CA named `name` in `dir` (`<name>-ca.pem`) and a server certificate it signed for
 * 127.0.0.1 and localhost (`<name>-server.pem`, `<name>-server-key.pem`).
 */
export function makeTlsFiles(dir: string, name: string): TlsFiles {
  const caKey = join(dir, `${name}-ca-key.pem`);
  const caFile = join(dir, `${name}-ca.pem`);
  const keyFile = join(dir, `${name}-server-key.pem`);
  const csr = join(dir, `${name}-server.csr`);
  const certFile = join(dir, `${name}-server.pem`);
  const ext = join(dir, `${name}-server.ext`);
  openssl(['genrsa', '-out', caKey, '2048'], dir);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      caKey,
      '-sha256',
      '-days',
      '2',
      '-subj',
      `/CN=rxwal test CA ${name}`,
      '-out',
      caFile,
    ],
    dir,
  );
  openssl(['genrsa', '-out', keyFile, '2048'], dir);
  openssl(['req', '-new', '-key', keyFile, '-subj', '/CN=127.0.0.1', '-out', csr], dir);
  writeFileSync(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caFile,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      ext,
      '-out',
      certFile,
    ],
    dir,
  );
  return { caFile, certFile, keyFile };
}

const base64url = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');

/**
 * A NATS JWT (v2): `{"typ":"JWT","alg":"ed25519-nkey"}`, the claims with `jti` (the SHA-512/256
 * of the claims, base32) and `iat`, signed by `issuer`'s seed over `header.payload`.
 */
export function encodeJwt(
  issuer: KeyPair,
  subject: string,
  name: string,
  nats: Record<string, unknown>,
): string {
  const claims: Record<string, unknown> = {
    jti: '',
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name,
    sub: subject,
    nats: { ...nats, version: 2 },
  };
  claims.jti = base32(createHash('sha512-256').update(JSON.stringify(claims)).digest());
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const payload = base64url(JSON.stringify(claims));
  const signature = issuer.sign(Buffer.from(`${header}.${payload}`));
  return `${header}.${payload}.${base64url(signature)}`;
}

/** RFC 4648 base32 without padding, as NATS writes a JWT id. */
function base32(data: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** The decorated `.creds` text `nsc` writes: the user JWT, then the user's nkey seed. */
export function credsText(userJwt: string, userSeed: Uint8Array): string {
  return [
    '-----BEGIN NATS USER JWT-----',
    userJwt,
    '------END NATS USER JWT------',
    '',
    '************************* IMPORTANT *************************',
    'NKEY Seed printed below can be used to sign and prove identity.',
    'NKEYs are sensitive and should be treated as secrets.',
    '',
    '-----BEGIN USER NKEY SEED-----',
    Buffer.from(userSeed).toString(),
    '------END USER NKEY SEED------',
    '',
    '*************************************************************',
    '',
  ].join('\n');
}

const UNLIMITED = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
};

/** An account and the user it issued, ready to be written as a `.creds` file. */
export interface OperatorAccount {
  readonly account: KeyPair;
  readonly jwt: string;
  /** The `.creds` text of a user of this account. */
  readonly userCreds: string;
}

function account(operator: KeyPair, name: string, jetStream: boolean): OperatorAccount {
  const kp = createAccount();
  const limits = jetStream
    ? { ...UNLIMITED, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 }
    : UNLIMITED;
  const jwt = encodeJwt(operator, kp.getPublicKey(), name, {
    type: 'account',
    limits,
    default_permissions: { pub: {}, sub: {} },
  });
  return { account: kp, jwt, userCreds: userCreds(kp, `${name}-user`) };
}

/** The `.creds` text of a new user issued by `issuer` (an account key). */
export function userCreds(issuer: KeyPair, name: string): string {
  const user = createUser();
  const jwt = encodeJwt(issuer, user.getPublicKey(), name, {
    type: 'user',
    pub: {},
    sub: {},
    subs: -1,
    data: -1,
    payload: -1,
  });
  return credsText(jwt, user.getSeed());
}

/** An operator with a system account and one JetStream-enabled application account. */
export interface OperatorSetup {
  readonly operatorJwt: string;
  readonly system: OperatorAccount;
  readonly app: OperatorAccount;
  /** The nats-server configuration of operator mode with a memory resolver (no listen/store). */
  readonly config: string;
}

/** Generates an operator, its system account and an application account with JetStream. */
export function operatorSetup(): OperatorSetup {
  const operator = createOperator();
  const system = account(operator, 'SYS', false);
  const app = account(operator, 'APP', true);
  const operatorJwt = encodeJwt(operator, operator.getPublicKey(), 'rxwal-test-operator', {
    type: 'operator',
    system_account: system.account.getPublicKey(),
  });
  const config = [
    `operator: ${operatorJwt}`,
    `system_account: ${system.account.getPublicKey()}`,
    'resolver: MEMORY',
    'resolver_preload: {',
    `  ${system.account.getPublicKey()}: ${system.jwt}`,
    `  ${app.account.getPublicKey()}: ${app.jwt}`,
    '}',
    '',
  ].join('\n');
  return { operatorJwt, system, app, config };
}
