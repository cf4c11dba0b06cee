import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the places a notification goes, as unkind as the real ones:
 *
 * Google Chat incoming webhooks — POST https://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN
 * with a Message resource as JSON (https://developers.google.com/workspace/chat/quickstart/webhooks).
 * Wrong or missing key/token: refused. A body that is not JSON, or names a field the
 * Message resource does not have: 400 INVALID_ARGUMENT ("Invalid JSON payload received",
 * as Google's JSON-to-proto parser answers). No text and no cards: 400 ("Message cannot
 * be empty"). Over 32,000 bytes: 400 (the message size limit,
 * https://developers.google.com/workspace/chat/api/reference/rest/v1/spaces.messages/create).
 * Over 60 messages a minute into one space: 429 RESOURCE_EXHAUSTED (per-space write quota,
 * https://developers.google.com/workspace/chat/limits).
 *
 * Slack incoming webhooks — POST https://hooks.slack.com/services/T…/B…/SECRET
 * (https://api.slack.com/messaging/webhooks). Plain-text answers: `ok` (200);
 * `invalid_payload` (400) for a body that is not JSON of the content type; `no_text` (400)
 * for a message with neither text nor blocks nor attachments; `no_service` (404) for an
 * unknown URL (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks).
 *
 * Any other path: a plain receiver taking any JSON body (the `json` format), 200.
 *
 * Faults are scripted per request, in order: `answers` ('ok' lets the service answer,
 * a status, 429 with Retry-After, or 'hang': never answer).
 */

export type Answer = 'ok' | 'hang' | { status: number; retryAfter?: string; body?: string };

export interface CapturedRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** What the receiver answered (undefined: it hung). */
  status: number | undefined;
}

export interface WebhookReceiver {
  url: string;
  /** A Google Chat webhook URL of this receiver (the key and token it checks). */
  chatUrl: string;
  /** A Slack webhook URL of this receiver. */
  slackUrl: string;
  /** A plain receiver's URL (format json). */
  jsonUrl: string;
  readonly requests: CapturedRequest[];
  /** Scripted answers, taken one per request in order; when none is left the service answers. */
  answers: Answer[];
  close(): Promise<void>;
}

export const CHAT_KEY = 'AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI';
export const CHAT_TOKEN = 'O7bnyri_WEXKcyFkK8mF3q2cG3Jx0bGx2dVd9m2Wk9E%3D';
export const SLACK_SECRET = 'XXXXxxxxYYYYyyyyZZZZzzzz';
const CHAT_SPACE = 'AAAAkM-test';
const SLACK_PATH = `/services/T00000000/B00000000/${SLACK_SECRET}`;

/** The fields of Google Chat's Message resource a webhook may send (unknown names are refused). */
const MESSAGE_FIELDS = new Set(['text', 'cardsV2', 'cards', 'thread', 'fallbackText', 'argumentText', 'accessoryWidgets', 'privateMessageViewer', 'annotations', 'attachment', 'formattedText', 'name', 'sender', 'createTime', 'clientAssignedMessageId']);
const CHAT_MAX_BYTES = 32_000;
const CHAT_PER_MINUTE = 60;

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: CapturedRequest[] = [];
  const chatTimes: number[] = [];
  const hanging = new Set<ServerResponse>();
  const receiver: WebhookReceiver = { url: '', chatUrl: '', slackUrl: '', jsonUrl: '', requests, answers: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://receiver');
      const captured: CapturedRequest = { at: Date.now(), method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: { ...req.headers }, body, status: undefined };
      requests.push(captured);
      const scripted = receiver.answers.shift() ?? 'ok';
      if (scripted === 'hang') {
        hanging.add(res);
        return;
      }
      const [status, type, text, headers] = scripted === 'ok' ? service(req, url, body, chatTimes) : [scripted.status, 'text/plain', scripted.body ?? (scripted.status === 429 ? 'rate_limited' : 'rollup_error'), scripted.retryAfter === undefined ? {} : { 'retry-after': scripted.retryAfter }];
      captured.status = status;
      res.writeHead(status, { 'content-type': type, ...headers });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}`;
  receiver.chatUrl = `${receiver.url}/v1/spaces/${CHAT_SPACE}/messages?key=${CHAT_KEY}&token=${CHAT_TOKEN}`;
  receiver.slackUrl = `${receiver.url}${SLACK_PATH}`;
  receiver.jsonUrl = `${receiver.url}/hooks/status`;
  receiver.close = async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

type Reply = [number, string, string, Record<string, string>];

function service(req: IncomingMessage, url: URL, body: string, chatTimes: number[]): Reply {
  if (url.pathname.startsWith('/v1/spaces/')) return googleChat(req, url, body, chatTimes);
  if (url.pathname.startsWith('/services/')) return slack(req, url, body);
  try {
    JSON.parse(body);
  } catch {
    return [400, 'text/plain', 'not JSON', {}];
  }
  return [200, 'text/plain', 'ok', {}];
}

function googleError(status: number, code: string, message: string): Reply {
  return [status, 'application/json; charset=UTF-8', JSON.stringify({ error: { code: status, message, status: code } }), {}];
}

function googleChat(req: IncomingMessage, url: URL, body: string, chatTimes: number[]): Reply {
  if (req.method !== 'POST') return googleError(405, 'METHOD_NOT_ALLOWED', 'Only POST creates a message.');
  const match = /^\/v1\/spaces\/([^/]+)\/messages$/.exec(url.pathname);
  if (!match || match[1] !== CHAT_SPACE) return googleError(404, 'NOT_FOUND', 'Requested entity was not found.');
  // The URL keeps the token percent-encoded; searchParams decodes it, as Google does.
  if (url.searchParams.get('key') !== CHAT_KEY || url.searchParams.get('token') !== decodeURIComponent(CHAT_TOKEN)) {
    return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
  }
  if (!/^application\/json/i.test(req.headers['content-type'] ?? '')) return googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected content type.');
  if (Buffer.byteLength(body) > CHAT_MAX_BYTES) return googleError(400, 'INVALID_ARGUMENT', `Message too large: at most ${CHAT_MAX_BYTES} bytes.`);
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.');
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Root element must be a message.');
  for (const key of Object.keys(message)) {
    if (!MESSAGE_FIELDS.has(key)) return googleError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. Unknown name "${key}" at 'message': Cannot find field.`);
  }
  const { text, cardsV2 } = message as { text?: unknown; cardsV2?: unknown };
  if (text !== undefined && typeof text !== 'string') return googleError(400, 'INVALID_ARGUMENT', `Invalid value at 'message.text' (TYPE_STRING).`);
  if ((text === undefined || text === '') && !Array.isArray(cardsV2)) return googleError(400, 'INVALID_ARGUMENT', 'Message cannot be empty. Discarding empty message.');
  const now = Date.now();
  while (chatTimes.length > 0 && (chatTimes[0] ?? 0) <= now - 60_000) chatTimes.shift();
  if (chatTimes.length >= CHAT_PER_MINUTE) return googleError(429, 'RESOURCE_EXHAUSTED', "Resource has been exhausted (e.g. check quota).");
  chatTimes.push(now);
  return [200, 'application/json; charset=UTF-8', JSON.stringify({ name: `spaces/${CHAT_SPACE}/messages/m${now}`, text }), {}];
}

function slack(req: IncomingMessage, url: URL, body: string): Reply {
  if (url.pathname !== SLACK_PATH) return [404, 'text/plain', 'no_service', {}];
  if (req.method !== 'POST') return [405, 'text/plain', 'invalid_method', {}];
  let message: unknown;
  try {
    // Slack reads the body as its content type says: JSON only with application/json.
    if (!/^application\/json/i.test(req.headers['content-type'] ?? '')) throw new Error('not json');
    message = JSON.parse(body);
  } catch {
    return [400, 'text/plain', 'invalid_payload', {}];
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return [400, 'text/plain', 'invalid_payload', {}];
  const { text, blocks, attachments } = message as { text?: unknown; blocks?: unknown; attachments?: unknown };
  if (text !== undefined && typeof text !== 'string') return [400, 'text/plain', 'invalid_payload', {}];
  if ((typeof text !== 'string' || text.trim() === '') && !Array.isArray(blocks) && !Array.isArray(attachments)) return [400, 'text/plain', 'no_text', {}];
  return [200, 'text/plain', 'ok', {}];
}
