/**
 * OpenAI-compatible chat-completions emulator for tests and benches: a real HTTP server on
 * 127.0.0.1 that answers like api.openai.com (bodies, errors, headers), with injectable faults,
 * enforced rate limits, simulated prompt caching and concurrency accounting.
 */
export { startOpenAIEmulator, type OpenAIEmulator } from './server.js';
export { defaultVerdict, extractRow, messageText, ROW_MARKER } from './responder.js';
export { formatGoDuration, DEFAULT_COMPLETION_BUDGET, DEFAULT_WINDOW_MS } from './ratelimit.js';
export { estimateTokens, promptText, CACHE_BLOCK_TOKENS, MIN_CACHED_PREFIX_TOKENS } from './usage.js';
export { INSUFFICIENT_QUOTA_MESSAGE, REFUSAL_TEXT } from './faults.js';
export type {
  Answer,
  ChatMessage,
  ChatRequest,
  Fault,
  FaultMatcher,
  InjectFaultOptions,
  Latency,
  OpenAIEmulatorOptions,
  RateLimitOptions,
  RecordedRequest,
  RecordedUsage,
  RespondFn,
  ResponseFormat,
  RowInput,
} from './types.js';
