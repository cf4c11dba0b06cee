import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './registry.js';

/** Answers a scrape: the exposition text, or a 500 that says only that (nothing of the process). */
export async function sendMetrics(res: ServerResponse, metrics: Metrics): Promise<void> {
  try {
    const { contentType, body } = await metrics.exposition();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(body);
  } catch {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('metrics could not be collected\n');
  }
}

/**
 * `--metrics-port N` of watch and schedule: a server of its own answering GET /metrics
 * only (no token: nothing personal is in it). Bound to `host` (127.0.0.1 unless told).
 */
export async function startMetricsServer(metrics: Metrics, port: number, host: string): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') return void sendMetrics(res, metrics);
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('only GET /metrics here\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { address, port: bound } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${address.includes(':') ? `[${address}]` : address}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
