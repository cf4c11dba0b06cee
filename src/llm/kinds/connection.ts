import type { KindFacts } from './types.js';

/** How the OpenAI client reaches an endpoint: its root, and what every request carries. */
export interface Connection {
  baseURL: string;
  /** Extra headers; a null removes the SDK's own (Azure's api-key replaces the bearer token). */
  defaultHeaders: Record<string, string | null>;
  /** Query parameters every request carries (Azure's api-version on classic URLs). */
  defaultQuery: Record<string, string> | undefined;
}

/**
 * The client settings for a base_url. A query string in it (Azure's classic
 * `…/openai/deployments/NAME?api-version=2024-10-21`) is sent with every request rather
 * than pasted before the path; Azure's keys go in an `api-key` header
 * (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference), which its v1
 * API at /openai/v1/ accepts too.
 */
export function connectionOf(facts: KindFacts, baseUrl: string, apiKey: string): Connection {
  let baseURL = baseUrl;
  let defaultQuery: Record<string, string> | undefined;
  try {
    const url = new URL(baseUrl);
    if (url.search !== '') {
      defaultQuery = Object.fromEntries(url.searchParams);
      url.search = '';
      baseURL = url.toString();
    }
  } catch {
    // Not a URL: the config schema refuses those; leave it to the client to report.
  }
  // google-oauth: the access token is set per request by the transport (src/llm/google-token.ts).
  const defaultHeaders: Record<string, string | null> = facts.auth === 'api-key' ? { 'api-key': apiKey, Authorization: null } : {};
  return { baseURL: baseURL.replace(/\/+$/, ''), defaultHeaders, defaultQuery };
}
