import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

import type { NatsConnection } from '@nats-io/transport-node';

import { ConfigError, WalError } from '../errors.js';
import type { NatsModules } from './modules.js';

/** How rxwal/nats reaches a server: an open connection, or servers and the client's options. */
export interface NatsConnectionOptions {
  /** An open connection; the caller closes it. */
  connection?: NatsConnection;
  /**
   * `'nats://127.0.0.1:4222'` or a list (a cluster's seeds). A `tls://` URL requires TLS (as if
   * `connectOptions.tls` were `{}`): the client never falls back to a connection in clear.
   */
  servers?: string | string[];
  /**
   * The client's connection options: `user`/`pass`, `token`, `authenticator` (nkey, creds), `tls`
   * (`{ caFile }`), `name`… `timeout` bounds the open (default 5000 ms here).
   */
  connectOptions?: object;
}

/** An open connection and whether rxwal opened it (and so closes it). */
export interface HeldConnection {
  readonly connection: NatsConnection;
  readonly owned: boolean;
}

/** Default bound of an open: a wrong password or an unreachable server fails within it. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Uses the given connection or opens one, failing within the connect timeout. */
export async function holdConnection(
  modules: NatsModules,
  options: NatsConnectionOptions,
): Promise<HeldConnection> {
  if (options.connection !== undefined) {
    const c = options.connection as unknown;
    if (
      typeof c !== 'object' ||
      c === null ||
      typeof (c as NatsConnection).request !== 'function'
    ) {
      throw new ConfigError('connection', c, 'must be an open NatsConnection');
    }
    if (options.servers !== undefined) {
      throw new ConfigError(
        'servers',
        options.servers,
        'give either connection or servers, not both',
      );
    }
    return { connection: options.connection, owned: false };
  }
  const servers = options.servers;
  const list = typeof servers === 'string' ? [servers] : servers;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((s) => typeof s !== 'string' || s === '')
  ) {
    throw new ConfigError('servers', servers, 'must be a server URL or a non-empty list of them');
  }
  const extra = options.connectOptions ?? {};
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) {
    throw new ConfigError('connectOptions', extra, 'must be an object');
  }
  const timeout = (extra as { timeout?: unknown }).timeout ?? DEFAULT_CONNECT_TIMEOUT_MS;
  // The client drops a URL's scheme, so tls:// alone would connect in clear to a server without TLS.
  const tlsByScheme = list.some((s) => /^tls:\/\//i.test(s));
  const tls = (extra as { tls?: unknown }).tls;
  if (tlsByScheme && tls === null) {
    throw new ConfigError('connectOptions.tls', tls, 'a tls:// server needs TLS: not null');
  }
  checkCaFile((tls as { caFile?: unknown } | undefined)?.caFile);
  try {
    const connection = await modules.transport.connect({
      ...extra,
      ...(tlsByScheme && tls === undefined ? { tls: {} } : {}),
      servers: list,
      timeout: timeout as number,
    });
    return { connection, owned: true };
  } catch (err) {
    throw new WalError('NATS_CONNECT', `cannot connect to ${list.join(', ')}: ${reasonOf(err)}`, {
      cause: err,
    });
  }
}

/**
 * Refuses a `tls.caFile` that holds no PEM certificate: Node ignores such a CA, and the open
 * then fails on the server's certificate as if no CA had been given. A file that cannot be read
 * is left to the client, whose error names it.
 */
function checkCaFile(caFile: unknown): void {
  if (typeof caFile !== 'string') return;
  let text: string;
  try {
    text = readFileSync(caFile, 'utf8');
  } catch {
    return;
  }
  if (!isPemCertificate(text)) {
    throw new ConfigError('connectOptions.tls.caFile', caFile, 'holds no PEM certificate');
  }
}

/** @internal Does `text` hold a PEM certificate Node can read (the first of a bundle)? */
export function isPemCertificate(text: string): boolean {
  if (!text.includes('-----BEGIN CERTIFICATE-----')) return false;
  try {
    new X509Certificate(text);
    return true;
  } catch {
    return false;
  }
}

/** Node's codes for a server certificate the client does not trust. */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** The client's reason, saying what to do when it is a server certificate nobody vouched for. */
function reasonOf(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && UNTRUSTED_CERTIFICATE.has(code)) {
    return (
      `the server's TLS certificate is not trusted (${message}): give the CA that signed it ` +
      `(connectOptions.tls.caFile, rxwal --tls-ca)`
    );
  }
  return message;
}
