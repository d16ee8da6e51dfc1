import { readFileSync } from 'node:fs';

import { messageId } from '../message/messageId.js';
import { DeliverPolicy } from '../options/deliverPolicy.js';
import type { CliWal, OpenWalOptions } from './deps.js';
import { UsageError } from './errors.js';

/** Is `location` a NATS location (`nats://host:port/<channel>`) rather than a file? */
export function isNatsLocation(location: string): boolean {
  return /^(nats|tls):\/\//i.test(location);
}

/** A parsed NATS location: the server URL (without credentials), the channel, the credentials. */
export interface NatsLocation {
  readonly server: string;
  readonly channel: string;
  readonly user: string | undefined;
  readonly password: string | undefined;
}

/**
 * Parses `nats://[user:password@]host:port/<channel>`; the channel is the URL's path, decoded.
 *
 * @example
 * ```ts
 * parseNatsLocation('nats://127.0.0.1:4222/p0'); // { server: 'nats://127.0.0.1:4222', channel: 'p0', … }
 * ```
 */
export function parseNatsLocation(location: string): NatsLocation {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new UsageError(`${location}: not a NATS location (nats://host:port/<channel>)`);
  }
  const channel = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (channel === '' || url.host === '') {
    throw new UsageError(
      `${location}: a NATS location names the channel: nats://host:port/<channel>`,
    );
  }
  return {
    server: `${url.protocol}//${url.host}`,
    channel,
    user: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
  };
}

/**
 * Opens the JetStream WAL of a `nats://` location for the command. Credentials come from the URL
 * (`nats://user:password@host:port/channel`) or from the environment the `nats` CLI uses:
 * `NATS_USER`/`NATS_PASSWORD`, `NATS_CREDS` (a credentials file), `NATS_CA` (a CA file for TLS).
 */
export async function openNatsLocation(
  location: string,
  options: OpenWalOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliWal> {
  const parsed = parseNatsLocation(location);
  let nats: typeof import('../nats/index.js');
  let transport: typeof import('@nats-io/transport-node');
  try {
    nats = await import('../nats/index.js');
    transport = await import('@nats-io/transport-node');
  } catch (err) {
    throw new Error(
      'nats:// locations need the NATS clients: npm install @nats-io/transport-node@3 @nats-io/jetstream@3 @nats-io/kv@3',
      { cause: err },
    );
  }
  const user = parsed.user ?? env.NATS_USER;
  const password = parsed.password ?? env.NATS_PASSWORD;
  const connectOptions: Record<string, unknown> = {};
  if (user !== undefined) connectOptions.user = user;
  if (password !== undefined) connectOptions.pass = password;
  if (env.NATS_CREDS !== undefined && env.NATS_CREDS !== '') {
    connectOptions.authenticator = transport.credsAuthenticator(readFileSync(env.NATS_CREDS));
  }
  if (env.NATS_CA !== undefined && env.NATS_CA !== '') connectOptions.tls = { caFile: env.NATS_CA };
  const payloadCodec =
    options.payloadCodec === 'json'
      ? nats.jsonPayloadCodec
      : options.payloadCodec === 'raw'
        ? nats.rawPayloadCodec
        : undefined;
  const wal = await nats.openJetStreamWal({
    channel: parsed.channel,
    servers: parsed.server,
    connectOptions,
    readOnly: options.readOnly,
    ...(payloadCodec === undefined ? {} : { payloadCodec }),
  });
  if (!options.readOnly) return wal;
  // The command asks where the log ends synchronously (latest()): the end when it started.
  let last: bigint;
  try {
    last = await wal.lastSequence();
  } catch (err) {
    await wal.close();
    throw err;
  }
  const atOpen = last === 0n ? DeliverPolicy.all() : DeliverPolicy.startAfter(messageId(last));
  return Object.assign(Object.create(wal) as CliWal, {
    read: (policy: DeliverPolicy) => {
      if (policy?.kind !== 'latest') return wal.read(policy);
      const reader = wal.read(atOpen);
      return Object.assign(reader, { resolvedPolicy: atOpen });
    },
  });
}
