import OpenAI from 'openai';
import type { ProviderConfig, ServiceTier } from '../config/index.js';
import { LlmError, redact } from '../errors.js';
import { ANSWER_FORMAT, type ResponseSchema } from './answer.js';
import { googleBearerFetch, googleTokensFor, type GoogleServiceAccount } from './google-token.js';
import { endpointHost, jsonFetch, loadTransport, sentTo } from './http.js';
import { FLEX_TIMEOUT_MS, billedTier, connectionOf, dialectFetch, factsOf, isDroppable, type BilledTier, type KindFacts } from './kinds/index.js';
import { classifyFailure, messageOf, refusedField } from './classify.js';
import { outputCapOf } from './output-cap.js';
import type { CacheKeySharder } from './cache-key.js';
import type { ChatMessage } from './prompt.js';

/** A key check must not hold a run back long: past this it proves nothing. */
const KEY_CHECK_TIMEOUT_MS = 5_000;

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

export interface Completion {
  content: string | null;
  refusal: string | null;
  finishReason: string;
  usage: Usage;
  requestId: string | undefined;
  headers: Headers;
  /** The prices it is billed at: the tier the response's service_tier says served it. */
  billed: BilledTier;
}

/** What one request asks beyond its messages. */
/** What the SDK hands its fetch as `init`, from a request's options: jsonFetch reads `sentTo` there. */
type FetchOptions = NonNullable<NonNullable<Parameters<OpenAI['chat']['completions']['create']>[1]>['fetchOptions']>;

export interface RequestChoice {
  /** The service_tier to send instead of the configured one (the flex fallback sends auto). */
  serviceTier?: ServiceTier | undefined;
  /** Called as the request is written to its connection (each time it is sent: http.ts `sentTo`). */
  onWritten?: (() => void) | undefined;
}

export interface ProviderOptions {
  apiKey: string;
  timeoutMs: number;
  maxCompletionTokens: number;
  /** A fixed key, or a sharder that spreads a busy run over several keys. */
  promptCacheKey: string | CacheKeySharder;
  /** Request fields this endpoint refused in earlier runs (the store remembers them): left out from the start. */
  droppedFields?: readonly string[] | undefined;
  /** The endpoint refused a field by name: it is left out from now on; said once per field. */
  onFieldDropped?: (field: string, message: string) => void;
  /** The Sheets service account: Vertex AI takes its OAuth access tokens instead of an API key. */
  serviceAccount?: GoogleServiceAccount | undefined;
}

/** How many refused fields one request may shed before it is given up (each is dropped once). */
const MAX_FIELD_DROPS = 3;

/**
 * One OpenAI-compatible endpoint. Sends a chat completion with structured outputs and
 * turns every failure into an LlmError of a known kind. It never retries by itself
 * (the SDK's retries are off): the validator's retry loop is the only one.
 */
export class Provider {
  readonly name: string;
  readonly model: string;
  /** Structured-output mode; `auto` starts with json_schema and drops to json_object once refused. */
  mode: 'json_schema' | 'json_object';
  /** The most tokens the model may answer in one request, when known: no request asks for more. */
  readonly outputCap: number | undefined;
  /** What this provider family accepts and how it answers (src/llm/kinds). */
  readonly facts: KindFacts;
  /** Fields this endpoint refused by name: no request carries them any more. */
  private readonly dropped: Set<string>;
  private readonly client: OpenAI;
  /** Where the resource-level APIs (Files, Batches, the model list) are: the same client but on Azure's classic URLs. */
  private readonly resourceClient: OpenAI;
  /** What each client is built from: the embeddings client of a classic Azure URL is another deployment's. */
  private readonly clientOptions: ConstructorParameters<typeof OpenAI>[0] & { baseURL: string };

  constructor(
    readonly config: ProviderConfig,
    private readonly options: ProviderOptions,
  ) {
    this.name = config.name;
    this.model = config.model;
    this.mode = config.structured_outputs === 'json_object' ? 'json_object' : 'json_schema';
    this.outputCap = outputCapOf(config.model, config.max_output_tokens);
    this.facts = factsOf(config);
    this.dropped = new Set(options.droppedFields ?? []);
    const connection = connectionOf(this.facts, config.base_url, options.apiKey);
    // Loads while the run reads the sheet (http.ts); a failure to load shows on the first request.
    loadTransport().catch(() => {});
    let transport: typeof fetch = jsonFetch;
    let apiKey = options.apiKey;
    if (this.facts.auth === 'google-oauth') {
      if (!options.serviceAccount) throw new RangeError(`provider "${config.name}" (${this.facts.label}) needs the service account's key`);
      transport = googleBearerFetch(googleTokensFor(options.serviceAccount), jsonFetch, options.timeoutMs);
      // The SDK wants a key; the bearer it would make of it is replaced by the access token.
      apiKey = 'google-oauth-access-token';
    }
    this.clientOptions = { apiKey, ...connection, maxRetries: 0, timeout: options.timeoutMs, fetch: dialectFetch(this.facts, transport) };
    this.client = new OpenAI(this.clientOptions);
    // Azure's classic URL names a deployment; its resource (one level up) serves files, batches and the model list.
    const deployment = this.facts.deploymentPath;
    this.resourceClient = deployment && deployment.test(connection.baseURL) ? new OpenAI({ ...this.clientOptions, baseURL: connection.baseURL.replace(deployment, '') }) : this.client;
  }

  /** Whether `auto` structured outputs may fall back to json_object (Anthropic's layer refuses it). */
  get canFallBackToJsonObject(): boolean {
    return this.config.structured_outputs === 'auto' && this.facts.request.jsonObject;
  }

  /** The fields learned as refused, in the order learned. */
  get droppedFields(): string[] {
    return [...this.dropped];
  }

  /**
   * The service_tier its requests carry: the configured one, where the kind takes it and the
   * endpoint has not refused the field; undefined: the field is not sent.
   */
  get serviceTier(): ServiceTier | undefined {
    const tier = this.config.service_tier;
    if (tier === undefined || this.dropped.has('service_tier') || !this.facts.request.serviceTiers.includes(tier)) return undefined;
    return tier;
  }

  /** The body of a chat completion request: what `complete` sends, and what a Batch API line holds. */
  requestBody(messages: readonly ChatMessage[], format: ResponseSchema = ANSWER_FORMAT, maxCompletionTokens = this.options.maxCompletionTokens): OpenAI.ChatCompletionCreateParamsNonStreaming {
    const response_format =
      this.mode === 'json_schema'
        ? ({ type: 'json_schema', json_schema: { name: format.name, strict: true, schema: format.schema } } as const)
        : ({ type: 'json_object' } as const);
    const body: OpenAI.ChatCompletionCreateParamsNonStreaming = {
      model: this.model,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      response_format,
    };
    if (this.facts.request.promptCacheKey && !this.dropped.has('prompt_cache_key')) {
      body.prompt_cache_key = typeof this.options.promptCacheKey === 'string' ? this.options.promptCacheKey : this.options.promptCacheKey.next();
    }
    // Above the model's cap the request is refused (400), whatever the answer's length. The
    // field is the one the endpoint reads (Ollama ignores max_completion_tokens: uncapped).
    const cap = Math.min(maxCompletionTokens, this.outputCap ?? Infinity);
    if (this.facts.request.maxTokensField === 'max_tokens' || this.dropped.has('max_completion_tokens')) body.max_tokens = cap;
    else body.max_completion_tokens = cap;
    return body;
  }

  /** The OpenAI client of this provider, at its base_url (chat completions, embeddings). */
  get api(): OpenAI {
    return this.client;
  }

  /**
   * The client for embeddings with `model`: where the base_url names a deployment (Azure's
   * classic URL), the path picks the model and the body's `model` is not read, so the
   * request goes to the deployment named `model` of the same resource:
   * POST {endpoint}/openai/deployments/{deployment-id}/embeddings?api-version=…
   * (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference#embeddings).
   */
  embeddingsApi(model: string): OpenAI {
    if (!this.namesDeployment) return this.client;
    return new OpenAI({ ...this.clientOptions, baseURL: `${this.resourceClient.baseURL.replace(/\/+$/, '')}/deployments/${encodeURIComponent(model)}` });
  }

  /** Whether the base_url names one deployment (Azure's classic URL): the resource's model list then names models, not deployments. */
  get namesDeployment(): boolean {
    return this.resourceClient !== this.client;
  }

  /** The client for the Files and Batches endpoints: the resource's, where the base_url names a deployment (Azure). */
  get batchApi(): OpenAI {
    return this.resourceClient;
  }

  async complete(messages: readonly ChatMessage[], signal?: AbortSignal, format: ResponseSchema = ANSWER_FORMAT, maxCompletionTokens = this.options.maxCompletionTokens, ask: RequestChoice = {}): Promise<Completion> {
    // The SDK adds an abort listener to the signal it is given and never removes it; a
    // run-long signal would collect one per request. Hand it a per-request signal.
    const local = new AbortController();
    const forward = () => local.abort(signal?.reason);
    signal?.addEventListener('abort', forward, { once: true });
    try {
      const { data, response, request_id } = await this.send(messages, format, maxCompletionTokens, local.signal, ask.serviceTier ?? this.serviceTier, ask.onWritten);
      if (!Array.isArray((data as { choices?: unknown }).choices)) throw errorInOk(data, response.headers);
      const choice = data.choices[0];
      return {
        content: choice?.message.content ?? null,
        refusal: choice?.message.refusal ?? null,
        finishReason: choice?.finish_reason ?? 'unknown',
        usage: {
          promptTokens: data.usage?.prompt_tokens ?? 0,
          completionTokens: data.usage?.completion_tokens ?? 0,
          cachedTokens: this.facts.cachedTokens === 'none' ? 0 : (data.usage?.prompt_tokens_details?.cached_tokens ?? 0),
        },
        requestId: request_id ?? undefined,
        headers: response.headers,
        billed: billedTier((data as { service_tier?: unknown }).service_tier, this.facts),
      };
    } catch (error) {
      if (error instanceof OpenAI.APIUserAbortError || signal?.aborted) throw error;
      throw this.classify(error, (ask.serviceTier ?? this.serviceTier) === 'flex');
    } finally {
      signal?.removeEventListener('abort', forward);
    }
  }

  /**
   * Sends the request; a 400 naming a field this endpoint does not accept (and the bot can
   * do without) drops that field for good and sends the request again without it.
   */
  private async send(messages: readonly ChatMessage[], format: ResponseSchema, maxCompletionTokens: number, signal: AbortSignal, tier: ServiceTier | undefined, onWritten: (() => void) | undefined) {
    for (let drops = 0; ; drops++) {
      try {
        // Not in requestBody: a Batch API line is billed as batch, whatever tier it would name.
        const body = this.requestBody(messages, format, maxCompletionTokens);
        const sent = tier !== undefined && !this.dropped.has('service_tier') ? tier : undefined;
        if (sent !== undefined) body.service_tier = sent;
        // A flex request may queue: OpenAI advises 15 minutes (FLEX_TIMEOUT_MS).
        const timeout = sent === 'flex' ? Math.max(this.options.timeoutMs, FLEX_TIMEOUT_MS) : this.options.timeoutMs;
        return await this.client.chat.completions.create(body, { signal, timeout, ...(onWritten ? { fetchOptions: sentTo(onWritten) as FetchOptions } : {}) }).withResponse();
      } catch (error) {
        const field = refusedField(error);
        if (field === undefined || !isDroppable(field) || drops >= MAX_FIELD_DROPS) throw error;
        // Several requests may learn it at once: the first to come back says so.
        if (!this.dropped.has(field)) {
          this.dropped.add(field);
          this.options.onFieldDropped?.(field, this.scrub(messageOf(error as InstanceType<typeof OpenAI.APIError>)));
        }
      }
    }
  }

  /**
   * The LlmError when this provider refuses the key outright (401), asked of its free key
   * check (GET /models, OpenRouter's GET /key); undefined for any other answer. A 403 there proves nothing (a key may
   * be allowed chat completions but not the model list), nor does an endpoint with no
   * /models: the real calls decide those.
   */
  async refusedKey(signal?: AbortSignal): Promise<LlmError | undefined> {
    if (this.facts.keyCheck === 'none') return undefined;
    try {
      const options = { signal: signal ?? null, timeout: Math.min(this.options.timeoutMs, KEY_CHECK_TIMEOUT_MS) };
      if (this.facts.keyCheck === 'key') await this.client.get('/key', options);
      else await this.resourceClient.models.list(options);
      return undefined;
    } catch (error) {
      if (signal?.aborted) return undefined;
      const classified = this.classify(error);
      // A 403 may concern the model list only; a 401 (or a reason the kind names, Google's 400 API_KEY_INVALID) the key.
      return classified.kind === 'auth' && classified.status !== 403 ? classified : undefined;
    }
  }

  /**
   * The model ids GET /models lists (free: https://platform.openai.com/docs/api-reference/models/list),
   * for `check-config --online`; empty when the answer holds no list. Fails with the
   * classified LlmError (401: the key; no status: the endpoint could not be reached).
   */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    try {
      const page = await this.resourceClient.models.list({ signal: signal ?? null, timeout: Math.min(this.options.timeoutMs, KEY_CHECK_TIMEOUT_MS * 2) });
      // Whatever an OpenAI-compatible server calls a list: keep the string ids only.
      const data: unknown = page.data;
      return Array.isArray(data) ? data.flatMap((model: unknown) => (typeof (model as { id?: unknown } | null)?.id === 'string' ? [(model as { id: string }).id] : [])) : [];
    } catch (error) {
      // The SDK wraps every failure to get an answer (connection, timeout, status) in an
      // APIError; anything else was thrown reading an answer that is no list (null, not JSON).
      if (!(error instanceof OpenAI.APIError)) return [];
      throw this.classify(error);
    }
  }

  /**
   * One tiny chat completion (a word asked, at most 16 tokens answered): for an endpoint
   * with no free call that proves the credentials and the model (Vertex AI lists no models
   * at its OpenAI endpoint), `check-config --online` asks it once. Costs a few tokens.
   * Fails with the classified LlmError.
   */
  async ping(signal?: AbortSignal): Promise<void> {
    try {
      const body: OpenAI.ChatCompletionCreateParamsNonStreaming = { model: this.model, messages: [{ role: 'user', content: 'Reply with OK.' }] };
      if (this.facts.request.maxTokensField === 'max_tokens') body.max_tokens = 16;
      else body.max_completion_tokens = 16;
      await this.client.chat.completions.create(body, { signal: signal ?? null, timeout: Math.min(this.options.timeoutMs, KEY_CHECK_TIMEOUT_MS * 4) });
    } catch (error) {
      throw this.classify(error);
    }
  }

  /** A failure of this provider's client (the Batch API's calls too) as an LlmError of a known kind. */
  explain(error: unknown): LlmError {
    return error instanceof LlmError ? error : this.classify(error);
  }

  /** host[:port] of the endpoint: what a person is told to check, never its path or a key. */
  get host(): string {
    return endpointHost(this.config.base_url);
  }

  private classify(error: unknown, flex = false): LlmError {
    return classifyFailure(error, {
      flex,
      name: this.name,
      model: this.model,
      facts: this.facts,
      host: this.host,
      timeoutMs: this.options.timeoutMs,
      apiKeyEnv: this.config.api_key_env,
      scrub: (text) => this.scrub(text),
    });
  }

  /**
   * No key, and not this provider's address (an internal URL is nobody's business in a
   * shared sheet). Other URLs a provider's message holds (a link to its docs) are kept.
   */
  private scrub(text: string): string {
    let out = redact(text, [this.options.apiKey]);
    for (const address of this.addresses) out = out.split(address).join('<endpoint>');
    return out;
  }

  /** base_url, its origin and its host, longest first: the forms an error text may quote it in. */
  private get addresses(): string[] {
    const forms = new Set([this.config.base_url.replace(/\/+$/, ''), this.host]);
    try {
      forms.add(new URL(this.config.base_url).origin);
      forms.add(new URL(this.config.base_url).hostname);
    } catch {
      // Not a URL: the text itself is the only form.
    }
    return [...forms].filter((f) => f.length > 3 && f !== 'the configured base_url').sort((a, b) => b.length - a.length);
  }
}

/**
 * A 200 whose body holds an error and no choices (OpenRouter: "any error occurred while the
 * LLM is producing the output will be emitted in the response body",
 * https://openrouter.ai/docs/api/reference/errors-and-debugging), as the APIError its
 * `error.code` would have been (a 502 when it names none), so it is classified as one.
 */
function errorInOk(data: unknown, headers: Headers): InstanceType<typeof OpenAI.APIError> {
  const inner = typeof data === 'object' && data !== null ? (data as { error?: unknown }).error : undefined;
  const error = typeof inner === 'object' && inner !== null ? (inner as { code?: unknown; message?: unknown }) : {};
  const code = Number(error.code);
  const status = Number.isInteger(code) && code >= 400 && code <= 599 ? code : 502;
  const message = typeof error.message === 'string' && error.message !== '' ? error.message : 'the answer held no choices';
  return OpenAI.APIError.generate(status, { error: { ...error, message } }, message, headers);
}

export { neverFits } from './classify.js';
