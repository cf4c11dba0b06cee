/**
 * Semantic cache: a row whose text is close enough to an answered row's, with the same
 * status, may reuse that row's verdict instead of asking the model (`cache.semantic`, off
 * by default). It trades accuracy for money; it is safe only when all of these hold:
 *
 * - The rules judge what a comment means, not how it is written. Rules on exact wording
 *   (spelling, length limits, required keywords or ticket ids, a fixed format, numbers or
 *   names that must be right) are blind spots: embeddings put "deployed to staging" and
 *   "deployed to prod", or a sentence and its negation, close together.
 * - Dates are not what the rules mostly judge. The due date is part of the embedded text
 *   (so a different date is a different text), but a date is a few tokens of many: it
 *   lowers the similarity only a little. Rules like "the due date must be in the future"
 *   need a high threshold, or no semantic cache.
 * - A reused verdict's issues and rewrite suggestion were written for the neighbour's
 *   comment, not this one: show the verdict marked as reused, and never present the
 *   suggestion as a rewrite of this row's text.
 * - Every vector is stored under a `scope` that the caller derives from everything the
 *   exact cache key covers except the row (rules, allowed statuses, prompt version, model,
 *   schema version): change the rules and old neighbours stop matching, as exact keys do.
 *   Vectors of another embedding model, another status (compared trimmed and
 *   case-insensitively) or another dimension are never compared.
 *
 * Threshold: cosine similarity, 0..1, and its scale depends on the embedding model. Start
 * high (0.95: the same comment with a word or two changed) and lower it only after `eval`
 * on your own sheet shows the reused verdicts agree with fresh ones. With OpenAI's
 * text-embedding-3 models, unrelated texts score roughly 0.1-0.3 and different updates
 * about the same project often 0.6-0.85, so thresholds below about 0.9 reuse verdicts
 * across comments that say different things.
 */
import OpenAI from 'openai';
import type { EmbeddingStore, Store } from '../cache/index.js';
import { RemoteError, StatusValidatorError, redact } from '../errors.js';
import type { RowInputs } from '../sheets/table.js';
import { VectorIndex, fromBase64Float32, normalised, toFloat32Bytes } from './vectors.js';

export const DEFAULT_EMBEDDING_MODEL = 'text-embedding-3-small';
/** Texts per embeddings request; the API allows 2048, smaller requests fail and retry cheaper. */
export const EMBED_CHUNK_SIZE = 256;

export interface SemanticCacheOptions {
  /** An OpenAI-compatible client, e.g. a Provider's `api`. */
  client: OpenAI;
  /** Embedding model; default text-embedding-3-small. */
  model?: string;
  /** Least cosine similarity (0..1) for a neighbour's verdict to be reused. */
  threshold: number;
  /**
   * Ask for vectors of this length (text-embedding-3 models shorten their vectors on request);
   * default: the model's own (1536 for text-embedding-3-small). Lookups cost time in proportion.
   */
  dimensions?: number;
  /** Partition of the rulebook etc. the verdicts were computed under (see the top of this file); default ''. */
  scope?: string;
}

export interface SemanticMatch {
  /** The neighbour's cache key: its verdict is `store.get(key)`. */
  key: string;
  /** Cosine similarity, threshold..1. */
  similarity: number;
}

/**
 * The text embedded for a row: its comment, then its due date, so that the same comment
 * with another date is another text. The status is not in the text: it partitions the
 * vectors exactly instead.
 */
export function semanticText(inputs: Pick<RowInputs, 'comment' | 'completion_date' | 'extra'>, extraHeaders: readonly string[] = []): string {
  const date = inputs.completion_date.trim();
  const base = `${inputs.comment.trim()}\nDue date: ${date === '' ? 'none' : date}`;
  if (inputs.extra === undefined) return base;
  // The extra inputs under their headers, as the model sees them (they also partition the vectors).
  return `${base}${inputs.extra.map((value, i) => `\n${extraHeaders[i] ?? `Input ${i + 1}`}: ${value.trim() === '' ? 'none' : value.trim()}`).join('')}`;
}

/**
 * The partition a row's vector is stored and looked up in: its status, and its extra
 * inputs when there are any, so that rows differing in an owner or a budget never share
 * a verdict however close their comments are (compared trimmed and case-insensitively, like statuses).
 */
export function semanticPartition(inputs: Pick<RowInputs, 'status' | 'extra'>): string {
  return inputs.extra === undefined ? inputs.status : `${inputs.status}\u0000${JSON.stringify(inputs.extra.map((value) => value.trim()))}`;
}

/** Statuses are compared trimmed and case-insensitively. */
export function statusPartition(status: string): string {
  return status.trim().toLowerCase();
}

/**
 * Embeddings of answered rows in the cache's SQLite file (table `embeddings`, keyed like
 * `verdicts`), and nearest-neighbour lookups over them. The vectors of a (status,
 * dimension) partition are read once per instance, on the first lookup, and kept in
 * memory; `remember` keeps a loaded partition up to date. Make one instance per run.
 */
export class SemanticCache {
  readonly model: string;
  readonly threshold: number;
  readonly scope: string;
  readonly dimensions: number | undefined;
  private readonly client: OpenAI;
  private readonly embeddings: EmbeddingStore;
  private readonly partitions = new Map<string, VectorIndex>();

  constructor(store: Pick<Store, 'embeddings'>, options: SemanticCacheOptions) {
    const { client, model = DEFAULT_EMBEDDING_MODEL, threshold, scope = '', dimensions } = options;
    if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
      throw new RangeError(`threshold must be a number from 0 to 1, got ${String(threshold)}`);
    }
    if (typeof model !== 'string' || model.trim() === '') throw new RangeError(`model must be a non-empty string, got ${JSON.stringify(model)}`);
    if (dimensions !== undefined && (!Number.isInteger(dimensions) || dimensions < 1)) {
      throw new RangeError(`dimensions must be a positive integer, got ${String(dimensions)}`);
    }
    this.client = client;
    this.dimensions = dimensions;
    this.model = model;
    this.threshold = threshold;
    this.scope = scope;
    this.embeddings = store.embeddings;
  }

  /** One vector per text, in order; one API call per EMBED_CHUNK_SIZE texts. Texts must not be empty. */
  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    texts.forEach((text, i) => {
      if (typeof text !== 'string' || text === '') throw new RangeError(`texts[${i}] must be a non-empty string (the embeddings API rejects empty input)`);
    });
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += EMBED_CHUNK_SIZE) {
      vectors.push(...(await this.embedChunk(texts.slice(start, start + EMBED_CHUNK_SIZE), signal)));
    }
    return vectors;
  }

  /** Stores (or replaces) the embedding of an answered row's text under its cache key. */
  async remember(key: string, status: string, vector: Float32Array): Promise<void> {
    if (typeof key !== 'string' || key === '') throw new RangeError('key must be a non-empty string');
    const unit = normalised(vector, 'vector');
    const partition = statusPartition(status);
    const previous = await this.embeddings.previous(key);
    await this.embeddings.put(key, partition, this.model, this.scope, toFloat32Bytes(unit));
    if (previous) {
      // Replaced: the old vector may sit in a loaded partition; reload both on next use.
      if (previous.model === this.model && previous.scope === this.scope) this.partitions.delete(partitionId(previous.status, previous.bytes / 4));
      this.partitions.delete(partitionId(partition, unit.length));
      return;
    }
    this.partitions.get(partitionId(partition, unit.length))?.add(key, unit);
  }

  /** The most similar stored row with the same status, model and scope, if its similarity reaches the threshold. */
  async nearest(vector: Float32Array, status: string): Promise<SemanticMatch | undefined> {
    const unit = normalised(vector, 'vector');
    const best = (await this.partition(statusPartition(status), unit.length)).best(unit);
    return best && best.similarity >= this.threshold ? best : undefined;
  }

  private async partition(status: string, dimension: number): Promise<VectorIndex> {
    const id = partitionId(status, dimension);
    const loaded = this.partitions.get(id);
    if (loaded) return loaded;
    const stored = { model: this.model, scope: this.scope, status, bytes: dimension * 4 };
    const index = new VectorIndex(dimension, await this.embeddings.count(stored));
    for await (const row of this.embeddings.vectors(stored)) index.addBytes(row.key, row.vector);
    // A look that loaded it meanwhile wins: one index per partition, the one `remember` adds to.
    const raced = this.partitions.get(id);
    if (raced) return raced;
    this.partitions.set(id, index);
    return index;
  }

  private async embedChunk(texts: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    let response: OpenAI.CreateEmbeddingResponse;
    try {
      // base64 explicitly: the SDK then hands the string over as is, and we decode straight into a Float32Array.
      const body: OpenAI.EmbeddingCreateParams = { model: this.model, input: texts, encoding_format: 'base64' };
      if (this.dimensions !== undefined) body.dimensions = this.dimensions;
      response = await this.client.embeddings.create(body, signal ? { signal } : {});
    } catch (error) {
      if (error instanceof OpenAI.APIUserAbortError) throw error;
      throw this.failure(error);
    }
    const vectors: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(texts.length);
    for (const item of response.data) {
      const raw: unknown = item.embedding;
      const vector = typeof raw === 'string' ? fromBase64Float32(raw) : Array.isArray(raw) ? Float32Array.from(raw as number[]) : undefined;
      if (vector === undefined || !Number.isInteger(item.index) || item.index < 0 || item.index >= texts.length) {
        throw new StatusValidatorError(`the embeddings response of model ${this.model} is malformed (item ${item.index})`);
      }
      vectors[item.index] = vector;
    }
    const dimension = vectors[0]?.length;
    if (!vectors.every((v): v is Float32Array => v !== undefined && v.length === dimension && v.length > 0)) {
      throw new StatusValidatorError(`the embeddings response of model ${this.model} does not hold one vector of one dimension for each of the ${texts.length} texts`);
    }
    return vectors;
  }

  private failure(error: unknown): RemoteError {
    const where = `the embeddings request (${this.client.baseURL}, model ${this.model})`;
    const secrets = typeof this.client.apiKey === 'string' ? [this.client.apiKey] : [];
    const apiError = error instanceof OpenAI.APIError ? (error as InstanceType<typeof OpenAI.APIError>) : undefined;
    if (apiError?.status !== undefined) {
      return new RemoteError(redact(`${where} failed (${apiError.status}: ${apiError.message})`, secrets), {
        status: apiError.status,
        requestId: apiError.requestID ?? undefined,
        cause: error,
      });
    }
    const why = error instanceof Error ? error.message : String(error);
    return new RemoteError(redact(`${where} could not be sent: ${why}`, secrets), { cause: error });
  }
}

function partitionId(status: string, dimension: number): string {
  return `${dimension}\u0000${status}`;
}
