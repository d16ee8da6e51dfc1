import type * as JetStreamModule from '@nats-io/jetstream';
import type * as KvModule from '@nats-io/kv';
import type * as TransportModule from '@nats-io/transport-node';

import { ConfigError } from '../errors.js';

/** The official NATS clients rxwal/nats runs on, loaded on first use. */
export interface NatsModules {
  readonly transport: typeof TransportModule;
  readonly jetstream: typeof JetStreamModule;
}

/** The command that installs the optional peer dependencies. */
export const NATS_INSTALL_HINT =
  'npm install @nats-io/transport-node@3 @nats-io/jetstream@3 @nats-io/kv@3';

let loaded: Promise<NatsModules> | undefined;
let loadedKv: Promise<typeof KvModule> | undefined;

/**
 * Loads the clients, or fails with an install hint: they are optional peer dependencies, like
 * better-sqlite3 for rxwal/sqlite.
 */
export function loadNatsModules(): Promise<NatsModules> {
  loaded ??= Promise.all([
    load<typeof TransportModule>('@nats-io/transport-node'),
    load<typeof JetStreamModule>('@nats-io/jetstream'),
  ]).then(
    ([transport, jetstream]) => ({ transport, jetstream }),
    (err: unknown) => {
      loaded = undefined;
      throw missing(err);
    },
  );
  return loaded;
}

/** Loads `@nats-io/kv` (for the pause switch and the checkpoint store). */
export function loadKvModule(): Promise<typeof KvModule> {
  loadedKv ??= load<typeof KvModule>('@nats-io/kv').catch((err: unknown) => {
    loadedKv = undefined;
    throw missing(err);
  });
  return loadedKv;
}

/** `require` where the build is CommonJS (and under jest), a dynamic `import` in the ES build. */
function load<T>(name: string): Promise<T> {
  if (typeof require === 'function')
    return Promise.resolve().then(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS build: a plain require
      return require(name) as T;
    });
  return import(name) as Promise<T>;
}

function missing(err: unknown): ConfigError {
  return new ConfigError(
    'rxwal/nats',
    undefined,
    `needs the NATS clients, optional peer dependencies of rxwal: ${NATS_INSTALL_HINT}`,
    { cause: err },
  );
}
