import { factsOf } from './detect.js';
import type { ProviderKind } from './types.js';

/** What the semantic cache embeds with: a model at the first provider's endpoint, or why there is none. */
export type EmbeddingChoice = { ok: true; model: string } | { ok: false; problem: string; hint: string };

/**
 * The embedding model of `cache.semantic`: `cache.embedding_model` when set, else the
 * default of the first provider's kind (src/llm/kinds/table.ts). A kind with no
 * embeddings endpoint (Anthropic's layer, Groq, OpenRouter) cannot serve it at all; one
 * whose models are the user's own (Azure deployments, a vLLM server) needs the name.
 */
export function embeddingChoice(provider: { name: string; base_url: string; kind?: ProviderKind | undefined }, configured: string | undefined): EmbeddingChoice {
  const facts = factsOf(provider);
  const where = `provider "${provider.name}" (${facts.label}, kind ${facts.kind})`;
  if (!facts.embeddings) {
    return {
      ok: false,
      problem: `cache.semantic needs embeddings, and ${where} has no embeddings endpoint`,
      hint: 'Set cache.semantic: false, or put first under llm.providers a provider with embeddings (OpenAI, Gemini, Vertex AI, Ollama, Azure, vLLM).',
    };
  }
  if (configured !== undefined) return { ok: true, model: configured };
  if (facts.embeddingModel !== undefined) return { ok: true, model: facts.embeddingModel };
  return {
    ok: false,
    problem: `cache.semantic needs an embedding model, and ${where} has no default one`,
    hint: `Set cache.embedding_model to the embedding model ${facts.kind === 'azure' ? 'deployment' : 'your server serves'} at ${provider.base_url}.`,
  };
}

/** The config problem of a `cache.semantic` that no embedding model can serve, for ConfigError (exit 2); undefined when it can. */
export function embeddingProblem(config: { llm: { providers: ReadonlyArray<{ name: string; base_url: string; kind?: ProviderKind | undefined }> }; cache: { semantic: boolean; embedding_model?: string | undefined } }): { path: string; message: string; hint: string } | undefined {
  const first = config.llm.providers[0];
  if (!config.cache.semantic || !first) return undefined;
  const choice = embeddingChoice(first, config.cache.embedding_model);
  return choice.ok ? undefined : { path: choice.problem.includes('no default') ? 'cache.embedding_model' : 'cache.semantic', message: choice.problem, hint: choice.hint };
}

/** The embedding model of a config whose `cache.semantic` passed `embeddingProblem` (else: RangeError, a bug). */
export function embeddingModelOf(config: { llm: { providers: ReadonlyArray<{ name: string; base_url: string; kind?: ProviderKind | undefined }> }; cache: { embedding_model?: string | undefined } }): string {
  const first = config.llm.providers[0];
  if (!first) throw new RangeError('llm.providers is empty');
  const choice = embeddingChoice(first, config.cache.embedding_model);
  if (!choice.ok) throw new RangeError(`${choice.problem}. ${choice.hint}`);
  return choice.model;
}
