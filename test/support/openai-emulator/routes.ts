import type { IncomingMessage, ServerResponse } from 'node:http';

import type { BatchEngine } from './batches.js';
import { authorization, chatCompletionBody } from './chat.js';
import type { EmbeddingsEndpoint } from './embeddings.js';
import type { Outcome } from './errors.js';
import { apiError, MAX_UPLOAD_BYTES, type ApiReply, type FileStore } from './files.js';
import { modelsReply } from './models.js';
import type { EmulatorProfile } from './profiles.js';
import type { OpenAIEmulatorOptions, RecordedRequest } from './types.js';
import { buildUsage } from './usage.js';
import { checkAuth } from './validate.js';

// The HTTP side of the emulator: reading bodies, which resource a path names, the Files /
// Batches / Embeddings / Models / Key routes behind their auth, and writing a chat outcome.

export type ApiResource = 'files' | 'batches' | 'embeddings' | 'models' | 'key';

/** OpenRouter's GET /api/v1/key (https://openrouter.ai/docs/api/api-reference/api-keys/get-current-key.md): the key's details. */
function keyReply(method: string): ApiReply {
  if (method !== 'GET') return apiError(405, { message: `Method ${method} not allowed on /v1/key.`, type: 'invalid_request_error' });
  return { status: 200, json: { data: { label: 'sk-or-v1-emu...', limit: null, limit_remaining: null, usage: 0, is_free_tier: false } } };
}

/** Which Files/Batches/Embeddings resource a path belongs to, if any. */
export function apiResource(path: string): ApiResource | undefined {
  for (const resource of ['files', 'batches', 'embeddings', 'models'] as const) {
    const root = `/v1/${resource}`;
    if (path === root || path.startsWith(`${root}/`)) return resource;
  }
  return undefined;
}

/** What the API routes answer from: the options, the profile and the stores behind each resource. */
export interface ApiContext {
  opts: OpenAIEmulatorOptions;
  profile: EmulatorProfile | undefined;
  fileStore: FileStore;
  batchEngine: BatchEngine;
  embeddings: EmbeddingsEndpoint;
  /** True once close() began: nothing more is written. */
  closing: () => boolean;
}

/** /v1/files…, /v1/batches…, /v1/embeddings and /v1/models: auth, then the file store, the batch engine, the embedder or the model list. */
export async function handleApi(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, record: RecordedRequest, resource: ApiResource): Promise<void> {
  const body = await readBody(req, MAX_UPLOAD_BYTES);
  const startedMs = Date.now();
  let reply: ApiReply;
  const keyless = resource === 'models' && ctx.profile?.modelsWithoutKey === true;
  const key = authorization(ctx.profile, record);
  const authorize = ctx.opts.authorize;
  const refused = authorize && !keyless ? authorize(key ?? undefined) : undefined;
  const checked = authorize || ctx.opts.apiKey === undefined || keyless || key === null ? undefined : checkAuth(key, ctx.opts.apiKey);
  const denied = refused
    ? ({ kind: 'error', status: refused.status, body: refused.body } as const)
    : checked === undefined
      ? undefined
      : (ctx.profile?.wrongKey?.() ?? checked);
  if (denied?.kind === 'error') {
    reply = { status: denied.status, json: denied.body };
  } else if (body === undefined) {
    reply = apiError(413, { message: 'Request body too large.', type: 'invalid_request_error' });
  } else {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const call = {
      method: record.method,
      parts: record.path.split('/').filter((p) => p !== '').slice(1).map(decodeURIComponent),
      query: url.searchParams,
      body,
      contentType: req.headers['content-type'],
      record,
    };
    if (resource === 'key') reply = keyReply(call.method);
    else if (resource === 'models') reply = modelsReply(call, ctx.opts.models);
    else if (resource === 'embeddings') reply = ctx.profile?.embeddings === false ? apiError(404, { message: `Invalid URL (${call.method} ${record.path})`, type: 'invalid_request_error' }) : ctx.embeddings.handle(call);
    else if (resource === 'batches' && ctx.profile?.batch === false) reply = apiError(404, { message: `Invalid URL (${call.method} ${record.path})`, type: 'invalid_request_error' });
    else reply = resource === 'files' ? await ctx.fileStore.handle(call) : await ctx.batchEngine.handle(call);
  }
  if (ctx.closing() || res.destroyed || res.writableEnded || req.socket.destroyed) return;
  record.status = reply.status;
  res.writeHead(reply.status, {
    'openai-version': '2020-10-01',
    'openai-processing-ms': String(Date.now() - startedMs),
    'content-type': reply.contentType ?? 'application/json',
  });
  res.end(reply.raw ?? JSON.stringify(reply.json ?? null));
}

/** Write a chat outcome: nothing for a hang, a dropped socket for a reset, else status, headers and body. */
export function sendOutcome(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, outcome: Outcome, baseHeaders: () => Record<string, string>): void {
  if (outcome.kind === 'hang') return; // until the client gives up or close() destroys the socket
  if (outcome.kind === 'reset') {
    req.socket.destroy();
    return;
  }
  const headers = baseHeaders();
  let status: number;
  let payload: string;
  if (outcome.kind === 'error') {
    status = outcome.status;
    Object.assign(headers, outcome.headers);
    if (typeof outcome.body === 'string') {
      headers['content-type'] ??= 'text/plain; charset=utf-8';
      payload = outcome.body;
    } else {
      headers['content-type'] ??= 'application/json';
      payload = JSON.stringify(outcome.body ?? null);
    }
  } else {
    status = 200;
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(chatCompletionBody(record.model ?? 'unknown', record.usage ?? buildUsage(0, 0, 0), outcome, record.serviceTier));
  }
  record.status = status;
  res.writeHead(status, headers);
  res.end(payload);
}

/** The request body; undefined when it exceeds `maxBytes`. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooBig = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(chunks)));
    req.on('error', () => resolve(Buffer.alloc(0)));
    req.on('close', () => resolve(tooBig ? undefined : Buffer.concat(chunks)));
  });
}
