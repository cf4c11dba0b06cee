/** The HTTP layer: a plain node:http server on 127.0.0.1 that hands parsed requests to a handler. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface HttpRequest {
  method: string;
  /** Raw path, without the query string. */
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  /** Parsed JSON body; undefined when the body was empty. */
  body: unknown;
  /** Set when the body was not valid JSON. */
  bodyError: string | undefined;
  /** Size of the body as sent (before gunzip), for the payload limit. */
  bodyBytes: number;
  /** Length of the request target (path and query) as sent, for the URL limit. */
  urlBytes: number;
}

export interface HttpResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Drop the connection instead of answering. */
  destroySocket?: boolean;
  /** A body sent as it is, not as JSON (the HTML view); its content-type goes in `headers`. */
  text?: string;
}

export type Handler = (req: HttpRequest) => Promise<HttpResponse>;

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<{ raw: Buffer; sent: number }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return { raw: req.headers['content-encoding'] === 'gzip' && raw.length > 0 ? gunzipSync(raw) : raw, sent: raw.length };
}

async function parseRequest(req: IncomingMessage): Promise<HttpRequest> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const out: HttpRequest = {
    method: (req.method ?? 'GET').toUpperCase(),
    path: q < 0 ? url : url.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
    authorization: req.headers.authorization,
    body: undefined,
    bodyError: undefined,
    bodyBytes: 0,
    urlBytes: Buffer.byteLength(url),
  };
  const { raw, sent } = await readBody(req);
  out.bodyBytes = sent;
  if (raw.length > 0) {
    try {
      out.body = JSON.parse(raw.toString('utf8')) as unknown;
    } catch (err) {
      out.bodyError = err instanceof Error ? err.message : String(err);
    }
  }
  return out;
}

function send(res: ServerResponse, out: HttpResponse): void {
  if (out.destroySocket) {
    res.socket?.destroy();
    return;
  }
  const payload = out.text ?? (out.body === undefined ? '' : JSON.stringify(out.body));
  res.writeHead(out.status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': String(Buffer.byteLength(payload)),
    ...out.headers,
  });
  res.end(payload);
}

export async function listen(port: number, handler: Handler): Promise<RunningServer> {
  const server = createServer((req, res) => {
    parseRequest(req)
      .then(handler)
      .then(
        (out) => send(res, out),
        (err: unknown) =>
          send(res, { status: 500, body: { error: { code: 500, message: String(err), status: 'INTERNAL' } } }),
      );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
