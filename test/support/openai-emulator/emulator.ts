import type { BatchObject } from './batches.js';
import type { FileObject } from './files.js';
import type {
  AdvanceBatchOptions,
  BatchAdvanceTarget,
  Fault,
  InjectBatchLineFaultOptions,
  InjectFaultOptions,
  Latency,
  RateLimitOptions,
  RecordedRequest,
  RespondFn,
} from './types.js';

// What a test holds: the emulator's URL, its records and its hooks (server.ts implements it).

export interface OpenAIEmulator {
  /** Base URL for the SDK: 'http://127.0.0.1:PORT/v1'. */
  readonly url: string;
  /** Every request received (any path), in arrival order. */
  readonly requests: RecordedRequest[];
  /** Requests currently open (arrived, response not finished, socket not closed). */
  readonly inFlight: number;
  /** Highest inFlight seen since start / reset(). */
  readonly peakInFlight: number;
  /** Number of POST /v1/chat/completions received (faulted and rejected ones included). */
  callCount(): number;
  /** Number of POST /v1/embeddings received (rejected ones included). */
  embeddingCallCount(): number;
  /** The next `times` (default 1) matching chat requests get this fault. */
  injectFault(fault: Fault, opts?: InjectFaultOptions): void;
  /** Remaining injected fault uses. */
  pendingFaults(): number;
  clearFaults(): void;
  /** Replace the responder; undefined restores the default verdict. */
  setRespond(fn: RespondFn | undefined): void;
  setLatency(latency: Latency): void;
  /** Replace (or remove with undefined) the enforced rate limits; starts a fresh window. */
  setRateLimit(limits: RateLimitOptions | undefined): void;
  setSupportsJsonSchema(supported: boolean): void;
  /** Resolves once callCount() >= count; rejects after timeoutMs (default 5000). */
  waitForCalls(count: number, timeoutMs?: number): Promise<void>;
  /**
   * The next `times` (default 1) matching batch lines get this fault when the batch answers them:
   * HTTP-error faults (status, rate_limit, insufficient_quota; reset / hang become a 500) put the
   * line in the error file, answer faults (malformed, truncated, refusal, wrong_types, content)
   * put a 200 line with that content in the output file. Separate from chat `injectFault`.
   */
  injectBatchLineFault(fault: Fault, opts?: InjectBatchLineFaultOptions): void;
  /** Remaining injected batch-line fault uses. */
  pendingBatchLineFaults(): number;
  /**
   * Bring the batch up to the clock, then push it on to `to` now (in_progress → every line is
   * answered on the way to finalizing / completed). With `{ lines }` and `in_progress`, answer that
   * many lines first. A file that fails validation stops it at `failed`. Resolves to the batch object.
   */
  advanceBatch(id: string, to: BatchAdvanceTarget, opts?: AdvanceBatchOptions): Promise<BatchObject>;
  /** Expire the batch now: answered lines go to the output file, the rest to the error file as batch_expired. */
  expireBatch(id: string): Promise<BatchObject>;
  /** Every batch, oldest first, as last computed (looking at them through the API or hooks advances them). */
  batches(): BatchObject[];
  /** Every file not deleted (uploads, batch output and error files), oldest first. */
  files(): FileObject[];
  /** A stored file's content as UTF-8 text; undefined when there is no such file. */
  fileText(id: string): string | undefined;
  /** Batch lines run through the model (the responder or an injected line fault) since start / reset(). */
  batchLineCount(): number;
  /** Forget recorded requests, counters, faults, rate windows, cache, files and batches; restore start options. */
  reset(): void;
  /** Stop listening and destroy every socket, hanging ones included. Idempotent. */
  close(): Promise<void>;
  /**
   * An outage: once `answers` chat completions have been answered (200, sent in full), the
   * server goes away as a host does: it stops listening (new connections are refused) and
   * drops the connections open (requests in flight end without an answer).
   */
  goDownAfter(answers: number): void;
}
