import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The nats-server binary on PATH, or undefined. */
export const natsServerBinary: string | undefined = (() => {
  const found = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
})();

/**
 * `describe` for specs that need a real nats-server: without the binary it says so in one line
 * and skips them, unless CI=true, where a missing binary fails the run.
 */
export function describeWithNats(name: string, body: () => void): void {
  if (natsServerBinary !== undefined) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    throw new Error(
      'nats-server is not on PATH (CI=true): install it (apt-get install nats-server)',
    );
  }
  if (!warned) {
    warned = true;
    process.stderr.write('nats-server not on PATH: skipping the NATS specs\n');
  }
  describe.skip(name, body);
}
let warned = false;

export const USER = 'rxwal';
export const PASSWORD = 's3cret-pw';

/** A free TCP port on loopback (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** How the harness starts a server beyond JetStream on a loopback port. */
export interface NatsServerOptions {
  /** More command-line arguments (`--tls`, `--auth <token>` …). */
  readonly args?: readonly string[];
  /** The `--user`/`--pass` of {@link USER} and {@link PASSWORD}; default true. */
  readonly password?: boolean;
  /** A configuration file's text (`-c`): authorization blocks, operator mode … */
  readonly config?: string;
}

/** One nats-server process the test harness started. */
export class NatsServer {
  process: ChildProcess | undefined;
  readonly storeDir: string;
  private readonly extraArgs: readonly string[];

  constructor(
    readonly name: string,
    readonly port: number,
    options: NatsServerOptions = {},
  ) {
    this.storeDir = mkdtempSync(join(tmpdir(), `rxwal-nats-${name}-`));
    const args = [...(options.args ?? [])];
    if (options.password ?? true) args.push('--user', USER, '--pass', PASSWORD);
    if (options.config !== undefined) {
      const file = join(this.storeDir, 'server.conf');
      writeFileSync(file, options.config);
      args.push('-c', file);
    }
    this.extraArgs = args;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts the server; resolves once it logs "Server is ready". */
  start(): Promise<void> {
    const args = [
      '-js',
      '-sd',
      this.storeDir,
      '-a',
      '127.0.0.1',
      '-p',
      String(this.port),
      '-n',
      this.name,
      ...this.extraArgs,
    ];
    const child = spawn(natsServerBinary as string, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.process = child;
    return new Promise((resolve, reject) => {
      let log = '';
      const onData = (chunk: Buffer): void => {
        log += chunk.toString();
        if (log.includes('Server is ready')) {
          child.stderr?.off('data', onData);
          child.stderr?.resume(); // keep draining so the server never blocks on a full pipe
          resolve();
        }
      };
      child.stderr?.on('data', onData);
      child.once('exit', (code) =>
        reject(new Error(`nats-server ${this.name} exited with ${code}: ${log.slice(-2000)}`)),
      );
      child.once('error', reject);
    });
  }

  /** SIGKILL, waiting for the exit. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGTERM (or SIGKILL), waits for the exit. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  /** Stops the server and removes its store. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}

/**
 * Starts one server with JetStream on a free port; by default with user/password authentication,
 * else as `options` say (a configuration file, TLS, another kind of authentication).
 */
export async function startNatsServer(
  name = 'n1',
  options: NatsServerOptions = {},
): Promise<NatsServer> {
  const server = new NatsServer(name, await freePort(), options);
  await server.start();
  return server;
}

/** Starts a cluster of `size` servers with JetStream (routes on free ports). */
export async function startNatsCluster(size = 3, clusterName = 'rxwal'): Promise<NatsServer[]> {
  const ports = await Promise.all(Array.from({ length: size * 2 }, () => freePort()));
  const routes = Array.from({ length: size }, (_, i) => `nats://127.0.0.1:${ports[size + i]}`);
  const servers = Array.from(
    { length: size },
    (_, i) =>
      new NatsServer(`${clusterName}-n${i + 1}`, ports[i] as number, {
        args: [
          '--cluster',
          routes[i] as string,
          '--routes',
          routes.filter((_, j) => j !== i).join(','),
          '--cluster_name',
          clusterName,
        ],
      }),
  );
  await Promise.all(servers.map((s) => s.start()));
  return servers;
}

/** A describe block's scratch: a temporary directory, and servers stopped after all its tests. */
export interface ServerScratch {
  /** The directory (made before all tests, removed after them). */
  readonly dir: string;
  /** Starts a server that is disposed after all the tests. */
  start(...args: Parameters<typeof startNatsServer>): Promise<NatsServer>;
}

/** Registers the `beforeAll`/`afterAll` of a {@link ServerScratch} in the calling describe block. */
export function serverScratch(prefix: string): ServerScratch {
  let dir = '';
  const servers: NatsServer[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.dispose()));
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    async start(...args) {
      const server = await startNatsServer(...args);
      servers.push(server);
      return server;
    },
  };
}
