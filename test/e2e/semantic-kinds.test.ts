/**
 * Issue 20, item 4: the semantic cache's embeddings per provider kind. Unset
 * `cache.embedding_model` means the kind's own default (Gemini's gemini-embedding-001,
 * Ollama's nomic-embed-text, Vertex's google/gemini-embedding-001); a first provider with
 * no embeddings endpoint (Anthropic's layer, Groq, OpenRouter), or one whose model only the
 * user can name (a vLLM server, an Azure deployment), makes `cache.semantic` a config
 * problem: exit 2 at check-config and at run start, nothing read or sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import type { ProfileName } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';
import { startVertexAuthority, vertexBaseUrl, type VertexAuthority } from '../support/vertex-auth.js';

let bed: Bed | undefined;
let authority: VertexAuthority | undefined;
afterEach(async () => {
  await bed?.close();
  await authority?.tokens.close();
  bed = undefined;
  authority = undefined;
});

async function semanticBed(profile: ProfileName, cache: Record<string, unknown> = {}): Promise<Bed> {
  const vertex = profile === 'vertex' ? (authority = await startVertexAuthority()) : undefined;
  bed = await startBed({ rows: sampleRows(6), llm: { profile, ...(vertex ? { authorize: vertex.authorize } : {}) }, config: { cache: { semantic: true, ...cache } } });
  vertex?.adopt(bed);
  bed.setConfig({ llm: { providers: [{ name: `my-${profile}`, kind: profile, model: 'gpt-5-mini', base_url: vertex ? vertexBaseUrl(bed) : bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
  return bed;
}

const embeddingModels = (b: Bed) => b.llm.requests.filter((r) => r.path === '/v1/embeddings').map((r) => r.model);

describe('cache.semantic and the provider kind', () => {
  it.each([
    ['gemini', 'gemini-embedding-001'],
    ['ollama', 'nomic-embed-text'],
    ['vertex', 'google/gemini-embedding-001'],
    ['openai', 'text-embedding-3-small'],
  ] as const)("%s: embeds with the kind's own model when cache.embedding_model is unset", async (profile, model) => {
    const b = await semanticBed(profile);
    const result = await b.run();
    expect(result.code, result.stderr).toBe(0);
    const models = embeddingModels(b);
    expect(models.length).toBeGreaterThan(0);
    expect(new Set(models)).toEqual(new Set([model]));
  });

  it('cache.embedding_model, when set, wins over the kind’s default', async () => {
    const b = await semanticBed('gemini', { embedding_model: 'text-embedding-004' });
    expect((await b.run()).code).toBe(0);
    expect(new Set(embeddingModels(b))).toEqual(new Set(['text-embedding-004']));
  });

  it.each(['anthropic', 'groq', 'openrouter'] as const)('%s has no embeddings: exit 2 at run start and at check-config, naming the provider, nothing sent', async (profile) => {
    const b = await semanticBed(profile);
    const before = b.values();
    const run = await b.run();
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`cache\\.semantic: cache\\.semantic needs embeddings, and provider "my-${profile}" \\(.*kind ${profile}\\) has no embeddings endpoint`));
    expect(run.stderr).toMatch(/Set cache\.semantic: false/);
    const check = await b.cli(['check-config', '--config', b.configPath]);
    expect(check.code).toBe(2);
    expect(check.stderr).toContain('has no embeddings endpoint');
    expect(b.llm.requests).toEqual([]);
    expect(b.values()).toEqual(before);
  });

  it('vllm: its embedding model is the one it serves, so cache.embedding_model must name it (exit 2 until it does)', async () => {
    const b = await semanticBed('vllm');
    const run = await b.run();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cache\.embedding_model: cache\.semantic needs an embedding model, and provider "my-vllm" \(vLLM, kind vllm\) has no default one/);
    expect(b.llm.requests).toEqual([]);
    b.setConfig({ cache: { embedding_model: 'BAAI/bge-m3' } });
    const named = await b.run();
    expect(named.code, named.stderr).toBe(0);
    expect(new Set(embeddingModels(b))).toEqual(new Set(['BAAI/bge-m3']));
  });
});
