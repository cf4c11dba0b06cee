import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { JWT } from 'google-auth-library';
import { SheetsError, redact } from '../errors.js';
import { backoffDelay, retryAfterMs, sleep, type BackoffOptions } from '../retry/index.js';
import { sameTab } from './a1.js';
import type { ServiceAccountKey } from './credentials.js';
import { QuotaPacer } from './quota.js';
import { plural } from '../plural.js';
import { pushTo } from '../collections.js';

export interface SheetsClientOptions {
  spreadsheetId: string;
  key: ServiceAccountKey;
  apiRoot?: string | undefined;
  readsPerMinute: number;
  writesPerMinute: number;
  /** Pacers shared with other clients of the same service account (else this client's own). */
  pacers?: { reads: QuotaPacer; writes: QuotaPacer } | undefined;
  /** Retries of one call on 429 / 5xx / network errors. */
  maxRetries?: number;
  backoff?: BackoffOptions;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told about each call's attempt, for the metrics (Sheets calls by kind, 429s); also settable later with onCall(). */
  onCall?: SheetsCallListener;
  /** Told about each retry, for the run's counters and progress. */
  onRetry?: (info: { kind: 'read' | 'write'; what: string; attempt: number; waitMs: number; status?: number | undefined }) => void;
}

/** One attempt of a Sheets API call: its kind, and the HTTP status it failed with (none: a network error) when `failed`. */
export type SheetsCallListener = (call: { kind: 'read' | 'write'; failed: boolean; status?: number | undefined }) => void;

export interface TabMetadata {
  sheetId: number;
  title: string;
  rowCount: number;
  columnCount: number;
}

export type CellValues = string[][];

/** Values for one range of a write; booleans are for checkboxes. */
export interface ValueRange {
  range: string;
  values: ReadonlyArray<ReadonlyArray<string | boolean>>;
}

/**
 * The only door to the Sheets API. Every call goes through the read or write pacer
 * (Sheets' per-minute quotas), is retried on 429 / 5xx / network errors with
 * backoff, and fails with a SheetsError that says what to do.
 */
export class SheetsClient {
  readonly serviceAccountEmail: string;
  readonly spreadsheetId: string;
  readonly reads: QuotaPacer;
  readonly writes: QuotaPacer;
  private readonly api: sheets_v4.Sheets;
  private readonly secrets: string[];
  private readonly callListeners = new Set<SheetsCallListener>();

  constructor(private readonly options: SheetsClientOptions) {
    this.serviceAccountEmail = options.key.client_email;
    this.spreadsheetId = options.spreadsheetId;
    this.secrets = [options.key.private_key];
    const auth = new JWT({
      email: options.key.client_email,
      key: options.key.private_key,
      ...(options.key.private_key_id ? { keyId: options.key.private_key_id } : {}),
      scopes: ['https://www.googleapis.com/auth/spreadsheets'],
    });
    // A self-signed JWT is sent as the bearer token: no round trip to a token
    // endpoint, which also lets the client talk to an emulator with a fake key.
    auth.useJWTAccessWithScope = true;
    const root = options.apiRoot ? (options.apiRoot.endsWith('/') ? options.apiRoot : `${options.apiRoot}/`) : undefined;
    // retry: false — gaxios would otherwise retry GETs on its own, multiplying ours.
    this.api = sheets({ version: 'v4', auth, retry: false, timeout: options.timeoutMs ?? 60_000, ...(root ? { rootUrl: root } : {}) });
    this.reads = options.pacers?.reads ?? new QuotaPacer(options.readsPerMinute);
    this.writes = options.pacers?.writes ?? new QuotaPacer(options.writesPerMinute);
    if (options.onCall) this.callListeners.add(options.onCall);
  }

  /** Hears of every call's attempt (a run's metrics, while it runs) until the returned function is called; a listener that throws is ignored. */
  onCall(listener: SheetsCallListener): () => void {
    this.callListeners.add(listener);
    return () => this.callListeners.delete(listener);
  }

  private told(call: Parameters<SheetsCallListener>[0]): void {
    for (const listener of this.callListeners) {
      try {
        listener(call);
      } catch {
        // A listener's bug (metrics) never fails a Sheets call.
      }
    }
  }

  /** Every tab's id, title and grid size (one read call). */
  async sheetsMetadata(): Promise<TabMetadata[]> {
    const response = await this.call('read', `read the list of tabs`, undefined, () =>
      this.api.spreadsheets.get({ spreadsheetId: this.spreadsheetId, fields: 'sheets.properties(sheetId,title,gridProperties(rowCount,columnCount))' }),
    );
    return (response.data.sheets ?? []).map((s) => ({
      sheetId: s.properties?.sheetId ?? 0,
      title: s.properties?.title ?? '',
      rowCount: s.properties?.gridProperties?.rowCount ?? 0,
      columnCount: s.properties?.gridProperties?.columnCount ?? 0,
    }));
  }

  /** spreadsheets.get of some tabs (those `ranges` name, all when none), with grid data for the ranges when `fields` asks for it. */
  async getSheets(ranges: readonly string[], fields: string, what: string): Promise<sheets_v4.Schema$Sheet[]> {
    const response = await this.call('read', what, undefined, () => this.api.spreadsheets.get({ spreadsheetId: this.spreadsheetId, ranges: [...ranges], fields }));
    return response.data.sheets ?? [];
  }

  /** One tab's size and id; needed only when the grid must grow. */
  async metadata(tab: string): Promise<TabMetadata> {
    const all = await this.sheetsMetadata();
    const found = all.find((s) => sameTab(s.title, tab));
    if (!found) {
      const titles = all.map((s) => `"${s.title}"`).join(', ');
      throw new SheetsError(`The spreadsheet ${this.spreadsheetId} has no tab named "${tab}". Its tabs: ${titles || 'none'}.`, {
        hint: 'Set sheets.sheet to one of those tab names (exactly as shown on the tab).',
      });
    }
    return found;
  }

  /** Reads a range's displayed values (what the people in the sheet see). */
  async read(range: string): Promise<CellValues> {
    const response = await this.call('read', `read ${range}`, undefined, () =>
      this.api.spreadsheets.values.get({ spreadsheetId: this.spreadsheetId, range, valueRenderOption: 'FORMATTED_VALUE', majorDimension: 'ROWS' }),
    );
    return normalizeValues(response.data.values);
  }

  /**
   * Reads a range's displayed values with the range Sheets says they cover: a range past
   * the grid's last row comes back clipped to it, which tells where the tab ends without
   * asking for its size (chunks.ts).
   */
  async readRange(range: string): Promise<{ values: CellValues; range: string | undefined }> {
    const response = await this.call('read', `read ${range}`, undefined, () =>
      this.api.spreadsheets.values.get({ spreadsheetId: this.spreadsheetId, range, valueRenderOption: 'FORMATTED_VALUE', majorDimension: 'ROWS' }),
    );
    return { values: normalizeValues(response.data.values), range: response.data.range ?? undefined };
  }

  /**
   * Reads a few ranges in one values.batchGet, each with the range Sheets says it covers
   * (clipped to the grid, as readRange): the header row and a chunk of rows read together
   * always agree (chunks.ts); watch reads the data tab's first rows, learning where its grid
   * ends, and the results tab in one call. For a few short ranges only (readMany handles a long list).
   */
  async readRanges(ranges: readonly string[]): Promise<Array<{ values: CellValues; range: string | undefined }>> {
    if (ranges.length === 0) return [];
    const response = await this.call('read', `read ${ranges.length} ranges`, undefined, () =>
      this.api.spreadsheets.values.batchGet({ spreadsheetId: this.spreadsheetId, ranges: [...ranges], valueRenderOption: 'FORMATTED_VALUE', majorDimension: 'ROWS' }),
    );
    const valueRanges = response.data.valueRanges ?? [];
    return ranges.map((_, i) => ({ values: normalizeValues(valueRanges[i]?.values), range: valueRanges[i]?.range ?? undefined }));
  }

  /**
   * Reads several ranges in one call. values.batchGet carries its ranges in the URL, which
   * Google's front end refuses past about 8 KB; a read of many ranges (a write's rows, one
   * range per run of adjacent rows) goes as values.batchGetByDataFilter instead, its
   * ranges in a POST body: one read call either way.
   */
  async readMany(ranges: readonly string[]): Promise<CellValues[]> {
    if (ranges.length === 0) return [];
    if (batchGetUrlBytes(this.spreadsheetId, ranges) > MAX_GET_URL_BYTES) return this.readByFilters(ranges);
    const response = await this.call('read', `read ${ranges.length} ranges`, undefined, () =>
      this.api.spreadsheets.values.batchGet({ spreadsheetId: this.spreadsheetId, ranges: [...ranges], valueRenderOption: 'FORMATTED_VALUE', majorDimension: 'ROWS' }),
    );
    const valueRanges = response.data.valueRanges ?? [];
    return ranges.map((_, i) => normalizeValues(valueRanges[i]?.values));
  }

  /** values.batchGetByDataFilter with one a1Range filter per range; each answer is matched to its range by the filter it names. */
  private async readByFilters(ranges: readonly string[]): Promise<CellValues[]> {
    const response = await this.call('read', `read ${ranges.length} ranges`, undefined, () =>
      this.api.spreadsheets.values.batchGetByDataFilter({
        spreadsheetId: this.spreadsheetId,
        requestBody: { dataFilters: ranges.map((a1Range) => ({ a1Range })), valueRenderOption: 'FORMATTED_VALUE', majorDimension: 'ROWS' },
      }),
    );
    // Google documents no order for the matched ranges: each is found by its filter (a range asked twice gets its answers in turn).
    const byRange = new Map<string, Array<unknown[][] | null | undefined>>();
    for (const matched of response.data.valueRanges ?? []) {
      for (const filter of matched.dataFilters ?? []) if (typeof filter.a1Range === 'string') pushTo(byRange, filter.a1Range, matched.valueRange?.values);
    }
    return ranges.map((range) => normalizeValues(byRange.get(range)?.shift()));
  }

  /**
   * Writes ranges in one call, always RAW: nothing becomes a formula. `retry: false`
   * leaves retrying to the caller (the writer re-identifies the rows before each
   * attempt; see retryPause).
   */
  async write(data: ReadonlyArray<ValueRange>, options: { retry?: boolean } = {}): Promise<void> {
    if (data.length === 0) return;
    await this.call('write', `write ${data.length} ranges`, options.retry === false ? 0 : undefined, () =>
      this.api.spreadsheets.values.batchUpdate({ spreadsheetId: this.spreadsheetId, requestBody: writeBody(data) }),
    );
  }

  /**
   * Appends rows after the last row of a table on a tab (RAW, inserting rows as needed).
   * An append is not idempotent: `retry: false` leaves retrying to a caller that can
   * tell whether a failed one was applied (appendToOwnTab).
   */
  async append(range: string, rows: string[][], options: { retry?: boolean } = {}): Promise<void> {
    await this.call('write', `append ${plural(rows.length, 'row')} to ${range}`, options.retry === false ? 0 : undefined, () =>
      this.api.spreadsheets.values.append({
        spreadsheetId: this.spreadsheetId,
        range,
        valueInputOption: 'RAW',
        insertDataOption: 'INSERT_ROWS',
        requestBody: appendBody(rows),
      }),
    );
  }

  /** Empties a range (values only; formatting stays). */
  async clear(range: string): Promise<void> {
    await this.call('write', `clear ${range}`, undefined, () => this.api.spreadsheets.values.clear({ spreadsheetId: this.spreadsheetId, range, requestBody: {} }));
  }

  /** Adds a tab; returns its sheet id. */
  async addTab(title: string): Promise<number> {
    const response = await this.call('write', `add the tab "${title}"`, undefined, () =>
      this.api.spreadsheets.batchUpdate({ spreadsheetId: this.spreadsheetId, requestBody: { requests: [{ addSheet: { properties: { title } } }] } }),
    );
    return response.data.replies?.[0]?.addSheet?.properties?.sheetId ?? 0;
  }

  /** Sends structural requests (spreadsheets.batchUpdate) in one atomic call; returns their replies, in order. */
  async batchUpdate(requests: sheets_v4.Schema$Request[], what: string): Promise<sheets_v4.Schema$Response[]> {
    const response = await this.call('write', what, undefined, () => this.api.spreadsheets.batchUpdate({ spreadsheetId: this.spreadsheetId, requestBody: { requests } }));
    return response.data.replies ?? [];
  }

  /** Grows a tab by `count` rows or columns at its end. */
  async appendDimension(sheetId: number, dimension: 'ROWS' | 'COLUMNS', count: number): Promise<void> {
    await this.call('write', `add ${count} ${dimension.toLowerCase()}`, undefined, () =>
      this.api.spreadsheets.batchUpdate({
        spreadsheetId: this.spreadsheetId,
        requestBody: { requests: [{ appendDimension: { sheetId, dimension, length: count } }] },
      }),
    );
  }

  /**
   * For callers that retry themselves (`write(…, { retry: false })`): when the failure
   * of attempt `attempt` (0 = the first) is worth another try, waits as long as Sheets
   * asked (Retry-After) or the backoff says, and returns true; false when it is not.
   */
  async retryPause(kind: 'read' | 'write', error: unknown, attempt: number): Promise<boolean> {
    const raw = error instanceof SheetsError && error.cause !== undefined ? error.cause : error;
    const waitMs = this.retryWait(kind, raw, attempt, this.options.maxRetries ?? 6, 'retry a write');
    if (waitMs === undefined) return false;
    await sleep(waitMs, this.options.signal);
    return true;
  }

  private async call<T>(kind: 'read' | 'write', what: string, retries: number | undefined, send: () => Promise<T>): Promise<T> {
    const maxRetries = retries ?? this.options.maxRetries ?? 6;
    const pacer = kind === 'read' ? this.reads : this.writes;
    for (let attempt = 0; ; attempt++) {
      await pacer.take(this.options.signal);
      try {
        const result = await send();
        this.told({ kind, failed: false });
        return result;
      } catch (error) {
        this.told({ kind, failed: true, status: statusOf(error) });
        const waitMs = this.retryWait(kind, error, attempt, maxRetries, what);
        if (waitMs === undefined) throw this.explain(error, what, attempt);
        await sleep(waitMs, this.options.signal);
      }
    }
  }

  /** How long to wait before retrying a failed call (telling the pacer and onRetry), or undefined: give up. */
  private retryWait(kind: 'read' | 'write', error: unknown, attempt: number, maxRetries: number, what: string): number | undefined {
    const status = statusOf(error);
    const transient = status === undefined || status === 408 || status === 429 || status >= 500;
    if (!transient || attempt >= maxRetries || this.options.signal?.aborted) return undefined;
    const waitMs = retryAfterMs(headersOf(error)) ?? backoffDelay(attempt, this.options.backoff);
    if (status === 429) (kind === 'read' ? this.reads : this.writes).penalize(waitMs);
    this.options.onRetry?.({ kind, what, attempt: attempt + 1, waitMs, status });
    return waitMs;
  }

  private explain(error: unknown, what: string, attempt: number): SheetsError {
    const status = statusOf(error);
    const remote = redact(remoteMessage(error), this.secrets);
    const where = `spreadsheet ${this.spreadsheetId}`;
    const after = attempt > 0 ? ` (after ${plural(attempt, 'retry', 'retries')})` : '';
    const base = { status, cause: error };
    switch (status) {
      case 401:
        return new SheetsError(`Google rejected the service-account credentials while trying to ${what} (401: ${remote}).`, {
          ...base,
          hint: 'Check that the key file is current (keys can be revoked) and that the Sheets API is enabled for its project.',
        });
      case 403:
        return new SheetsError(`No permission to ${what} in ${where} (403: ${remote}).`, {
          ...base,
          hint: `Share the spreadsheet with ${this.serviceAccountEmail} as an Editor (Share button in the sheet), and make sure the Google Sheets API is enabled for the service account's project.`,
        });
      case 404:
        return new SheetsError(`The ${where} was not found while trying to ${what} (404).`, {
          ...base,
          hint: 'Check sheets.spreadsheet_id: it is the part of the sheet URL between /d/ and /edit.',
        });
      case 400:
        if (/Unable to parse range/i.test(remote)) {
          return new SheetsError(`Could not ${what}: the tab does not exist in ${where} (${remote}).`, {
            ...base,
            hint: 'Check sheets.sheet: it must match the tab name exactly.',
          });
        }
        return new SheetsError(`Sheets refused to ${what} in ${where} (400: ${remote}).`, base);
      case 414:
        return new SheetsError(`Google's front end refused the request to ${what} in ${where}: its URL is too long (414).`, {
          ...base,
          hint: 'Nothing was changed. This is a bug in status-validator (a read too large for one URL): please report it with the command you ran.',
        });
      case 429:
        return new SheetsError(`Sheets quota exhausted while trying to ${what}${after} (429: ${remote}).`, {
          ...base,
          hint: 'Lower sheets.read_quota_per_minute / write_quota_per_minute, or ask Google for a higher quota; nothing was lost, run again later.',
        });
      case undefined:
        return new SheetsError(`Could not reach the Sheets API to ${what}${after}: ${remote}.`, {
          ...base,
          hint: 'Check the network connection (and sheets.api_root, if set).',
        });
      default:
        return new SheetsError(`Sheets failed to ${what} in ${where}${after} (${status}: ${remote}).`, {
          ...base,
          hint: 'This is usually temporary at Google; run again in a few minutes.',
        });
    }
  }
}

/** The body of values.batchUpdate as write() sends it (RAW: invariant 3); the writer measures its batches by it. */
export function writeBody(data: ReadonlyArray<ValueRange>): sheets_v4.Schema$BatchUpdateValuesRequest {
  return { valueInputOption: 'RAW', data: data.map((d) => ({ range: d.range, majorDimension: 'ROWS', values: d.values.map((row) => [...row]) })) };
}

/** The body of values.append as append() sends it. */
export function appendBody(rows: string[][]): sheets_v4.Schema$ValueRange {
  return { majorDimension: 'ROWS', values: rows };
}

/** Bytes of a request body as the client sends it: gaxios sends JSON.stringify of it, in UTF-8. */
export function bodyBytes(body: object): number {
  return Buffer.byteLength(JSON.stringify(body));
}

/**
 * Longest values.batchGet URL the client sends; longer ones go as a POST. Google's own
 * Python client turns a GET past 2,048 characters into a POST (googleapiclient/http.py,
 * MAX_URI_LENGTH) and Google's front ends refuse URLs past about 8 KB with a 414
 * (googleapis/google-api-nodejs-client#972).
 */
export const MAX_GET_URL_BYTES = 2048;

/**
 * At most what the batchGet URL takes: googleapis-common encodes each range with qs
 * (RFC 3986), three characters at most per UTF-8 byte, one `ranges=` parameter each.
 */
function batchGetUrlBytes(spreadsheetId: string, ranges: readonly string[]): number {
  let bytes = 'https://sheets.googleapis.com/v4/spreadsheets//values:batchGet?valueRenderOption=FORMATTED_VALUE&majorDimension=ROWS'.length + 3 * Buffer.byteLength(spreadsheetId);
  for (const range of ranges) bytes += '&ranges='.length + 3 * Buffer.byteLength(range);
  return bytes;
}

function normalizeValues(values: unknown[][] | null | undefined): CellValues {
  return (values ?? []).map((row) => row.map((cell) => (cell === null || cell === undefined ? '' : String(cell as string))));
}

function statusOf(error: unknown): number | undefined {
  const e = error as { status?: unknown; response?: { status?: unknown } };
  const status = e.status ?? e.response?.status;
  return typeof status === 'number' ? status : undefined;
}

/** gaxios brings its own Headers class: anything with a get() will do. */
function headersOf(error: unknown): Headers | undefined {
  const headers = (error as { response?: { headers?: unknown } }).response?.headers;
  return headers && typeof (headers as Headers).get === 'function' ? (headers as Headers) : undefined;
}

function remoteMessage(error: unknown): string {
  const data = (error as { response?: { data?: { error?: { message?: unknown } } } }).response?.data;
  const message = data?.error?.message;
  if (typeof message === 'string') return message;
  return error instanceof Error ? error.message : String(error);
}
