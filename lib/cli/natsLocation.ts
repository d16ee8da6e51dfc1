import { readFileSync } from 'node:fs';

import type { Writable } from 'node:stream';

import { messageId } from '../message/messageId.js';
import { isPemCertificate } from '../nats/connection.js';
import { DeliverPolicy } from '../options/deliverPolicy.js';
import { stringOption, type ParsedArgs } from './args.js';
import type { CliWal, NatsCredentials, OpenWalOptions, PauseSwitch } from './deps.js';
import { UsageError } from './errors.js';

/** The options every command takes for a `nats://` location. */
export const NATS_CLI_OPTIONS = {
  user: { type: 'string' },
  password: { type: 'string' },
  creds: { type: 'string' },
  'tls-ca': { type: 'string' },
} as const;

/**
 * The credentials options of a command line; refused (a usage error) for a file location, where
 * they would be silently ignored.
 */
export function natsCredentialsOf(
  command: string,
  values: ParsedArgs['values'],
  location: string,
): NatsCredentials | undefined {
  const given = {
    user: stringOption(values, 'user'),
    password: stringOption(values, 'password'),
    creds: stringOption(values, 'creds'),
    tlsCa: stringOption(values, 'tls-ca'),
  };
  const entries = Object.entries(given).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return undefined;
  if (!isNatsLocation(location)) {
    throw new UsageError(
      `${command}: --user, --password, --creds and --tls-ca go with a nats:// location (got ${JSON.stringify(location)})`,
      command,
    );
  }
  return Object.fromEntries(entries) as NatsCredentials;
}

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

/** The clients, and the connection options of a location: flags, then the URL, then the environment. */
async function connectionOf(
  parsed: NatsLocation,
  flags: NatsCredentials | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ nats: typeof import('../nats/index.js'); connectOptions: Record<string, unknown> }> {
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
  const nonEmpty = (v: string | undefined): string | undefined => (v === '' ? undefined : v);
  const user = flags?.user ?? parsed.user ?? nonEmpty(env.NATS_USER);
  const password = flags?.password ?? parsed.password ?? nonEmpty(env.NATS_PASSWORD);
  const creds = flags?.creds ?? nonEmpty(env.NATS_CREDS);
  const ca = flags?.tlsCa ?? nonEmpty(env.NATS_CA);
  const connectOptions: Record<string, unknown> = {};
  if (user !== undefined) connectOptions.user = user;
  if (password !== undefined) connectOptions.pass = password;
  if (creds !== undefined) {
    const source = flags?.creds !== undefined ? '--creds' : 'NATS_CREDS';
    const authenticator = transport.credsAuthenticator(readNamedFile(source, creds));
    try {
      authenticator('rxwal'); // the client parses the file only when the server asks: check it now
    } catch (err) {
      throw new UsageError(
        `${source} ${creds}: not a NATS credentials file (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    connectOptions.authenticator = authenticator;
  }
  if (ca !== undefined) {
    const source = flags?.tlsCa !== undefined ? '--tls-ca' : 'NATS_CA';
    const text = readNamedFile(source, ca).toString();
    // Node ignores a CA that is not a certificate, and then blames the server's certificate.
    if (!isPemCertificate(text)) {
      throw new UsageError(`${source} ${ca}: not a PEM certificate`);
    }
    connectOptions.tls = { ca: text };
  }
  return { nats, connectOptions };
}

/** The bytes of a file an option names; a file that cannot be read is a usage error naming both. */
function readNamedFile(source: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`${source} ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * `scan --pause-kv <bucket>/<key>`: {@link pauseFromKv} on the same server and credentials as
 * the scanned `nats://` location; an invalid value is written to stderr as an `rxwal:` line.
 */
export async function kvPauseSwitch(
  location: string,
  bucketAndKey: string,
  flags: NatsCredentials | undefined,
  stderr: Writable,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PauseSwitch> {
  const slash = bucketAndKey.indexOf('/'); // checked with the command line: <bucket>/<key>
  const parsed = parseNatsLocation(location);
  const { nats, connectOptions } = await connectionOf(parsed, flags, env);
  const complain = (obj: object, msg?: string): void => {
    const err = (obj as { err?: unknown }).err;
    const detail =
      err instanceof Error ? ` (${err.message})` : err === undefined ? '' : ` (${String(err)})`;
    stderr.write(`rxwal: --pause-kv ${bucketAndKey}: ${msg ?? 'pause switch'}${detail}\n`);
  };
  const logger = {
    child: () => logger,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: complain,
    error: complain,
    isLevelEnabled: (level: string) => level === 'warn' || level === 'error',
  };
  const subject = await nats.pauseFromKv({
    servers: parsed.server,
    connectOptions,
    bucket: bucketAndKey.slice(0, slash),
    key: bucketAndKey.slice(slash + 1),
    logger,
  });
  return { pause$: subject, close: () => void subject.close() };
}

/**
 * Opens the JetStream WAL of a `nats://` location for the command. Credentials come from the
 * options (`--user`, `--password`, `--creds`, `--tls-ca`), else from the URL
 * (`nats://user:password@host:port/channel`), else from the environment the `nats` CLI uses:
 * `NATS_USER`/`NATS_PASSWORD`, `NATS_CREDS` (a credentials file), `NATS_CA` (a CA file for TLS).
 */
export async function openNatsLocation(
  location: string,
  options: OpenWalOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliWal> {
  const parsed = parseNatsLocation(location);
  const { nats, connectOptions } = await connectionOf(parsed, options.nats, env);
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
