import {
  openJetStreamWal,
  type JetStreamWal,
  type JetStreamWalOptions,
} from '../../../lib/nats/index.js';
import { PASSWORD, startNatsServer, USER, type NatsServer } from './natsServer.js';

/** A describe block's own nats-server and the JetStream WALs its tests open on it. */
export interface ServerWals {
  /** The server, once `beforeAll` started it. */
  server(): NatsServer;
  /**
   * Opens channel `channel` on the server (user/password, `timeTickInterval: '1h'` unless
   * `options` say otherwise; a `connection` in `options` replaces the servers and credentials).
   * The WAL is closed after the block.
   */
  open(channel: string, options?: Partial<JetStreamWalOptions>): Promise<JetStreamWal>;
}

/** Starts a nats-server named `name` before the enclosing describe block, stops it after. */
export function walsOnOneServer(name: string): ServerWals {
  let server: NatsServer | undefined;
  const opened: JetStreamWal[] = [];
  beforeAll(async () => {
    server = await startNatsServer(name);
  });
  afterAll(async () => {
    for (const wal of opened) await wal.close().catch(() => undefined);
    await server?.dispose();
  });
  const started = (): NatsServer => {
    if (server === undefined) throw new Error(`nats-server ${name} is not started yet`);
    return server;
  };
  return {
    server: started,
    async open(channel, options = {}) {
      const reach =
        options.connection === undefined
          ? { servers: started().url, connectOptions: { user: USER, pass: PASSWORD } }
          : {};
      const wal = await openJetStreamWal({ channel, ...reach, timeTickInterval: '1h', ...options });
      opened.push(wal);
      return wal;
    },
  };
}
