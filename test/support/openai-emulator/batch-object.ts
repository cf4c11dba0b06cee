import type { ChatRequest, Fault, RecordedUsage, RowInput } from './types.js';

// The Batch API's objects and limits, shared by the engine (batches.ts), its input checks
// (batch-input.ts), its clock (batch-state.ts) and its line runner (batch-lines.ts).

/** OpenAI's limits on one batch input file. */
export const MAX_BATCH_REQUESTS = 50_000;
export const MAX_BATCH_INPUT_BYTES = 200 * 1024 * 1024;
/** The only completion window OpenAI offers; a batch not done by then expires. */
export const COMPLETION_WINDOW_MS = 24 * 60 * 60 * 1000;

export const BATCH_EXPIRED_MESSAGE = 'This request could not be executed before the completion window expired.';

/** How a provider's Batch API differs from OpenAI's: the chat endpoint a job and its lines name, the windows it takes. */
export interface BatchDialect {
  endpoint: string;
  windows: RegExp;
  windowsText: string;
}

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

export interface BatchError {
  code: string;
  message: string;
  param: string | null;
  /** 1-based line of the input file; null for file-wide errors. */
  line: number | null;
}

export interface BatchUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** The batch object of the Batch API, as GET /v1/batches/:id returns it. */
export interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: string;
  model: string | null;
  errors: { object: 'list'; data: BatchError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  usage: BatchUsage;
  metadata: Record<string, string> | null;
}

/** What the "model" answered for one line: the HTTP status and body POST /v1/chat/completions would send. */
export interface BatchLineAnswer {
  status: number;
  body: unknown;
  usage?: RecordedUsage;
}

/** Answers batch lines the way the chat endpoint answers requests (same responder, cache and checks). */
export type BatchLineModel = (
  body: Record<string, unknown>,
  takeFault: (row: RowInput | undefined, chat: ChatRequest) => Fault | undefined,
) => Promise<BatchLineAnswer>;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function emptyUsage(): BatchUsage {
  return {
    input_tokens: 0,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 0,
  };
}
