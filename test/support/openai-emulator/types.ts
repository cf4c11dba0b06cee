import type { IncomingHttpHeaders } from 'node:http';
import type { ProfileName } from './profiles.js';

/** The row the bot asks the model to validate, parsed from the last user message. Keys may be missing. */
export interface RowInput {
  id?: string;
  status?: string;
  comment?: string;
  completion_date?: string;
  [key: string]: unknown;
}

/** The verdict object the bot expects as the model's JSON answer. */
export interface Answer {
  is_valid: boolean;
  issues: string[];
  rewrite_suggestion: string;
  /** The model's confidence, 0..1 (the bot's schema asks for it; optional here so tests can leave it out). */
  confidence?: number;
}

export interface ChatMessageTextPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

export interface ChatMessage {
  role: string;
  content?: string | ChatMessageTextPart[] | null;
  [key: string]: unknown;
}

export type ResponseFormat =
  | { type: 'json_schema'; json_schema: { name: string; strict?: boolean | null; schema?: unknown; [key: string]: unknown } }
  | { type: 'json_object' }
  | { type: 'text' };

/** The chat-completions request body, as far as the emulator looks at it. Unknown fields are kept. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  response_format?: ResponseFormat;
  prompt_cache_key?: string;
  max_completion_tokens?: number | null;
  max_tokens?: number | null;
  temperature?: number | null;
  stream?: boolean | null;
  [key: string]: unknown;
}

export type Latency = number | { mean: number; jitter: number };

export interface RateLimitOptions {
  /** Requests allowed per minute. */
  rpm?: number;
  /** Tokens (prompt + max_completion_tokens, default 200) allowed per minute. */
  tpm?: number;
  /**
   * The window the per-minute limits are enforced over (its share: limit × window / 1 min);
   * default 1,000 ms, as OpenAI quantizes them. 60_000 is the full-minute mode.
   */
  windowMs?: number;
}

/** A responder may answer a verdict object (serialized as JSON) or a raw content string. */
export type RespondFn = (row: RowInput, req: ChatRequest) => Answer | string | Promise<Answer | string>;

export type Fault =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'rate_limit'; retryAfterSeconds?: number; retryAfterMs?: number }
  | { kind: 'insufficient_quota' }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'truncated' }
  | { kind: 'refusal' }
  | { kind: 'wrong_types' }
  | { kind: 'content'; content: string }
  /** A 200 whose content is garbage: a nasty value first (null, a bare number, results of null…), then random JSON or text. */
  | { kind: 'garbage'; seed?: number }
  /**
   * The 429 OpenAI sends when one request alone is larger than the tokens-per-minute limit
   * (waiting never helps). `limit` defaults to 30,000, `requested` to limit + 1.
   */
  | { kind: 'request_too_large'; limit?: number; requested?: number }
  /**
   * Flex processing has no capacity for this request: OpenAI's 429 "Resource Unavailable",
   * unbilled ("You will not be charged"; https://platform.openai.com/docs/guides/flex-processing).
   * Taken only by requests sent with service_tier flex.
   */
  | { kind: 'flex_unavailable' };

export type FaultMatcher = (row: RowInput | undefined, req: ChatRequest) => boolean;

export interface InjectFaultOptions {
  /** How many matching requests get the fault; default 1. Use Infinity for "all from now on". */
  times?: number;
  /** Only requests for which this returns true get (and consume) the fault. */
  match?: FaultMatcher;
}

export interface OpenAIEmulatorOptions {
  /** Per-request latency before the answer; a number, or uniform in mean±jitter. Default 0. */
  latencyMs?: Latency;
  /** When set, any other bearer token gets 401 invalid_api_key. */
  apiKey?: string;
  /** Default: {@link defaultVerdict}. A string is sent raw as the message content. */
  respond?: RespondFn;
  /**
   * The size of each answer in tokens, reasoning included, drawn per request (e.g. ~150 with a
   * tail): what the responder's text does not fill is reasoning. An answer larger than the
   * request's max_completion_tokens (max_tokens) is cut there, finish_reason "length" (as is
   * any answer whose text alone is larger). Default: the text's own size.
   */
  answerTokens?: (row: RowInput, req: ChatRequest) => number;
  /** Enforced request/token budgets per window; 429 past them. Also turns on x-ratelimit-* headers. */
  rateLimit?: RateLimitOptions;
  /**
   * Headers added to every chat answer, over the emulator's own: a gateway or proxy in front
   * of the model that states its own x-ratelimit-* values (LiteLLM and other proxies set
   * these headers themselves), which need not be what OpenAI would send.
   */
  extraHeaders?: Record<string, string>;
  /** Default true. false → 400 on response_format json_schema; json_object still works. */
  supportsJsonSchema?: boolean;
  /** When set, any other model gets 404 model_not_found. */
  models?: string[];
  /** Max output tokens per model, over the built-in table of OpenAI's models: a larger max_completion_tokens gets 400. */
  outputCaps?: Record<string, number>;
  /** Clock (ms) for rate-limit windows, batch status timings and file/batch timestamps. Default Date.now. */
  now?: () => number;
  /** Port to listen on; default 0 (any free port). */
  port?: number;
  /** Requests a minute one prompt_cache_key is served from cache; past it, no cached tokens (OpenAI: about 15). Unlimited by default. */
  promptCacheKeyRpm?: number;
  /** Keep request bodies, headers and contents in `requests` (default true); benches turn it off to save memory. */
  recordBodies?: boolean;
  /** Batch API timings and limits (see {@link BatchOptions}). */
  batch?: BatchOptions;
  /**
   * Behave as this provider's OpenAI-compatible endpoint documents (profiles.ts): the fields it
   * refuses, its error bodies, its rate headers, its 429 (an injected `rate_limit` fault too).
   */
  profile?: ProfileName;
  /**
   * Fields this deployment knows beyond those every compatible endpoint knows, which its
   * profile would otherwise refuse. Azure: some deployments refuse prompt_cache_key
   * (unrecognized_request_argument), newer ones take it ("set the prompt_cache_key
   * parameter", https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/prompt-caching).
   */
  acceptedFields?: string[];
  /**
   * Replaces the API key check: what the endpoint answers for this Authorization header
   * (undefined: let it through). Vertex AI: a Google OAuth access token, issued by the token
   * emulator and not expired (test/support/google-token-emulator.ts).
   */
  authorize?: (authorization: string | undefined) => { status: number; body: unknown } | undefined;
}

/**
 * How long a batch stays in each status, measured on the emulator clock (`now`) and applied
 * whenever a batch is looked at (retrieve, list, cancel, snapshots taken through the hooks):
 * validating → in_progress → finalizing → completed. While in_progress, lines are answered in
 * proportion to the time elapsed, so a batch expired or cancelled midway has partial results.
 */
export interface BatchOptions {
  /** Default 50 ms. */
  validatingMs?: number;
  /** Default 100 ms. */
  inProgressMs?: number;
  /** Default 50 ms. */
  finalizingMs?: number;
  /** Time from POST /v1/batches/:id/cancel to `cancelled`; default 50 ms. */
  cancellingMs?: number;
  /** Lines allowed per input file; default 50,000 (OpenAI's limit). More → batch `failed`, code too_many_tasks. */
  maxRequests?: number;
  /** Input file size allowed; default 200 MB (OpenAI's limit). More → batch `failed`, code file_too_large. */
  maxInputBytes?: number;
}

/** One batch line about to be answered, as a batch-line fault matcher sees it. */
export interface BatchLineInfo {
  batchId: string;
  customId: string;
  /** The row parsed from the line's last user message, if any. */
  row: RowInput | undefined;
  body: ChatRequest;
}

export type BatchLineFaultMatcher = (line: BatchLineInfo) => boolean;

export interface InjectBatchLineFaultOptions {
  /** How many matching lines get the fault; default 1. Use Infinity for "all from now on". */
  times?: number;
  /** Only lines for which this returns true get (and consume) the fault. */
  match?: BatchLineFaultMatcher;
}

/** Where the `advanceBatch` hook can push a batch to. */
export type BatchAdvanceTarget = 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelled';

export interface AdvanceBatchOptions {
  /** With `in_progress`: answer this many lines (in file order) before returning, e.g. to expire or cancel midway. */
  lines?: number;
}

export interface RecordedUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  /** The part of completion_tokens the model spent reasoning (usage.completion_tokens_details.reasoning_tokens). */
  reasoning_tokens?: number;
}

export interface RecordedRequest {
  /** The x-request-id sent back (req_…). */
  requestId: string;
  method: string;
  /** URL path, e.g. /v1/chat/completions (an Azure classic deployment path is mapped onto it). */
  path: string;
  /** The URL's query parameters (Azure's api-version). */
  query?: Record<string, string>;
  /** Raw request headers, authorization included (so tests can check where secrets go). */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; undefined when missing or not JSON. */
  body: unknown;
  row?: RowInput;
  promptCacheKey?: string;
  model?: string;
  /** HTTP status sent; 0 while pending, or when the socket was reset / hung / closed by the client. */
  status: number;
  /** Name of the injected fault (its kind), or 'rate_limit:requests' / 'rate_limit:tokens' for enforced limits. */
  fault?: string;
  /** Message content sent back on 200 answers (null for refusals). */
  content?: string | null;
  usage?: RecordedUsage;
  /** How a 200 answer ended: stop, or length (cut at the cap). */
  finishReason?: 'stop' | 'length';
  /** The answer cap the endpoint read (max_completion_tokens, else max_tokens; Ollama: max_tokens only), when the request had one. */
  cap?: number;
  /** The service_tier the answer says served it (200 answers): flex, priority or default. */
  serviceTier?: string;
  /** Wall-clock ms (Date.now) when the request arrived. */
  startedAt: number;
  /** Wall-clock ms when the response finished or the socket closed. */
  endedAt?: number;
}
