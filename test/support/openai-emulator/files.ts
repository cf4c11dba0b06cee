import { randomBytes } from 'node:crypto';

import { errorBody, type OpenAIErrorFields } from './errors.js';
import type { RecordedRequest } from './types.js';

/** Largest upload POST /v1/files accepts (OpenAI's per-file limit); bigger bodies get 413. */
export const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

/** Purposes POST /v1/files accepts from clients (batch_output etc. are made by the API itself). */
const UPLOAD_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;

export type FilePurpose = (typeof UPLOAD_PURPOSES)[number] | 'batch_output';

/** The file object of the Files API, as GET /v1/files/:id returns it. */
export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: FilePurpose;
  status: 'processed';
  expires_at: number | null;
  status_details: null;
}

/** What a Files/Batches route answers: JSON, or raw bytes (file content). */
export interface ApiReply {
  status: number;
  json?: unknown;
  raw?: Buffer;
  contentType?: string;
}

/** One HTTP call to a Files/Batches route. */
export interface ApiCall {
  method: string;
  /** Path segments after /v1/, e.g. ['files', 'file-abc', 'content']. */
  parts: string[];
  query: URLSearchParams;
  body: Buffer;
  contentType: string | undefined;
  /** The request's entry in `emu.requests`; routes fill in `body`. */
  record: RecordedRequest;
}

export function newId(prefix: string, bytes = 12): string {
  return prefix + randomBytes(bytes).toString('hex');
}

export function toSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

export function jsonReply(json: unknown, status = 200): ApiReply {
  return { status, json };
}

export function apiError(status: number, fields: OpenAIErrorFields): ApiReply {
  return { status, json: errorBody(fields) };
}

export function invalidUrl(call: Pick<ApiCall, 'method' | 'record'>): ApiReply {
  return apiError(404, { message: `Invalid URL (${call.method} ${call.record.path})`, type: 'invalid_request_error' });
}

export function invalidRequest(message: string, param: string | null = null, code: string | null = null): ApiReply {
  return apiError(400, { message, type: 'invalid_request_error', param, code });
}

/** `limit` from a list query, clamped to 1..max; undefined (→ 400) when not a positive integer. */
export function listLimit(query: URLSearchParams, fallback: number, max: number): number | undefined {
  const raw = query.get('limit');
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) return undefined;
  return Math.min(n, max);
}

/** A cursor page as OpenAI lists answer it: {object:'list', data, first_id, last_id, has_more}. */
export function listPage<T extends { id: string }>(ordered: readonly T[], after: string | null, limit: number): unknown {
  let start = 0;
  if (after !== null && after !== '') {
    const at = ordered.findIndex((item) => item.id === after);
    start = at < 0 ? ordered.length : at + 1;
  }
  const data = ordered.slice(start, start + limit);
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
    has_more: start + limit < ordered.length,
  };
}

interface StoredFile {
  object: FileObject;
  content: Buffer;
  /** Creation order, to sort files created in the same second. */
  seq: number;
}

function notFound(id: string): ApiReply {
  return apiError(404, { message: `No such File object: ${id}`, type: 'invalid_request_error', param: 'id' });
}

/** Uploaded and API-made (batch output/error) files, kept in memory. */
export class FileStore {
  private readonly byId = new Map<string, StoredFile>();
  private seq = 0;

  constructor(private readonly now: () => number) {}

  add(filename: string, purpose: FilePurpose, content: Buffer): FileObject {
    const object: FileObject = {
      id: newId('file-'),
      object: 'file',
      bytes: content.length,
      created_at: toSeconds(this.now()),
      filename,
      purpose,
      status: 'processed',
      expires_at: null,
      status_details: null,
    };
    this.byId.set(object.id, { object, content, seq: this.seq++ });
    return object;
  }

  get(id: string): FileObject | undefined {
    return this.byId.get(id)?.object;
  }

  content(id: string): Buffer | undefined {
    return this.byId.get(id)?.content;
  }

  /** Files not deleted, oldest first (copies). */
  list(): FileObject[] {
    return [...this.byId.values()].sort((a, b) => a.seq - b.seq).map((f) => ({ ...f.object }));
  }

  clear(): void {
    this.byId.clear();
  }

  /** POST/GET/DELETE /v1/files[/:id[/content]]. */
  async handle(call: ApiCall): Promise<ApiReply> {
    const [, id, sub, ...extra] = call.parts;
    if (extra.length > 0) return invalidUrl(call);
    if (id === undefined) {
      if (call.method === 'POST') return this.upload(call);
      if (call.method === 'GET') return this.listReply(call.query);
      return invalidUrl(call);
    }
    const stored = this.byId.get(id);
    if (sub === 'content') {
      if (call.method !== 'GET') return invalidUrl(call);
      if (!stored) return notFound(id);
      return { status: 200, raw: stored.content, contentType: 'application/octet-stream' };
    }
    if (sub !== undefined) return invalidUrl(call);
    if (call.method === 'GET') return stored ? jsonReply(stored.object) : notFound(id);
    if (call.method === 'DELETE') {
      if (!stored) return notFound(id);
      this.byId.delete(id);
      return jsonReply({ id, object: 'file', deleted: true });
    }
    return invalidUrl(call);
  }

  private listReply(query: URLSearchParams): ApiReply {
    const limit = listLimit(query, 10_000, 10_000);
    if (limit === undefined) return invalidRequest("Invalid 'limit': expected a positive integer.", 'limit', 'invalid_value');
    const order = query.get('order') ?? 'desc';
    if (order !== 'asc' && order !== 'desc') {
      return invalidRequest(`Invalid value: '${order}'. Supported values are: 'asc' and 'desc'.`, 'order', 'invalid_value');
    }
    const purpose = query.get('purpose');
    let files = [...this.byId.values()].sort((a, b) => a.seq - b.seq).map((f) => f.object);
    if (purpose !== null && purpose !== '') files = files.filter((f) => f.purpose === purpose);
    if (order === 'desc') files.reverse();
    return jsonReply(listPage(files, query.get('after'), limit));
  }

  private async upload(call: ApiCall): Promise<ApiReply> {
    const form = await parseMultipart(call.body, call.contentType);
    if (form === undefined) {
      return invalidRequest(
        "Invalid request: expected a multipart/form-data body with the fields 'purpose' and 'file'.",
        null,
      );
    }
    const purpose = form.get('purpose');
    const file = form.get('file');
    call.record.body = {
      purpose: typeof purpose === 'string' ? purpose : undefined,
      filename: file instanceof File ? file.name : undefined,
      bytes: file instanceof File ? file.size : undefined,
    };
    if (typeof purpose !== 'string' || purpose === '') {
      return invalidRequest("Missing required parameter: 'purpose'.", 'purpose', 'missing_required_parameter');
    }
    if (!(UPLOAD_PURPOSES as readonly string[]).includes(purpose)) {
      return invalidRequest(
        `Invalid value: '${purpose}'. Supported values are: ${UPLOAD_PURPOSES.map((p) => `'${p}'`).join(', ')}.`,
        'purpose',
        'invalid_value',
      );
    }
    if (!(file instanceof File)) {
      return invalidRequest("Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
    }
    if (purpose === 'batch' && !file.name.toLowerCase().endsWith('.jsonl')) {
      return invalidRequest('Invalid file format for Batch API. Must be .jsonl', 'file', 'invalid_file_format');
    }
    const content = Buffer.from(await file.arrayBuffer());
    return jsonReply(this.add(file.name, purpose as FilePurpose, content));
  }
}

/** The fields of a multipart/form-data body (Node's own parser); undefined when it is not one. */
async function parseMultipart(body: Buffer, contentType: string | undefined): Promise<FormData | undefined> {
  if (contentType === undefined || !/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  try {
    return await new Request('http://emulator.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
  } catch {
    return undefined;
  }
}
