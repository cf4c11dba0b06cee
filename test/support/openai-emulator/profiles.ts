import type { IncomingHttpHeaders } from 'node:http';
import { errorOutcome, type Outcome } from './errors.js';
import type { BatchDialect } from './batches.js';
import type { ChatRequest } from './types.js';

export type { Outcome as ProfileOutcome };

export type ProfileName = 'openai' | 'azure' | 'gemini' | 'vertex' | 'ollama' | 'vllm' | 'anthropic' | 'openrouter' | 'groq' | 'generic';

/**
 * How one provider's OpenAI-compatible endpoint differs from api.openai.com, as its
 * documentation (or its users' reports, cited) says: the fields it refuses and how, the
 * shape of its error bodies, which rate headers it sends, and how it says "wait".
 */
export interface EmulatorProfile {
  name: ProfileName;
  /** Its 400 for a request carrying something it refuses; undefined when it accepts (or ignores) everything sent. */
  refuse(req: ChatRequest): Outcome | undefined;
  /** The rate headers it sends, made from the emulator limiter's OpenAI-style ones (none: {}). */
  headers(openai: Record<string, string>): Record<string, string>;
  /** Its answer telling the client to wait `ms` (a 429, or Ollama's 503 busy that states no wait). */
  rateLimited(ms: number): Outcome;
  /** Its answer for a model (an Azure deployment) it does not have. */
  modelNotFound(model: string): Outcome;
  /** Reports usage.prompt_tokens_details.cached_tokens. */
  cachedTokens: boolean;
  /** The header a key arrives in, as "Bearer <key>" for the emulator's check (Azure: api-key); null: any key or none will do (Ollama). */
  authorization(headers: IncomingHttpHeaders): string | undefined | null;
  /** GET /v1/models answers without a key (OpenRouter). */
  modelsWithoutKey: boolean;
  /** GET /v1/key answers the key's details (OpenRouter); else 404 like any unknown path. */
  keyRoute: boolean;
  /**
   * Its Batch API: undefined, OpenAI's own (endpoint /v1/chat/completions, window "24h"); a
   * dialect, its own words; false, none (/v1/batches answers 404).
   */
  batch?: BatchDialect | false;
  /** POST /v1/embeddings exists (Anthropic's layer, Groq and OpenRouter have none: 404). */
  embeddings?: boolean;
  /** Its answer to a key it does not know, when that is not OpenAI's 401 (Google: a 400 INVALID_ARGUMENT, API_KEY_INVALID). */
  wrongKey?(): Outcome;
  /** Maps the provider's own URL paths onto the emulator's (Azure's classic deployment URLs), or refuses them. */
  route?(path: string, query: URLSearchParams): { path: string } | { refused: { status: number; body: unknown } } | undefined;
}

const bearer = (headers: IncomingHttpHeaders) => headers.authorization;
const seconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));
const openaiHeaders = (h: Record<string, string>) => h;
const none = () => ({});

/** Fields of OpenAI's chat completions request that every compatible endpoint knows. */
const COMMON_FIELDS = new Set(['model', 'messages', 'response_format', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'n', 'stop', 'stream', 'stream_options', 'tools', 'tool_choice', 'seed', 'presence_penalty', 'frequency_penalty', 'reasoning_effort', 'user']);
const unknownField = (req: ChatRequest) => Object.keys(req).find((field) => !COMMON_FIELDS.has(field));

/** OpenAI's own behaviour (https://platform.openai.com/docs/guides/rate-limits): every field known, retry-after on 429. */
const openai: EmulatorProfile = {
  name: 'openai',
  refuse: () => undefined,
  headers: openaiHeaders,
  rateLimited: (ms) =>
    errorOutcome(429, { message: 'Rate limit reached for requests. Please try again later.', type: 'requests', code: 'rate_limit_exceeded' }, { 'retry-after': seconds(ms), 'retry-after-ms': String(Math.ceil(ms)) }),
  modelNotFound: (model) => errorOutcome(404, { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', code: 'model_not_found' }),
  cachedTokens: true,
  authorization: bearer,
  modelsWithoutKey: false,
  keyRoute: false,
};

/**
 * Google's OpenAI layer (https://ai.google.dev/gemini-api/docs/openai): a field it does not
 * map is `400 Invalid JSON payload received. Unknown name "…": Cannot find field.` in a
 * JSON ARRAY body (github.com/OpenCoworkAI/open-codesign/issues/175 saw "400 status code (no
 * body)" from the SDK); a 429 is RESOURCE_EXHAUSTED with google.rpc.RetryInfo.retryDelay
 * and no rate headers (github.com/RooCodeInc/Roo-Code/issues/8012).
 */
function google(name: 'gemini' | 'vertex'): EmulatorProfile {
  const status = (code: number, message: string, state: string, details: unknown[] = []) => ({ kind: 'error' as const, status: code, body: [{ error: { code, message, status: state, details } }] });
  return {
    name,
    refuse: (req) => {
      const field = unknownField(req);
      if (field === undefined) return undefined;
      const message = `Invalid JSON payload received. Unknown name "${field}": Cannot find field.`;
      return status(400, message, 'INVALID_ARGUMENT', [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ description: message }] }]);
    },
    headers: none,
    rateLimited: (ms) =>
      status(429, 'You exceeded your current quota, please check your plan and billing details.', 'RESOURCE_EXHAUSTED', [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier' }] },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${(ms / 1000).toFixed(3)}s` },
      ]),
    modelNotFound: (model) => status(404, `models/${model} is not found for API version v1beta, or is not supported for generateContent.`, 'NOT_FOUND'),
    // A key Google does not know is a 400 INVALID_ARGUMENT (reason API_KEY_INVALID) in the
    // same JSON array, not a 401: github.com/continuedev/continue/issues/8516 (the OpenAI
    // endpoint's body as received), github.com/google/timesketch/pull/3703.
    wrongKey: () =>
      status(400, 'API key not valid. Please pass a valid API key.', 'INVALID_ARGUMENT', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
        { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
      ]),
    cachedTokens: true,
    authorization: bearer,
    modelsWithoutKey: false,
    keyRoute: false,
    // Vertex's batch prediction is its own API, not /batches at the OpenAI endpoint.
    ...(name === 'vertex' ? { route: vertexRoute, batch: false as const } : {}),
  };
}

/**
 * Azure OpenAI: keys in an `api-key` header; some deployments refuse fields they do not
 * know (`unrecognized_request_argument`,
 * learn.microsoft.com/en-us/answers/questions/5555284); only x-ratelimit-remaining-*
 * headers (learn.microsoft.com/en-us/answers/questions/2147319); a 429 says "Please retry
 * after N seconds" with retry-after; a missing deployment is 404 DeploymentNotFound.
 */
const azure: EmulatorProfile = {
  name: 'azure',
  refuse: (req) => {
    const field = unknownField(req);
    if (field === undefined) return undefined;
    return { kind: 'error', status: 400, body: { error: { code: 'unrecognized_request_argument', message: `Unrecognized request argument supplied: ${field}`, type: 'invalid_request_error', param: null } } };
  },
  headers: (h) => Object.fromEntries(Object.entries(h).filter(([name]) => name.startsWith('x-ratelimit-remaining-'))),
  rateLimited: (ms) => ({
    kind: 'error',
    status: 429,
    body: { error: { code: '429', message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current AIServices S0 pricing tier. Please retry after ${seconds(ms)} seconds.` } },
    headers: { 'retry-after': seconds(ms), 'retry-after-ms': String(Math.ceil(ms)) },
  }),
  modelNotFound: () => ({ kind: 'error', status: 404, body: { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.' } } }),
  cachedTokens: true,
  authorization: (headers) => {
    const key = headers['api-key'];
    return typeof key === 'string' && headers.authorization === undefined ? `Bearer ${key}` : undefined;
  },
  modelsWithoutKey: false,
  keyRoute: false,
  // A Global-Batch deployment's job and lines name /chat/completions, without /v1
  // (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/batch).
  batch: { endpoint: '/chat/completions', windows: /^24h$/, windowsText: "'24h'" },
  // Classic URLs: /openai/deployments/{deployment}/chat/completions?api-version=… (the
  // deployment stands for the model); without an api-version Azure answers 404.
  route: (path, query) => {
    // Files, batches and the model list are the resource's, not a deployment's: POST {endpoint}/openai/files
    // and /openai/batches with an api-version
    // (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/batch, REST tab);
    // under /openai/deployments/NAME/ only the inference routes exist.
    // The model list too: GET {endpoint}/openai/models?api-version=… (Models - List,
    // https://learn.microsoft.com/en-us/rest/api/azureopenai/models/list).
    const resource = /^\/openai\/((?:files|batches|models)(?:\/.*)?)$/.exec(path);
    if (resource) {
      if (!query.get('api-version')) return { refused: { status: 404, body: { error: { code: '404', message: 'Resource not found' } } } };
      return { path: `/v1/${resource[1] ?? ''}` };
    }
    if (/^\/openai\/deployments\/[^/]+\/(?!chat\/completions$|embeddings$)/.test(path)) return { refused: { status: 404, body: { error: { code: '404', message: 'Resource not found' } } } };
    const match = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(path);
    if (!match) return undefined;
    if (!query.get('api-version')) return { refused: { status: 404, body: { error: { code: '404', message: 'Resource not found' } } } };
    // The deployment in the path picks the model, whatever the body's `model` says
    // (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference#embeddings: "deployment-id");
    // a deployment of the other sort of model refuses the operation. The emulator tells them by name.
    const deployment = decodeURIComponent(match[1] ?? '');
    const operation = match[2] ?? '';
    if ((operation === 'embeddings') !== /embed/i.test(deployment)) {
      const name = operation === 'embeddings' ? 'embeddings' : 'chatCompletion';
      return { refused: { status: 400, body: { error: { code: 'OperationNotSupported', message: `The ${name} operation does not work with the specified model, ${deployment}. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.` } } } };
    }
    return { path: `/v1/${operation}` };
  },
};

/**
 * Ollama (https://docs.ollama.com/api/openai-compatibility): reads max_tokens and ignores
 * what it does not list (max_completion_tokens, prompt_cache_key); no rate headers; a full
 * queue is 503 "server busy" with no stated wait (github.com/ollama/ollama/pull/4144).
 */
const ollama: EmulatorProfile = {
  name: 'ollama',
  refuse: () => undefined,
  headers: none,
  rateLimited: () => ({ kind: 'error', status: 503, body: { error: { message: 'server busy, please try again.  maximum pending requests exceeded', type: 'api_error', param: null, code: null } } }),
  modelNotFound: (model) => ({ kind: 'error', status: 404, body: { error: { message: `model "${model}" not found, try pulling it first`, type: 'api_error', param: null, code: null } } }),
  cachedTokens: false,
  // "The client requires an API key value, but Ollama ignores it."
  authorization: () => null,
  modelsWithoutKey: true,
  keyRoute: false,
  batch: false,
};

/** vLLM (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html): ignores unknown fields (vllm-project/vllm#10463); errors are a top-level {object:"error",…}; no rate limits. */
const vllm: EmulatorProfile = {
  name: 'vllm',
  refuse: () => undefined,
  headers: none,
  rateLimited: () => ({ kind: 'error', status: 503, body: { object: 'error', message: 'The server is overloaded.', type: 'ServiceUnavailableError', param: null, code: 503 } }),
  modelNotFound: (model) => ({ kind: 'error', status: 404, body: { object: 'error', message: `The model \`${model}\` does not exist.`, type: 'NotFoundError', param: null, code: 404 } }),
  cachedTokens: true,
  authorization: bearer,
  modelsWithoutKey: false,
  keyRoute: false,
  batch: false,
};

/**
 * Anthropic's OpenAI SDK compatibility (https://docs.claude.com/en/api/openai-sdk): response_format
 * must be a strict json_schema ("response_format.json_schema.strict: Input should be True",
 * github.com/steilerDev/cornerstone/pull/1561); other unknown fields ignored; its own
 * anthropic-ratelimit-* headers; no cached-token counts.
 */
const anthropic: EmulatorProfile = {
  name: 'anthropic',
  refuse: (req) => {
    const format = req.response_format as { type?: unknown; json_schema?: { strict?: unknown } } | undefined;
    const refusal = (message: string) => ({ kind: 'error' as const, status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message } } });
    if (format !== undefined && format.type !== 'json_schema') return refusal("response_format.type: Input should be 'json_schema'");
    if (format !== undefined && format.json_schema?.strict !== true) return refusal('response_format.json_schema.strict: Input should be True');
    return undefined;
  },
  headers: (h) => {
    const out: Record<string, string> = {};
    for (const dimension of ['requests', 'tokens']) {
      const limit = h[`x-ratelimit-limit-${dimension}`];
      const remaining = h[`x-ratelimit-remaining-${dimension}`];
      if (limit !== undefined) out[`anthropic-ratelimit-${dimension}-limit`] = limit;
      if (remaining !== undefined) out[`anthropic-ratelimit-${dimension}-remaining`] = remaining;
    }
    return out;
  },
  rateLimited: (ms) => ({ kind: 'error', status: 429, body: { type: 'error', error: { type: 'rate_limit_error', message: 'This request would exceed the rate limit for your organization.' } }, headers: { 'retry-after': seconds(ms) } }),
  modelNotFound: (model) => ({ kind: 'error', status: 404, body: { type: 'error', error: { type: 'not_found_error', message: `model: ${model}` } } }),
  cachedTokens: false,
  authorization: bearer,
  modelsWithoutKey: false,
  keyRoute: false,
  // No embeddings of its own: https://docs.claude.com/en/docs/build-with-claude/embeddings
  embeddings: false,
  batch: false,
};

/**
 * OpenRouter (https://openrouter.ai/docs/api_reference/limits): ignores what a routed model
 * does not support; X-RateLimit-* headers (Reset in epoch ms) on its 429s only; GET /models
 * needs no key, GET /key checks one; an unknown model is a 400 "… is not a valid model ID".
 */
function openrouter(now: () => number): EmulatorProfile {
  return {
    name: 'openrouter',
    refuse: () => undefined,
    headers: none,
    rateLimited: (ms) => ({
      kind: 'error',
      status: 429,
      body: { error: { code: 429, message: 'Rate limit exceeded: free-models-per-min.', metadata: { headers: {} } } },
      headers: { 'X-RateLimit-Limit': '20', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(now() + Math.ceil(ms)) },
    }),
    modelNotFound: (model) => ({ kind: 'error', status: 400, body: { error: { code: 400, message: `${model} is not a valid model ID` } } }),
    cachedTokens: true,
    authorization: bearer,
    modelsWithoutKey: true,
    keyRoute: true,
    embeddings: false,
    batch: false,
  };
}

/**
 * Groq (https://console.groq.com/docs/rate-limits): refuses prompt_cache_key ("property
 * 'prompt_cache_key' is unsupported"); x-ratelimit-limit-requests counts per DAY while
 * x-ratelimit-limit-tokens counts per minute; retry-after on 429s.
 */
const groq: EmulatorProfile = {
  name: 'groq',
  refuse: (req) => {
    // Groq knows service_tier (its Flex tier, https://console.groq.com/docs/flex-processing), in its
    // own words: performance, on_demand, flex, auto (https://console.groq.com/docs/service-tiers).
    if (req.service_tier !== undefined && (typeof req.service_tier !== 'string' || !['performance', 'on_demand', 'flex', 'auto'].includes(req.service_tier))) {
      return errorOutcome(400, { message: `service_tier: must be one of performance, on_demand, flex, auto`, type: 'invalid_request_error', param: 'service_tier' });
    }
    const field = Object.keys(req).find((f) => !COMMON_FIELDS.has(f) && f !== 'service_tier');
    if (field === undefined) return undefined;
    return errorOutcome(400, { message: `property '${field}' is unsupported`, type: 'invalid_request_error' });
  },
  headers: (h) => ({
    'x-ratelimit-limit-requests': '14400',
    'x-ratelimit-remaining-requests': '14399',
    'x-ratelimit-reset-requests': '6s',
    'x-ratelimit-limit-tokens': h['x-ratelimit-limit-tokens'] ?? '1000000',
    'x-ratelimit-remaining-tokens': h['x-ratelimit-remaining-tokens'] ?? '999000',
    'x-ratelimit-reset-tokens': h['x-ratelimit-reset-tokens'] ?? '100ms',
  }),
  rateLimited: (ms) =>
    errorOutcome(
      429,
      { message: `Rate limit reached for model on tokens per minute (TPM): Limit 6000, Used 5990, Requested 300. Please try again in ${(ms / 1000).toFixed(2)}s.`, type: 'tokens', code: 'rate_limit_exceeded' },
      { 'retry-after': seconds(ms) },
    ),
  modelNotFound: (model) => openai.modelNotFound(model),
  cachedTokens: true,
  authorization: bearer,
  modelsWithoutKey: false,
  keyRoute: false,
  // No embedding models among its models: https://console.groq.com/docs/models
  embeddings: false,
  // completion_window from 24h to 7d (https://console.groq.com/docs/batch).
  batch: { endpoint: '/v1/chat/completions', windows: /^(?:(?:2[4-9]|[3-9]\d|1[0-5]\d|16[0-8])h|[1-7]d)$/, windowsText: "'24h' to '7d'" },
};

/**
 * Vertex AI's OpenAI-compatible paths: /v1/projects/{PROJECT}/locations/{LOCATION}/endpoints/openapi/…
 * (https://docs.cloud.google.com/vertex-ai/generative-ai/docs/migrate/openai/auth-and-credentials);
 * the emulator's own /v1/… paths still answer, as the other profiles' do.
 */
function vertexRoute(path: string): { path: string } | undefined {
  const match = /^\/v1(?:beta1)?\/projects\/[^/]+\/locations\/[^/]+\/endpoints\/openapi\/(.+)$/.exec(path);
  return match ? { path: `/v1/${match[1] ?? ''}` } : undefined;
}

/** The profile of a kind (`generic` is OpenAI's behaviour: what any compatible server is measured against). */
export function emulatorProfile(name: ProfileName, now: () => number = Date.now): EmulatorProfile {
  switch (name) {
    case 'gemini':
    case 'vertex':
      return google(name);
    case 'azure':
      return azure;
    case 'ollama':
      return ollama;
    case 'vllm':
      return vllm;
    case 'anthropic':
      return anthropic;
    case 'openrouter':
      return openrouter(now);
    case 'groq':
      return groq;
    case 'openai':
      return openai;
    case 'generic':
      return { ...openai, name: 'generic' };
  }
}
