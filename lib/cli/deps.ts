import type { Writable } from 'node:stream';

import type { Observable } from 'rxjs';

import type { ScannerMetrics } from '../observability/metrics.js';
import type { ReadableWal, Wal } from '../wal/wal.js';
import type { WalStats } from './walStats.js';

/** How a command opens its WAL. */
export interface OpenWalOptions {
  /** `scan` and `stats` open read-only (and need the file to exist); `append` opens for writing. */
  readOnly: boolean;
  /** `append --payload-codec`: the codec of a new file (an existing file keeps its own). */
  payloadCodec?: 'raw' | 'json';
  /** `--user`, `--password`, `--creds`, `--tls-ca`: credentials for a `nats://` location. */
  nats?: NatsCredentials;
}

/** The NATS credentials given on the command line (each wins over the URL and the environment). */
export interface NatsCredentials {
  readonly user?: string;
  readonly password?: string;
  /** A credentials file (JWT and nkey seed). */
  readonly creds?: string;
  /** A CA certificate file for TLS. */
  readonly tlsCa?: string;
}

/**
 * A WAL as the command uses it: a writer, a read-only view when the backend has one, and the
 * payload codec it stores payloads with (absent: payloads are kept as values, as in memory).
 */
export type CliWal = Wal & {
  readOnly?(): ReadableWal;
  /** The backend's own counts (the SQLite WAL's); absent: `stats` reads the log. */
  stats?(): WalStats;
  readonly payloadCodec?: { readonly name: string } | undefined;
};

/** A pause switch that follows a file; `close()` stops watching it. */
export interface PauseSwitch {
  readonly pause$: Observable<boolean>;
  close(): void;
}

/** A metrics sink and the Prometheus text exposition of what it has counted. */
export interface MetricsExporter {
  readonly metrics: ScannerMetrics;
  readonly contentType: string;
  text(): Promise<string>;
}

/**
 * Everything the command touches outside itself, injected so that it runs in-process in tests
 * (a memory WAL, string streams) and against real files from `main.ts`.
 */
export interface CliDeps {
  /** Opens the WAL at `path`; throws {@link MissingWalError} when a read-only open finds no file. */
  openWal(path: string, options: OpenWalOptions): Promise<CliWal>;
  /** Builds the pause switch of `scan --pause-file`; default: `pauseFromFile` on the file. */
  pauseFromFile?(path: string): PauseSwitch;
  /** Builds the Prometheus sink of `scan --metrics-port` for a channel; absent: the option is refused. */
  prometheus?(channel: string): Promise<MetricsExporter>;
  stdout: Writable;
  stderr: Writable;
  stdin: AsyncIterable<string | Uint8Array>;
  /** Is stderr a terminal? Only then does `scan` draw a progress bar. */
  isTTY: boolean;
  /** Aborted on SIGINT/SIGTERM: ends `scan --follow` cleanly. */
  signal?: AbortSignal;
  /** The package version printed by `--version`. */
  version: string;
  /** Milliseconds for the progress bar's rate; default `Date.now`. */
  now?(): number;
}
