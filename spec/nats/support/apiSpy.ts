import { connect, type NatsConnection } from '@nats-io/transport-node';

import { PASSWORD, USER, type NatsServer } from './natsServer.js';

/** One JetStream API request: its kind (`INFO`, `MSG.NEXT`, `STREAM.INFO` …) and body. */
export interface ApiRequest {
  readonly kind: string;
  readonly body: string;
}

/**
 * The JetStream API requests about one stream, as clients make them: JetStream API requests are
 * ordinary messages of the account, so a second connection subscribed to `$JS.API.>` sees them.
 * Consumer requests are named by what follows `CONSUMER.` (`INFO`, `MSG.NEXT`, `DELETE`,
 * `CREATE`), stream requests by `STREAM.` and what follows.
 */
export class ApiSpy {
  readonly requests: ApiRequest[] = [];
  private constructor(private readonly nc: NatsConnection) {}

  static async start(server: NatsServer, stream: string): Promise<ApiSpy> {
    const nc = await connect({ servers: server.url, user: USER, pass: PASSWORD });
    const spy = new ApiSpy(nc);
    nc.subscribe('$JS.API.>', {
      callback: (_err, msg) => {
        // $JS.API.CONSUMER.<KIND...>.<stream>[.<consumer>] or $JS.API.STREAM.<KIND...>.<stream>
        const tokens = msg.subject.split('.');
        const at = tokens.indexOf(stream);
        if (at < 0) return;
        const kind = tokens.slice(tokens[2] === 'CONSUMER' ? 3 : 2, at).join('.');
        spy.requests.push({ kind, body: msg.string() });
      },
    });
    await nc.flush();
    return spy;
  }

  of(kind: string): ApiRequest[] {
    return this.requests.filter((r) => r.kind === kind);
  }

  /** Resolves once `count` requests of `kind` were seen (each macrotask checks again). */
  async until(kind: string, count: number): Promise<void> {
    while (this.of(kind).length < count) await new Promise((resolve) => setImmediate(resolve));
  }

  async stop(): Promise<void> {
    await this.nc.flush();
    await this.nc.close();
  }
}
