/**
 * A plain HTTP server on 127.0.0.1 for the tests of one file (listening before the first
 * test, closed with its connections after the last): for what the emulators do not answer,
 * such as a proxy's compressed or broken bodies.
 */
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export function localServer(handler: RequestListener): { readonly base: string } {
  const served = { base: '' };
  let server: Server | undefined;
  beforeAll(async () => {
    server = createServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    served.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });
  return served;
}
