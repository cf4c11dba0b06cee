import type { ProviderKind, ServiceTier } from '../../config/index.js';

export { PROVIDER_KINDS, type ProviderKind, type ServiceTier } from '../../config/index.js';

/** A request field the bot may send that some providers refuse, and that can be done without. */
export type DroppableField = 'prompt_cache_key' | 'service_tier' | 'max_completion_tokens';

/** How a provider's Batch API takes a job: the same Files + Batches calls, with its own words. */
export interface BatchFacts {
  /** The `endpoint` of the job, which every line's `url` must repeat. */
  endpoint: string;
  /** The `completion_window` the bot asks for. */
  completionWindow: string;
}

/**
 * What one provider family documents about its chat completions endpoint: what each
 * request carries, how its answers are read, how a key is checked. Every fact cites
 * the page it comes from (`sources`), so that a change of the provider's behaviour is
 * a change of one row here, not a hunt through conditions.
 */
export interface KindFacts {
  kind: ProviderKind;
  /** The provider's name, for messages and the README table. */
  label: string;
  /** Documentation pages the facts below come from. */
  sources: readonly string[];
  request: {
    /** Sends prompt_cache_key (OpenAI's prompt caching routing hint). */
    promptCacheKey: boolean;
    /** The field that caps the answer's length: the endpoint ignores the other one. */
    maxTokensField: 'max_completion_tokens' | 'max_tokens';
    /** response_format json_object is accepted (when json_schema is refused, the bot falls back to it). */
    jsonObject: boolean;
    /**
     * The `service_tier` values this kind takes (`llm.providers[].service_tier`); empty: the
     * field is never sent (such endpoints refuse fields they do not know).
     */
    serviceTiers: readonly ServiceTier[];
    /** An answer served at flex (the response's service_tier) is billed at Batch prices (OpenAI), not the standard ones (Groq). */
    flexAtBatchPrices: boolean;
    /** An answer served at priority is billed at the model's priority prices (OpenAI). */
    priorityPrices: boolean;
  };
  /**
   * How the endpoint authenticates: a bearer token (the API key), Azure's `api-key` header
   * on classic deployment URLs, or an OAuth access token of the Sheets service account (Vertex AI).
   */
  auth: 'bearer' | 'api-key' | 'google-oauth';
  /** Where waits and limits are read from. */
  limits: {
    /** Retry-After / retry-after-ms headers on 429s. */
    retryAfterHeader: boolean;
    /** google.rpc.RetryInfo.retryDelay in the error body (Google APIs). */
    retryInfoBody: boolean;
    /**
     * What x-ratelimit-limit-requests counts: per minute (OpenAI), per day (Groq), or no
     * such header (only -remaining, or none at all): then nothing is learned from it.
     */
    requestsHeader: 'minute' | 'day' | 'none';
    /** What x-ratelimit-limit-tokens counts. */
    tokensHeader: 'minute' | 'none';
    /** X-RateLimit-Reset on a 429 is the epoch millisecond the limit resets at (OpenRouter), not a duration. */
    resetEpochHeader: boolean;
  };
  /**
   * The free call that proves a key: GET {base}/models for most; OpenRouter lists models
   * without a key, so its GET {base}/key; none where there is no key (a local Ollama).
   */
  keyCheck: 'models' | 'key' | 'none';
  /** Where cached prompt tokens are reported: usage.prompt_tokens_details.cached_tokens, or nowhere (counted as 0). */
  cachedTokens: 'prompt_tokens_details' | 'none';
  /** The Batch API (/batches) at this endpoint, and how a job is asked of it; undefined: none. */
  batch: BatchFacts | undefined;
  /** The endpoint serves /embeddings (the semantic cache needs it). */
  embeddings: boolean;
  /** The embedding model used when cache.embedding_model is unset (undefined: the user's own, e.g. an Azure deployment). */
  embeddingModel: string | undefined;
  /** What this provider's error answers mean beyond OpenAI's statuses (cited in `sources`). */
  answers: AnswerFacts;
  /**
   * A base_url path that names one deployment, whose resource serves files, batches and the
   * model list one level up (Azure's classic `/openai/deployments/NAME` → `/openai`);
   * undefined where those live under the base_url itself.
   */
  deploymentPath: RegExp | undefined;
}

/** How a provider says "the account", "the key" or "this row" where OpenAI's statuses would not tell. */
export interface AnswerFacts {
  /** Statuses that judge one request's content, not the key (OpenRouter's 403: moderation flagged the input). */
  rowStatuses: readonly number[];
  /**
   * Error codes (the body's error.code, or Azure's error.innererror.code) that judge one
   * request's content, whatever the status: the same words for every row they hit, yet
   * each row's own failure, never a sign of misconfiguration (src/llm/refusal-judge.ts).
   */
  rowCodes: readonly string[];
  /** Statuses that mean the account has no credit left (OpenRouter's 402). */
  noCreditStatuses: readonly number[];
  /** Error messages, by their documented start, that mean no credit left whatever the status (Anthropic's 400). */
  noCreditMessages: readonly RegExp[];
  /** google.rpc.ErrorInfo reasons that mean a wrong key whatever the status (Google's 400 API_KEY_INVALID). */
  badKeyReasons: readonly string[];
  /** QuotaFailure quotaIds counted per day: once spent, waiting within a run will not help (Google's …PerDay…). */
  perDayQuota: RegExp | undefined;
}
