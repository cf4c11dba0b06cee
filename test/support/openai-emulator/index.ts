/**
 * OpenAI-compatible chat-completions emulator for tests and benches: a real HTTP server on
 * 127.0.0.1 that answers like api.openai.com (bodies, errors, headers), with injectable faults,
 * enforced rate limits, simulated prompt caching and concurrency accounting. It also serves the
 * Files and Batch APIs: batches advance on the emulator clock and answer their lines through the
 * same responder. POST /v1/embeddings answers deterministic bag-of-words vectors (see embeddings.ts).
 */
export { startOpenAIEmulator, type OpenAIEmulator } from './server.js';
export { emulatorProfile, type EmulatorProfile, type ProfileName } from './profiles.js';
export { defaultVerdict, extractRow, extractRows, extraFields, messageText, requiredFields, ROW_MARKER, ROWS_MARKER } from './responder.js';
export { formatGoDuration, DEFAULT_COMPLETION_BUDGET, DEFAULT_WINDOW_MS, MINUTE_MS } from './ratelimit.js';
export { estimateTokens, promptText, CACHE_BLOCK_TOKENS, MIN_CACHED_PREFIX_TOKENS } from './usage.js';
export { INSUFFICIENT_QUOTA_MESSAGE, REFUSAL_TEXT } from './faults.js';
export {
  BATCH_EXPIRED_MESSAGE,
  COMPLETION_WINDOW_MS,
  MAX_BATCH_INPUT_BYTES,
  MAX_BATCH_REQUESTS,
  type BatchError,
  type BatchObject,
  type BatchStatus,
  type BatchUsage,
} from './batches.js';
export { MAX_UPLOAD_BYTES, type FileObject, type FilePurpose } from './files.js';
export { DEFAULT_EMBEDDING_DIMENSIONS, embedText, MAX_EMBEDDING_INPUTS, toBase64Float32 } from './embeddings.js';
export type {
  AdvanceBatchOptions,
  Answer,
  BatchAdvanceTarget,
  BatchLineFaultMatcher,
  BatchLineInfo,
  BatchOptions,
  ChatMessage,
  ChatRequest,
  Fault,
  FaultMatcher,
  InjectBatchLineFaultOptions,
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
