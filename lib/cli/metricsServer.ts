import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { MetricsExporter } from './deps.js';

/** A running `/metrics` endpoint. */
export interface MetricsServer {
  /** `http://127.0.0.1:<port>/metrics` (the port actually bound, for `--metrics-port 0`). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the exporter's Prometheus text at `GET /metrics` on 127.0.0.1 (never on other
 * interfaces): `rxwal scan --metrics-port 9464`.
 */
export async function startMetricsServer(
  exporter: MetricsExporter,
  port: number,
): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    exporter.text().then(
      (text) => response.writeHead(200, { 'content-type': exporter.contentType }).end(text),
      (err: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${err}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
