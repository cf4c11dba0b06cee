import { apiError, invalidRequest, invalidUrl, jsonReply, type ApiCall, type ApiReply } from './files.js';
import { estimateTokens } from './usage.js';

export const EMBEDDINGS_PATH = '/v1/embeddings';
/** Vector length when the request does not ask for `dimensions`. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 256;
/** Inputs allowed in one request (OpenAI's limit). */
export const MAX_EMBEDDING_INPUTS = 2048;
const MAX_DIMENSIONS = 4096;

/**
 * A deterministic stand-in for an embedding model: lower-cased word unigrams and bigrams,
 * each hashed to a bucket with a hashed sign, then L2-normalised. Texts sharing most of
 * their words land close (cosine ≈ 0.9 for a one-word edit of a ten-word comment); texts
 * sharing none sit near 0. Every model name gets the same space, so tests can show that it
 * is the caller, not the vectors, that keeps models apart.
 */
export function embedText(text: string, dimensions = DEFAULT_EMBEDDING_DIMENSIONS): Float32Array {
  const vector = new Float32Array(dimensions);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const add = (feature: string) => {
    const h = fnv1a(feature);
    vector[h % dimensions] = (vector[h % dimensions] ?? 0) + ((h >>> 31) === 1 ? -1 : 1);
  };
  for (let i = 0; i < words.length; i++) {
    add(words[i] ?? '');
    if (i > 0) add(`${words[i - 1] ?? ''} ${words[i] ?? ''}`);
  }
  let norm = 0;
  for (const x of vector) norm += x * x;
  // A text without words still gets a unit vector, as a real model would give one.
  if (norm === 0) {
    vector[fnv1a(text) % dimensions] = 1;
    return vector;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] ?? 0) * scale;
  return vector;
}

/** float32 little-endian bytes in base64: what the API sends for `encoding_format: 'base64'`. */
export function toBase64Float32(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i] ?? 0, i * 4);
  return bytes.toString('base64');
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** POST /v1/embeddings: validates the body as the API does, counts the calls and answers the vectors. */
export class EmbeddingsEndpoint {
  private calls = 0;

  count(): number {
    return this.calls;
  }

  clear(): void {
    this.calls = 0;
  }

  handle(call: ApiCall): ApiReply {
    if (call.record.path !== EMBEDDINGS_PATH) return invalidUrl(call);
    if (call.method !== 'POST') return apiError(405, { message: `Method ${call.method} not allowed on ${EMBEDDINGS_PATH}.`, type: 'invalid_request_error' });
    this.calls += 1;
    let body: unknown;
    try {
      body = JSON.parse(call.body.toString('utf8'));
    } catch {
      return invalidRequest('We could not parse the JSON body of your request. (The OpenAI API expects a JSON payload.)');
    }
    call.record.body = body;
    const parsed = parseRequest(body);
    if ('status' in parsed) return parsed;
    call.record.model = parsed.model;
    const tokens = parsed.inputs.reduce((sum, text) => sum + estimateTokens(text.length), 0);
    call.record.usage = { prompt_tokens: tokens, completion_tokens: 0, total_tokens: tokens, cached_tokens: 0 };
    const data = parsed.inputs.map((text, index) => {
      const vector = embedText(text, parsed.dimensions);
      return { object: 'embedding', index, embedding: parsed.base64 ? toBase64Float32(vector) : Array.from(vector) };
    });
    return jsonReply({ object: 'list', data, model: parsed.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }
}

interface EmbeddingRequest {
  model: string;
  inputs: string[];
  dimensions: number;
  base64: boolean;
}

function parseRequest(body: unknown): EmbeddingRequest | ApiReply {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalidRequest('The request body must be a JSON object.');
  const b = body as Record<string, unknown>;
  const model = b['model'];
  if (typeof model !== 'string' || model === '') return invalidRequest('you must provide a model parameter', 'model', 'missing_required_parameter');
  const input = b['input'];
  const inputs = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(inputs) || !inputs.every((x): x is string => typeof x === 'string')) {
    return invalidRequest("'input' must be a string or an array of strings.", 'input', 'invalid_type');
  }
  if (inputs.length === 0 || inputs.length > MAX_EMBEDDING_INPUTS) {
    return invalidRequest(`'input' must hold 1 to ${MAX_EMBEDDING_INPUTS} items, got ${inputs.length}.`, 'input', 'invalid_value');
  }
  if (inputs.some((x) => x === '')) return invalidRequest("'$.input' is invalid: empty strings are not allowed.", 'input', 'invalid_value');
  const format = b['encoding_format'] ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    return invalidRequest(`Invalid value for 'encoding_format': expected 'float' or 'base64', got ${JSON.stringify(format)}.`, 'encoding_format', 'invalid_value');
  }
  const dimensions = b['dimensions'] ?? DEFAULT_EMBEDDING_DIMENSIONS;
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_DIMENSIONS) {
    return invalidRequest(`'dimensions' must be an integer from 1 to ${MAX_DIMENSIONS}.`, 'dimensions', 'invalid_value');
  }
  return { model, inputs, dimensions, base64: format === 'base64' };
}
