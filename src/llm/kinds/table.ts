import type { AnswerFacts, BatchFacts, KindFacts, ProviderKind } from './types.js';

/** OpenAI's Batch API (https://platform.openai.com/docs/api-reference/batch/create): only "24h" is accepted. */
const OPENAI_BATCH: BatchFacts = { endpoint: '/v1/chat/completions', completionWindow: '24h' };

const OPENAI_LIMITS = { retryAfterHeader: true, retryInfoBody: false, requestsHeader: 'minute', tokensHeader: 'minute', resetEpochHeader: false } as const;
/**
 * Codes that refuse one prompt's content (moderation), the same text for every row they hit:
 * - OpenAI: 400 `invalid_prompt` "Invalid prompt: your prompt was flagged as potentially
 *   violating our usage policy..." (https://platform.openai.com/docs/guides/error-codes; the
 *   body as served: https://github.com/openai/codex/issues/7250), and
 *   `content_policy_violation` for what its safety system rejects (images, moderated inputs).
 * - Azure OpenAI: 400 `content_filter` "The response was filtered due to the prompt
 *   triggering Azure OpenAI's content management policy...", innererror.code
 *   `ResponsibleAIPolicyViolation`
 *   (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/concepts/content-filter).
 * Relays (OpenRouter, LiteLLM, vLLM fronts) pass these codes on, so every kind reads them.
 */
const CONTENT_CODES = ['invalid_prompt', 'content_policy_violation', 'content_filter', 'ResponsibleAIPolicyViolation'] as const;

/** OpenAI's statuses say it all, but for the content refusals' codes. */
const PLAIN: AnswerFacts = { rowStatuses: [], rowCodes: CONTENT_CODES, noCreditStatuses: [], noCreditMessages: [], badKeyReasons: [], perDayQuota: undefined };

/**
 * Google (Gemini, Vertex AI): a wrong key is 400 INVALID_ARGUMENT with ErrorInfo reason
 * API_KEY_INVALID (https://cloud.google.com/apis/design/errors#error_info, seen on the
 * OpenAI endpoint: https://github.com/continuedev/continue/issues/8516); a 429 whose
 * QuotaFailure quotaId is per day (GenerateRequestsPerDayPerProjectPerModel[-FreeTier],
 * https://ai.google.dev/gemini-api/docs/rate-limits, https://github.com/langgenius/dify/issues/19838)
 * does not come back before the day ends.
 */
const GOOGLE: AnswerFacts = { ...PLAIN, badKeyReasons: ['API_KEY_INVALID'], perDayQuota: /PerDay/ };

const NO_LIMIT_HEADERS = { retryAfterHeader: false, retryInfoBody: false, requestsHeader: 'none', tokensHeader: 'none', resetEpochHeader: false } as const;

/**
 * One row of facts per provider family. Each row names the pages its facts come from;
 * a fact found to be wrong is fixed here, and the learned-field memory (a 400 naming a
 * field drops it) covers what a row cannot know (a deployment older than its docs).
 */
export const KINDS: Readonly<Record<ProviderKind, KindFacts>> = {
  openai: {
    kind: 'openai',
    label: 'OpenAI',
    sources: [
      'https://platform.openai.com/docs/api-reference/chat/create',
      'https://platform.openai.com/docs/guides/rate-limits',
      'https://platform.openai.com/docs/guides/prompt-caching',
      'https://platform.openai.com/docs/guides/flex-processing',
    ],
    // service_tier auto | default | flex | priority (https://platform.openai.com/docs/api-reference/chat/create);
    // flex "priced at Batch API rates" (https://platform.openai.com/docs/guides/flex-processing),
    // priority at its own prices (https://platform.openai.com/docs/pricing).
    request: { promptCacheKey: true, maxTokensField: 'max_completion_tokens', jsonObject: true, serviceTiers: ['auto', 'default', 'flex', 'priority'], flexAtBatchPrices: true, priorityPrices: true },
    auth: 'bearer',
    limits: OPENAI_LIMITS,
    keyCheck: 'models',
    cachedTokens: 'prompt_tokens_details',
    batch: OPENAI_BATCH,
    // https://platform.openai.com/docs/guides/embeddings
    embeddings: true,
    embeddingModel: 'text-embedding-3-small',
    answers: PLAIN,
    deploymentPath: undefined,
  },
  azure: {
    kind: 'azure',
    label: 'Azure OpenAI',
    sources: [
      // v1 API at /openai/v1/ with the OpenAI client; classic URLs name a deployment and an api-version.
      'https://learn.microsoft.com/en-us/azure/ai-foundry/openai/api-version-lifecycle',
      // 400 "Unrecognized request argument supplied" / "Extra inputs are not permitted" on some deployments.
      'https://learn.microsoft.com/en-us/answers/questions/5555284/azure-openai-wrong-api-status-code-formatting',
      // Only x-ratelimit-remaining-requests / -tokens, no -limit-: nothing to learn a per-minute limit from.
      'https://learn.microsoft.com/en-us/answers/questions/2147319/how-to-get-values-of-rate-limits-(same-as-x-rateli',
      // Files and batches are the resource's: {endpoint}/openai/files, /openai/batches?api-version=… (REST tab).
      'https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/batch',
      // The model list too: GET {endpoint}/openai/models?api-version=….
      'https://learn.microsoft.com/en-us/rest/api/azureopenai/models/list',
    ],
    request: { promptCacheKey: true, maxTokensField: 'max_completion_tokens', jsonObject: true, serviceTiers: [], flexAtBatchPrices: false, priorityPrices: false },
    auth: 'api-key',
    limits: { retryAfterHeader: true, retryInfoBody: false, requestsHeader: 'none', tokensHeader: 'none', resetEpochHeader: false },
    keyCheck: 'models',
    cachedTokens: 'prompt_tokens_details',
    // A Global-Batch deployment; the job's endpoint and every line's url are /chat/completions, without /v1:
    // https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/batch
    batch: { endpoint: '/chat/completions', completionWindow: '24h' },
    // An embedding deployment of the user's own (its name is the model): https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/embeddings
    embeddings: true,
    embeddingModel: undefined,
    answers: PLAIN,
    deploymentPath: /\/deployments\/[^/]+\/?$/,
  },
  gemini: {
    kind: 'gemini',
    label: 'Google Gemini',
    sources: [
      'https://ai.google.dev/gemini-api/docs/openai',
      'https://ai.google.dev/api/compatibility',
      // 400 "Invalid JSON payload received. Unknown name ..." (a JSON array body) for fields it does not map.
      'https://github.com/OpenCoworkAI/open-codesign/issues/175',
      // 429 RESOURCE_EXHAUSTED carries google.rpc.RetryInfo.retryDelay ("22s"), no rate headers.
      'https://github.com/RooCodeInc/Roo-Code/issues/8012',
      'https://developers.googleblog.com/gemini-batch-api-now-supports-embeddings-and-openai-compatibility',
    ],
    request: { promptCacheKey: false, maxTokensField: 'max_tokens', jsonObject: true, serviceTiers: [], flexAtBatchPrices: false, priorityPrices: false },
    auth: 'bearer',
    limits: { retryAfterHeader: false, retryInfoBody: true, requestsHeader: 'none', tokensHeader: 'none', resetEpochHeader: false },
    keyCheck: 'models',
    cachedTokens: 'prompt_tokens_details',
    // Gemini's OpenAI-compatible batch: the same files + batches calls, lines and "24h":
    // https://developers.googleblog.com/gemini-batch-api-now-supports-embeddings-and-openai-compatibility
    batch: OPENAI_BATCH,
    // https://ai.google.dev/gemini-api/docs/openai#embeddings
    embeddings: true,
    embeddingModel: 'gemini-embedding-001',
    answers: GOOGLE,
    deploymentPath: undefined,
  },
  vertex: {
    kind: 'vertex',
    label: 'Google Vertex AI',
    sources: [
      // base_url https://{LOCATION}-aiplatform.googleapis.com/v1/projects/{PROJECT}/locations/{LOCATION}/endpoints/openapi;
      // models named "google/gemini-2.5-flash"; an OAuth access token (cloud-platform scope) as the bearer, an hour's life.
      'https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/call-vertex-using-openai-library',
      'https://docs.cloud.google.com/vertex-ai/generative-ai/docs/migrate/openai/auth-and-credentials',
      'https://github.com/RooCodeInc/Roo-Code/issues/8012',
    ],
    request: { promptCacheKey: false, maxTokensField: 'max_tokens', jsonObject: true, serviceTiers: [], flexAtBatchPrices: false, priorityPrices: false },
    auth: 'google-oauth',
    limits: { retryAfterHeader: false, retryInfoBody: true, requestsHeader: 'none', tokensHeader: 'none', resetEpochHeader: false },
    // Its OpenAI endpoint lists no models: check-config obtains a token and asks the model one tiny question.
    keyCheck: 'none',
    cachedTokens: 'prompt_tokens_details',
    batch: undefined,
    // Vertex's embedding models (gemini-embedding-001, text-embedding-005), named with the publisher as its chat models are:
    // https://cloud.google.com/vertex-ai/generative-ai/docs/embeddings/get-text-embeddings
    embeddings: true,
    embeddingModel: 'google/gemini-embedding-001',
    answers: GOOGLE,
    deploymentPath: undefined,
  },
  ollama: {
    kind: 'ollama',
    label: 'Ollama',
    sources: [
      // Supported request fields: max_tokens (not max_completion_tokens); no rate headers; key ignored.
      'https://docs.ollama.com/api/openai-compatibility',
      // 503 when the queue (OLLAMA_MAX_QUEUE) is full.
      'https://github.com/ollama/ollama/pull/4144',
    ],
    request: { promptCacheKey: false, maxTokensField: 'max_tokens', jsonObject: true, serviceTiers: [], flexAtBatchPrices: false, priorityPrices: false },
    auth: 'bearer',
    limits: NO_LIMIT_HEADERS,
    keyCheck: 'models',
    cachedTokens: 'none',
    batch: undefined,
    // /v1/embeddings: https://docs.ollama.com/api/openai-compatibility; nomic-embed-text: https://ollama.com/library/nomic-embed-text
    embeddings: true,
    embeddingModel: 'nomic-embed-text',
    answers: PLAIN,
    deploymentPath: undefined,
  },
  vllm: {
    kind: 'vllm',
    label: 'vLLM',
    sources: [
      'https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html',
      // Unknown fields are ignored (with a warning) rather than refused since this change.
      'https://github.com/vllm-project/vllm/pull/10463',
    ],
    request: { promptCacheKey: false, maxTokensField: 'max_completion_tokens', jsonObject: true, serviceTiers: [], flexAtBatchPrices: false, priorityPrices: false },
    auth: 'bearer',
    limits: NO_LIMIT_HEADERS,
    keyCheck: 'models',
    // Only with --enable-prompt-tokens-details on the server; 0 otherwise.
    cachedTokens: 'prompt_tokens_details',
    batch: undefined,
    // The Embeddings API of a server running an embedding model: https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html
    embeddings: true,
    embeddingModel: undefined,
    answers: PLAIN,
    deploymentPath: undefined,
  },
  anthropic: {
    kind: 'anthropic',
    label: 'Anthropic (OpenAI SDK compatibility)',
    sources: [
      'https://docs.claude.com/en/api/openai-sdk',
      // response_format must be json_schema with strict: true ("Input should be True"), additionalProperties: false.
      'https://github.com/steilerDev/cornerstone/pull/1561',
      // An account without credit: 400 invalid_request_error "Your credit balance is too low to access the
      // Anthropic API…" on every request (https://github.com/anthropics/claude-code/issues/4208).
      'https://docs.claude.com/en/api/errors',
    ],
    request: { promptCacheKey: false, maxTokensField: 'max_completion_tokens', jsonObject: false, serviceTiers: [], flexAtBatchPrices: false, priorityPrices: false },
    auth: 'bearer',
    limits: { retryAfterHeader: true, retryInfoBody: false, requestsHeader: 'none', tokensHeader: 'none', resetEpochHeader: false },
    keyCheck: 'models',
    cachedTokens: 'none',
    batch: undefined,
    // No embeddings of its own (it points to Voyage AI): https://docs.claude.com/en/docs/build-with-claude/embeddings
    embeddings: false,
    embeddingModel: undefined,
    answers: { ...PLAIN, noCreditMessages: [/^Your credit balance is too low/] },
    deploymentPath: undefined,
  },
  openrouter: {
    kind: 'openrouter',
    label: 'OpenRouter',
    sources: [
      'https://openrouter.ai/docs/api-reference/parameters',
      // Rate limit headers on the 429 only; GET /api/v1/key checks a key (GET /models needs none).
      'https://openrouter.ai/docs/api_reference/limits',
      'https://openrouter.ai/docs/api/api-reference/api-keys/get-current-key.md',
      // 402: insufficient credits; 403: the model requires moderation and the input was flagged (one
      // request's content, not the key); an error after processing began comes in a 200 body.
      'https://openrouter.ai/docs/api/reference/errors-and-debugging',
    ],
    // Passed through to models that know it, ignored by the others.
    request: { promptCacheKey: true, maxTokensField: 'max_tokens', jsonObject: true, serviceTiers: [], flexAtBatchPrices: false, priorityPrices: false },
    auth: 'bearer',
    limits: { ...NO_LIMIT_HEADERS, resetEpochHeader: true },
    keyCheck: 'key',
    cachedTokens: 'prompt_tokens_details',
    batch: undefined,
    // Chat completions only in its OpenAI-compatible API: https://openrouter.ai/docs/api-reference/parameters
    embeddings: false,
    embeddingModel: undefined,
    answers: { ...PLAIN, rowStatuses: [403], noCreditStatuses: [402] },
    deploymentPath: undefined,
  },
  groq: {
    kind: 'groq',
    label: 'Groq',
    sources: [
      'https://console.groq.com/docs/openai',
      // x-ratelimit-limit-requests is requests per DAY, x-ratelimit-limit-tokens per minute; retry-after on 429s.
      'https://console.groq.com/docs/rate-limits',
      'https://console.groq.com/docs/flex-processing',
      'https://console.groq.com/docs/batch',
    ],
    // service_tier performance | on_demand | flex | auto (https://console.groq.com/docs/service-tiers): of
    // OpenAI's words only auto and flex mean the same there; flex "pricing matches the on-demand tier"
    // (https://console.groq.com/docs/flex-processing).
    request: { promptCacheKey: false, maxTokensField: 'max_completion_tokens', jsonObject: true, serviceTiers: ['auto', 'flex'], flexAtBatchPrices: false, priorityPrices: false },
    auth: 'bearer',
    limits: { retryAfterHeader: true, retryInfoBody: false, requestsHeader: 'day', tokensHeader: 'minute', resetEpochHeader: false },
    keyCheck: 'models',
    cachedTokens: 'prompt_tokens_details',
    // completion_window from "24h" to "7d" (https://console.groq.com/docs/batch); the bot asks the shortest, as elsewhere.
    batch: { endpoint: '/v1/chat/completions', completionWindow: '24h' },
    // No embedding models among its models: https://console.groq.com/docs/models
    embeddings: false,
    embeddingModel: undefined,
    answers: PLAIN,
    deploymentPath: undefined,
  },
  generic: {
    kind: 'generic',
    label: 'any OpenAI-compatible endpoint',
    sources: ['https://platform.openai.com/docs/api-reference/chat/create'],
    // Sent as to OpenAI; whatever the endpoint refuses by name is learned and dropped (service_tier
    // too: a gateway in front of OpenAI passes it on, another refuses it once; check-config warns).
    request: { promptCacheKey: true, maxTokensField: 'max_completion_tokens', jsonObject: true, serviceTiers: ['auto', 'default', 'flex', 'priority'], flexAtBatchPrices: true, priorityPrices: true },
    auth: 'bearer',
    limits: { ...OPENAI_LIMITS, retryInfoBody: true },
    keyCheck: 'models',
    cachedTokens: 'prompt_tokens_details',
    batch: OPENAI_BATCH,
    // As OpenAI; cache.embedding_model names another.
    embeddings: true,
    embeddingModel: 'text-embedding-3-small',
    answers: PLAIN,
    deploymentPath: undefined,
  },
};
