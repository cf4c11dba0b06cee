import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { JWT } from 'google-auth-library';
import { SheetsError } from '../errors.js';
import type { BackoffOptions } from '../retry/index.js';
import { sameTab } from './a1.js';
import { SheetsCalls, type SheetsCallListener } from './calls.js';
import type { ServiceAccountKey } from './credentials.js';
import { QuotaPacer } from './quota.js';
import { plural } from '../plural.js';
import { pushTo } from '../collections.js';
import { MAX_GET_URL_BYTES, appendBody, batchGetUrlBytes, normalizeValues, writeBody, type CellValues, type ValueRange } from './wire.js';

export type { SheetsCallListener } from './calls.js';
export { MAX_GET_URL_BYTES, appendBody, bodyBytes, writeBody, type CellValues, type ValueRange } from './wire.js';

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

export interface TabMetadata {
  sheetId: number;
  title: string;
  rowCount: number;
  columnCount: number;
}

/**
 * The only door to the Sheets API. Every call goes through the read or write pacer
 * (Sheets' per-minute quotas), is retried on 429 / 5xx / network errors with
 * backoff, and fails with a SheetsError that says what to do (calls.ts, failure.ts).
 */
export class SheetsClient {
  readonly serviceAccountEmail: string;
  readonly spreadsheetId: string;
  readonly reads: QuotaPacer;
  readonly writes: QuotaPacer;
  private readonly api: sheets_v4.Sheets;
  private readonly calls: SheetsCalls;

  constructor(options: SheetsClientOptions) {
    this.serviceAccountEmail = options.key.client_email;
    this.spreadsheetId = options.spreadsheetId;
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
    this.calls = new SheetsCalls({
      sheet: { spreadsheetId: this.spreadsheetId, serviceAccountEmail: this.serviceAccountEmail, secrets: [options.key.private_key] },
      reads: this.reads,
      writes: this.writes,
      maxRetries: options.maxRetries,
      backoff: options.backoff,
      signal: options.signal,
      onRetry: options.onRetry,
    });
    if (options.onCall) this.calls.onCall(options.onCall);
  }

  /** Hears of every call's attempt (a run's metrics, while it runs) until the returned function is called; a listener that throws is ignored. */
  onCall(listener: SheetsCallListener): () => void {
    return this.calls.onCall(listener);
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
  retryPause(kind: 'read' | 'write', error: unknown, attempt: number): Promise<boolean> {
    return this.calls.retryPause(kind, error, attempt);
  }

  private call<T>(kind: 'read' | 'write', what: string, retries: number | undefined, send: () => Promise<T>): Promise<T> {
    return this.calls.call(kind, what, retries, send);
  }
}
