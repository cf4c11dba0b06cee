import { KINDS } from './table.js';
import type { KindFacts, ProviderKind } from './types.js';

/**
 * The kind of an endpoint from its base_url, when the config does not say:
 *   api.openai.com → openai; *.openai.azure.com, *.cognitiveservices.azure.com,
 *   *.services.ai.azure.com → azure; generativelanguage.googleapis.com → gemini;
 *   *aiplatform.googleapis.com → vertex; api.anthropic.com → anthropic;
 *   openrouter.ai → openrouter; api.groq.com → groq; port 11434 or ollama.com → ollama;
 *   anything else → generic (a vLLM server, a gateway: set `kind` to say more).
 */
export function detectKind(baseUrl: string): ProviderKind {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return 'generic';
  }
  const host = url.hostname.toLowerCase();
  const is = (domain: string) => host === domain || host.endsWith(`.${domain}`);
  if (is('api.openai.com')) return 'openai';
  if (is('openai.azure.com') || is('cognitiveservices.azure.com') || is('services.ai.azure.com')) return 'azure';
  if (is('generativelanguage.googleapis.com')) return 'gemini';
  if (host === 'aiplatform.googleapis.com' || host.endsWith('-aiplatform.googleapis.com')) return 'vertex';
  if (is('api.anthropic.com')) return 'anthropic';
  if (is('openrouter.ai')) return 'openrouter';
  if (is('api.groq.com')) return 'groq';
  if (url.port === '11434' || is('ollama.com')) return 'ollama';
  return 'generic';
}

/** The facts of a configured provider: its `kind`, else the one its base_url names. */
export function factsOf(provider: { base_url: string; kind?: ProviderKind | undefined }): KindFacts {
  return KINDS[provider.kind ?? detectKind(provider.base_url)];
}
