import { describe, expect, it } from 'vitest';
import { KINDS, PROVIDER_KINDS, embeddingModelOf, embeddingProblem } from '../../src/llm/index.js';

const config = (kind: (typeof PROVIDER_KINDS)[number], embedding_model?: string) => ({
  llm: { providers: [{ name: 'first', kind, base_url: 'https://example.test/v1' }] },
  cache: { semantic: true, ...(embedding_model ? { embedding_model } : {}) },
});

describe('the kinds table: embeddings and Batch API', () => {
  it('a kind without embeddings names no model; every fact row cites its sources', () => {
    for (const kind of PROVIDER_KINDS) {
      const facts = KINDS[kind];
      if (!facts.embeddings) expect(facts.embeddingModel, kind).toBeUndefined();
      expect(facts.sources.length, kind).toBeGreaterThan(0);
      for (const source of facts.sources) expect(source, kind).toMatch(/^https:\/\//);
    }
  });

  it('a Batch API names a chat completions endpoint its lines repeat, and a window', () => {
    for (const kind of PROVIDER_KINDS) {
      const batch = KINDS[kind].batch;
      if (!batch) continue;
      expect(batch.endpoint, kind).toMatch(/^(\/v1)?\/chat\/completions$/);
      expect(batch.completionWindow, kind).toBe('24h');
    }
    expect(KINDS.azure.batch?.endpoint).toBe('/chat/completions');
    expect(KINDS.ollama.batch).toBeUndefined();
    expect(KINDS.vertex.batch).toBeUndefined();
  });

  it('the embedding model: the configured one, else the kind’s; a problem where there is neither', () => {
    expect(embeddingModelOf(config('gemini'))).toBe('gemini-embedding-001');
    expect(embeddingModelOf(config('ollama'))).toBe('nomic-embed-text');
    expect(embeddingModelOf(config('gemini', 'text-embedding-004'))).toBe('text-embedding-004');
    expect(embeddingProblem(config('anthropic', 'voyage-3'))?.path).toBe('cache.semantic');
    expect(embeddingProblem(config('vllm'))?.path).toBe('cache.embedding_model');
    expect(embeddingProblem(config('vllm', 'BAAI/bge-m3'))).toBeUndefined();
    expect(embeddingProblem({ ...config('groq'), cache: { semantic: false } })).toBeUndefined();
  });
});
