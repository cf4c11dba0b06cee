import { isPlainObject, type BatchDialect, type BatchError } from './batch-object.js';
import type { InputLine, Timings } from './batch-state.js';
import { invalidRequest, type ApiReply } from './files.js';
import { CHAT_COMPLETIONS_PATH } from './validate.js';

// What the Batch API checks before it runs anything: the fields of POST /v1/batches, and the
// input file line by line when a batch leaves `validating`.

/** Endpoints the real API accepts for a batch; the emulator runs only chat completions. */
const BATCH_ENDPOINTS = [
  '/v1/responses',
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/completions',
  '/v1/moderations',
  '/v1/images/generations',
  '/v1/images/edits',
  '/v1/videos',
];

/** Validation errors reported in `errors.data` of a failed batch, at most. */
const MAX_REPORTED_ERRORS = 1000;

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The fields of a POST /v1/batches body, checked in the order the real API reports them. */
export interface CreateFields {
  inputFileId: string;
  endpoint: string;
  window: string;
  metadata: Record<string, string> | null;
}

/** The create request's fields, or the 400 the first bad one earns. */
export function checkCreateBody(body: Record<string, unknown>, dialect: BatchDialect | undefined): { ok: true; fields: CreateFields } | { ok: false; reply: ApiReply } {
  const fail = (reply: ApiReply): { ok: false; reply: ApiReply } => ({ ok: false, reply });
  const inputFileId = body['input_file_id'];
  const endpoint = body['endpoint'];
  const window = body['completion_window'];
  const metadata = body['metadata'];
  if (typeof inputFileId !== 'string' || inputFileId === '') {
    return fail(invalidRequest("Missing required parameter: 'input_file_id'.", 'input_file_id', 'missing_required_parameter'));
  }
  if (typeof endpoint !== 'string' || endpoint === '') {
    return fail(invalidRequest("Missing required parameter: 'endpoint'.", 'endpoint', 'missing_required_parameter'));
  }
  if (dialect && endpoint !== dialect.endpoint) {
    return fail(invalidRequest(`Invalid value: '${endpoint}'. Supported values are: '${dialect.endpoint}'.`, 'endpoint', 'invalid_value'));
  }
  if (!dialect && !BATCH_ENDPOINTS.includes(endpoint)) {
    return fail(invalidRequest(
      `Invalid value: '${endpoint}'. Supported values are: ${BATCH_ENDPOINTS.map((e) => `'${e}'`).join(', ')}.`,
      'endpoint',
      'invalid_value',
    ));
  }
  if (!dialect && endpoint !== CHAT_COMPLETIONS_PATH) {
    return fail(invalidRequest(`The emulator only runs batches for '${CHAT_COMPLETIONS_PATH}', not '${endpoint}'.`, 'endpoint', 'invalid_value'));
  }
  if (typeof window !== 'string' || window === '') {
    return fail(invalidRequest("Missing required parameter: 'completion_window'.", 'completion_window', 'missing_required_parameter'));
  }
  if (dialect ? !dialect.windows.test(window) : window !== '24h') {
    return fail(invalidRequest(`Invalid value: '${window}'. Supported values are: ${dialect?.windowsText ?? "'24h'"}.`, 'completion_window', 'invalid_value'));
  }
  const meta = checkMetadata(metadata);
  if (!meta.ok) return meta;
  return { ok: true, fields: { inputFileId, endpoint, window, metadata: meta.value } };
}

/** Metadata as OpenAI checks it: at most 16 string pairs, keys ≤ 64 and values ≤ 512 characters. */
function checkMetadata(value: unknown): { ok: true; value: Record<string, string> | null } | { ok: false; reply: ApiReply } {
  if (value === undefined || value === null) return { ok: true, value: null };
  const bad = (message: string): { ok: false; reply: ApiReply } => ({ ok: false, reply: invalidRequest(message, 'metadata', 'invalid_value') });
  if (!isPlainObject(value)) return bad("Invalid type for 'metadata': expected an object.");
  const entries = Object.entries(value);
  if (entries.length > 16) {
    return bad(`Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got ${entries.length}.`);
  }
  const out: Record<string, string> = {};
  for (const [key, v] of entries) {
    if (key.length > 64) return bad(`Invalid 'metadata': key '${key.slice(0, 20)}…' is longer than 64 characters.`);
    if (typeof v !== 'string') return bad(`Invalid type for 'metadata.${key}': expected a string.`);
    if (v.length > 512) return bad(`Invalid 'metadata.${key}': string too long. Expected a string with maximum length 512.`);
    out[key] = v;
  }
  return { ok: true, value: out };
}

/** The input file checked like the real API: file-wide limits first, then each line; the lines to run and their one model, or the errors. */
export function checkInput(
  content: Buffer | undefined,
  fileId: string,
  endpoint: string,
  limits: Pick<Timings, 'maxInputBytes' | 'maxRequests'>,
): { ok: true; lines: InputLine[]; model: string } | { ok: false; errors: BatchError[] } {
  const fileError = (code: string, message: string): { ok: false; errors: BatchError[] } => ({
    ok: false,
    errors: [{ code, message, param: null, line: null }],
  });
  if (content === undefined) return fileError('invalid_file', `The input file ${fileId} was deleted before the batch was validated.`);
  const { maxInputBytes, maxRequests } = limits;
  if (content.length > maxInputBytes) {
    return fileError(
      'file_too_large',
      `The input file is ${content.length} bytes, larger than the maximum of ${maxInputBytes} bytes allowed for a batch.`,
    );
  }
  const rawLines = content.toString('utf8').split('\n');
  let requests = 0;
  for (const raw of rawLines) if (raw.trim() !== '') requests++;
  if (requests === 0) return fileError('empty_file', 'The batch input file is empty. Please provide a file with at least one request.');
  if (requests > maxRequests) {
    return fileError(
      'too_many_tasks',
      `The batch input file contains ${requests} requests, more than the maximum of ${maxRequests} requests per batch.`,
    );
  }

  const errors: BatchError[] = [];
  const report = (line: number, code: string, message: string, param: string | null): void => {
    if (errors.length < MAX_REPORTED_ERRORS) errors.push({ code, message, param, line });
  };
  const lines: InputLine[] = [];
  const seen = new Set<string>();
  let model: string | undefined;
  for (let i = 0; i < rawLines.length; i++) {
    const raw = rawLines[i] ?? '';
    const lineNo = i + 1;
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      report(lineNo, 'invalid_json_line', 'This line is not parseable as valid JSON.', null);
      continue;
    }
    if (!isPlainObject(value)) {
      report(lineNo, 'invalid_json_line', 'This line is not a JSON object.', null);
      continue;
    }
    const customId = value['custom_id'];
    const method = value['method'];
    const url = value['url'];
    const body = value['body'];
    if (typeof customId !== 'string' || customId === '') {
      report(lineNo, 'missing_required_parameter', "Missing required parameter: 'custom_id'.", 'custom_id');
      continue;
    }
    if (method === undefined || method === null) {
      report(lineNo, 'missing_required_parameter', "Missing required parameter: 'method'.", 'method');
      continue;
    }
    if (method !== 'POST') {
      report(lineNo, 'invalid_value', `Invalid value: '${show(method)}'. Supported values are: 'POST'.`, 'method');
      continue;
    }
    if (url === undefined || url === null) {
      report(lineNo, 'missing_required_parameter', "Missing required parameter: 'url'.", 'url');
      continue;
    }
    if (url !== endpoint) {
      report(lineNo, 'url_mismatch', `The provided URL '${show(url)}' does not match the endpoint of the batch: '${endpoint}'.`, 'url');
      continue;
    }
    if (!isPlainObject(body)) {
      report(lineNo, 'missing_required_parameter', "Missing required parameter: 'body'.", 'body');
      continue;
    }
    const lineModel = body['model'];
    if (typeof lineModel !== 'string' || lineModel === '') {
      report(lineNo, 'missing_required_parameter', "Missing required parameter: 'body.model'.", 'body.model');
      continue;
    }
    if (seen.has(customId)) {
      report(
        lineNo,
        'duplicate_custom_id',
        `The custom_id '${customId}' is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.`,
        'custom_id',
      );
      continue;
    }
    seen.add(customId);
    if (model === undefined) {
      model = lineModel;
    } else if (lineModel !== model) {
      report(
        lineNo,
        'model_mismatch',
        `The model '${lineModel}' does not match the model '${model}' of the other requests in this file. A batch must use a single model.`,
        'body.model',
      );
      continue;
    }
    lines.push({ customId, body });
  }
  if (errors.length > 0 || model === undefined) return { ok: false, errors };
  return { ok: true, lines, model };
}
