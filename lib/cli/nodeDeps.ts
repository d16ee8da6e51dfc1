import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { ConfigError, WalError } from '../errors.js';
import type { CliDeps, CliWal, MetricsExporter, OpenWalOptions } from './deps.js';
import { MissingWalError, NotAWalError, UsageError } from './errors.js';
import { isNatsLocation, openNatsLocation } from './natsLocation.js';

/**
 * The command's dependencies in a real process: SQLite files, the process's streams, SIGINT and
 * SIGTERM ending `scan --follow`. better-sqlite3 and prom-client are optional peers of rxwal, so
 * they are loaded only when a command needs them.
 */
export function nodeDeps(signal: AbortSignal): CliDeps {
  return {
    openWal: (path, options) =>
      isNatsLocation(path) ? openNatsLocation(path, options) : openSqliteFile(path, options),
    prometheus: prometheusExporter,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    isTTY: process.stderr.isTTY === true,
    signal,
    version: packageVersion(),
  };
}

async function openSqliteFile(path: string, options: OpenWalOptions): Promise<CliWal> {
  if (options.readOnly && isMissing(path)) throw new MissingWalError(path);
  let sqlite: typeof import('../sqlite/index.js');
  try {
    sqlite = await import('../sqlite/index.js');
  } catch (err) {
    // a missing better-sqlite3 already names the accepted range and the install command
    if (err instanceof WalError && err.code === 'MISSING_PEER') throw err;
    throw new Error(`the SQLite backend could not be loaded (${String(err)})`, { cause: err });
  }
  const payloadCodec =
    options.payloadCodec === 'json'
      ? sqlite.jsonPayloadCodec
      : options.payloadCodec === 'raw'
        ? sqlite.rawPayloadCodec
        : undefined;
  try {
    return await sqlite.openSqliteWal(path, {
      readOnly: options.readOnly,
      ...(payloadCodec === undefined ? {} : { payloadCodec }),
    });
  } catch (err) {
    // a healthy file that cannot be opened (permissions, …) is not a corrupt one: exit 1
    if (err instanceof sqlite.FileAccessError && err.problem !== 'missing-file') throw err;
    if (err instanceof ConfigError && err.option === 'path') {
      if (options.readOnly && isMissing(path)) throw new MissingWalError(path);
      throw new NotAWalError(path, reasonOf(err), { cause: err });
    }
    if (err instanceof ConfigError && err.option.startsWith('payloadCodec')) {
      throw new UsageError(`append: --payload-codec: ${reasonOf(err)}`, 'append');
    }
    throw err;
  }
}

async function prometheusExporter(channel: string): Promise<MetricsExporter> {
  let client: typeof import('prom-client');
  let adapter: typeof import('../prometheus/index.js');
  try {
    client = await import('prom-client');
    adapter = await import('../prometheus/index.js');
  } catch (err) {
    throw new Error('--metrics-port needs prom-client 15: npm install prom-client@15', {
      cause: err,
    });
  }
  const registry = new client.Registry();
  return {
    metrics: adapter.prometheusMetrics(registry, { channel }),
    contentType: registry.contentType,
    text: () => registry.metrics(),
  };
}

/** Is there no file at `path`? (A file this process may not see is not missing: exit 1, not 3.) */
function isMissing(path: string): boolean {
  try {
    statSync(path);
    return false;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR';
  }
}

function reasonOf(err: ConfigError): string {
  return err.message.replace(/^invalid [^:]+: /, '').replace(/ \(got .*\)$/, '');
}

/** The version in rxwal's package.json, found upwards from the running script. */
function packageVersion(): string {
  const script = process.argv[1];
  if (script === undefined) return 'unknown';
  let dir: string;
  try {
    dir = dirname(realpathSync(script));
  } catch {
    return 'unknown';
  }
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === 'rxwal' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // not readable as JSON: keep looking upwards
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
