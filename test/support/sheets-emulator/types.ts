/** Public types of the Sheets API v4 emulator. */

/** A value as a test seeds it or reads it back: `null` means an empty cell. */
export type Cell = string | number | boolean | null;

/** A non-empty stored value. */
export type Scalar = string | number | boolean;

export type ValueInputOption = 'RAW' | 'USER_ENTERED';
export type ValueRenderOption = 'FORMATTED_VALUE' | 'UNFORMATTED_VALUE' | 'FORMULA';
export type Dimension = 'ROWS' | 'COLUMNS';

/** What one cell holds, as returned by `getCell`. */
export interface CellState {
  /** The stored value; for a formula cell, the computed result. */
  value: Scalar;
  /** The formula text (with the leading `=`) when the cell holds a formula. */
  formula?: string;
  /** How the cell was last written over the API; absent for seeded/hook-set cells. */
  inputOption?: ValueInputOption;
}

export interface TabSeed {
  title: string;
  rows?: Cell[][];
  /** Defaults to max(1000, rows.length). */
  rowCount?: number;
  /** Defaults to max(26, widest row). */
  columnCount?: number;
  sheetId?: number;
}

export interface SheetsEmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Read requests allowed per user (service account) per sliding 60 s window; default unlimited. */
  readQuotaPerMinute?: number;
  /** Write requests allowed per user (service account) per sliding 60 s window; default unlimited. */
  writeQuotaPerMinute?: number;
  /** Read requests allowed per project (all users together) per sliding 60 s window; default unlimited (Google: 300). */
  projectReadQuotaPerMinute?: number;
  /** Write requests allowed per project per sliding 60 s window; default unlimited (Google: 300). */
  projectWriteQuotaPerMinute?: number;
  /** Clock for the quota windows and `at` timestamps; default Date.now. */
  now?: () => number;
  /** Delay applied to every request before it is served; default 0. */
  latencyMs?: number;
  /** Answer 401 when there is no `Authorization: Bearer` header; default true. */
  requireAuth?: boolean;
  /** Keep request bodies in `calls`; default true. Turn off for big benches. */
  recordBodies?: boolean;
  /**
   * Largest request body accepted, in bytes; default 10,485,760 (what Google's front end
   * enforces: see PAYLOAD_LIMIT_BYTES in errors.ts). Tests may lower it.
   */
  payloadLimitBytes?: number;
  /**
   * How fast reads are processed, in cells returned per second; default unlimited. A read
   * takes cells / rate seconds before it is answered, and one that would take longer than
   * `deadlineMs` is answered 504 DEADLINE_EXCEEDED at the deadline, as Google does: "When
   * Sheets processes a request for more than 180 seconds, the request returns a timeout
   * error" (https://developers.google.com/sheets/api/limits).
   */
  readCellsPerSecond?: number;
  /** The processing deadline of one request, in ms; default 180,000 (Google's). Tests scale it down. */
  deadlineMs?: number;
  /** Computes what a formula displays; default: `#NAME?` for every formula. */
  evaluateFormula?: (formula: string) => Scalar;
}

export type CallKind = 'read' | 'write';

export type CallOp =
  | 'get'
  | 'batchUpdate'
  | 'values.get'
  | 'values.batchGet'
  | 'values.batchGetByDataFilter'
  | 'values.update'
  | 'values.append'
  | 'values.clear'
  | 'values.batchUpdate'
  | 'values.batchClear'
  | 'unknown';

/** A request as seen by hooks and fault matchers, before it is served. */
export interface PendingCall {
  readonly kind: CallKind;
  readonly op: CallOp;
  readonly method: string;
  /** Raw path without the query string (the range stays URL-encoded). */
  readonly path: string;
  readonly spreadsheetId?: string;
  /** Decoded A1 range of values.get/update/append/clear. */
  readonly range?: string;
  /** Ranges of batchGet / batchGetByDataFilter (their a1Range filters) / batchClear / values:batchUpdate. */
  readonly ranges?: string[];
  readonly body?: unknown;
  readonly valueInputOption?: string;
  /** `email` (or `iss`) of the bearer JWT, when it could be decoded. */
  readonly caller?: string;
  /** Arrival time, from the emulator clock. */
  readonly at: number;
  /** Size of the request body as it arrived (before any gunzip): what the payload limit is checked against. */
  readonly bodyBytes: number;
  /** Length of the request target (path and query) as it arrived: what the URL limit is checked against. */
  readonly urlBytes: number;
}

/** A request as recorded in `calls`; `status` is 0 until it has been answered. */
export interface RecordedCall extends PendingCall {
  status: number;
}

export interface Fault {
  status: number;
  message?: string;
  /** Google status string for the body, e.g. 'UNAVAILABLE'; derived from `status` by default. */
  statusText?: string;
  headers?: Record<string, string>;
  /** Drop the connection instead of answering (the client sees a socket error). */
  destroySocket?: boolean;
  /**
   * Serve the request first (its effect applied), then answer with this fault: a
   * response lost on its way back (a reset connection, a proxy's timeout), which the
   * client cannot tell from a request that never arrived. Google counts socket timeouts,
   * TCP disconnects, 408, 429 and 5xx as retryable, and warns that retrying a request
   * that is not idempotent can apply it twice
   * (https://cloud.google.com/storage/docs/retry-strategy, "Response" and "Idempotency").
   */
  afterServe?: boolean;
}

export interface FaultOptions {
  kind?: CallKind;
  /** How many matching requests get the fault; default 1, Infinity allowed. */
  times?: number;
  match?: (call: PendingCall) => boolean;
}

export type RequestHook = (call: PendingCall) => void | Promise<void>;

/**
 * Runs once a request has been served (its effect applied, `status` set) and before the
 * client sees the answer: what it does lands between this call and the client's next
 * one — e.g. during the backoff that follows a 429.
 */
export type ResponseHook = (call: RecordedCall) => void | Promise<void>;
