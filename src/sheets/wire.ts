import type { sheets_v4 } from '@googleapis/sheets';

/** What goes over the wire to the Sheets API and back: cell values, request bodies, and their sizes. */

export type CellValues = string[][];

/** Values for one range of a write; booleans are for checkboxes. */
export interface ValueRange {
  range: string;
  values: ReadonlyArray<ReadonlyArray<string | boolean>>;
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
export function batchGetUrlBytes(spreadsheetId: string, ranges: readonly string[]): number {
  let bytes = 'https://sheets.googleapis.com/v4/spreadsheets//values:batchGet?valueRenderOption=FORMATTED_VALUE&majorDimension=ROWS'.length + 3 * Buffer.byteLength(spreadsheetId);
  for (const range of ranges) bytes += '&ranges='.length + 3 * Buffer.byteLength(range);
  return bytes;
}

export function normalizeValues(values: unknown[][] | null | undefined): CellValues {
  return (values ?? []).map((row) => row.map((cell) => (cell === null || cell === undefined ? '' : String(cell as string))));
}
