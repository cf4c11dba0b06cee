/**
 * Developer metadata on a spreadsheet (createDeveloperMetadata / deleteDeveloperMetadata
 * requests of spreadsheets.batchUpdate), enough for a write-access check that leaves
 * nothing behind. Reference: https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.developerMetadata
 * ("Developer metadata must always have a key specified"; a visibility of DOCUMENT or
 * PROJECT; ids are positive) and https://developers.google.com/sheets/api/guides/metadata.
 * Metadata is not part of any cell, format or tab: a person never sees it in the sheet.
 */
import { decorOf, onShift, shiftInterval } from './decor.js';
import type { ApiError } from './errors.js';
import { shown } from './grid-range.js';
import type { Spreadsheet } from './workbook.js';

type Json = Record<string, unknown>;

export interface DeveloperMetadata {
  metadataId: number;
  metadataKey: string;
  metadataValue?: string;
  location: Json;
  visibility: 'DOCUMENT' | 'PROJECT';
}

const store = new WeakMap<Spreadsheet, DeveloperMetadata[]>();

// Metadata on a row or column moves with it, and goes when it is deleted ("When a row or
// column is deleted, the metadata associated with it is deleted", guides/metadata).
onShift((book, sheetId, shift) => {
  const list = store.get(book);
  if (!list) return;
  store.set(
    book,
    list.flatMap((m) => {
      const range = m.location['dimensionRange'] as Json | undefined;
      if (!range || range['sheetId'] !== sheetId || (range['dimension'] === 'ROWS') !== (shift.dim === 'ROWS')) return [m];
      const moved = shiftInterval(range['startIndex'] as number, range['endIndex'] as number, shift);
      if (!moved) return [];
      return [{ ...m, location: { ...m.location, dimensionRange: { ...range, startIndex: moved[0], endIndex: moved[1] } } }];
    }),
  );
});

/** The metadata on one tab's columns, by column index (for spreadsheets.get's columnMetadata). */
export function columnMetadataOf(book: Spreadsheet, sheetId: number): Map<number, DeveloperMetadata[]> {
  const out = new Map<number, DeveloperMetadata[]>();
  for (const m of store.get(book) ?? []) {
    const range = m.location['dimensionRange'] as Json | undefined;
    if (!range || range['sheetId'] !== sheetId || range['dimension'] !== 'COLUMNS') continue;
    const at = range['startIndex'] as number;
    out.set(at, [...(out.get(at) ?? []), { ...m }]);
  }
  return out;
}

/** The metadata on one tab itself (Sheet.developerMetadata) or on the spreadsheet (sheetId undefined). */
export function placedMetadataOf(book: Spreadsheet, sheetId: number | undefined): DeveloperMetadata[] {
  return (store.get(book) ?? []).filter((m) => (sheetId === undefined ? m.location['locationType'] === 'SPREADSHEET' : m.location['locationType'] === 'SHEET' && m.location['sheetId'] === sheetId)).map((m) => ({ ...m }));
}

/** A deleted tab takes its metadata with it. */
export function dropSheetMetadata(book: Spreadsheet, sheetId: number): void {
  const list = store.get(book);
  if (list) store.set(book, list.filter((m) => m.location['sheetId'] !== sheetId && (m.location['dimensionRange'] as Json | undefined)?.['sheetId'] !== sheetId));
}

/**
 * Where a new entry goes: the spreadsheet, a tab, or one row or column ("The specified
 * DimensionRange must represent a single row or column; it cannot be unbounded or span
 * multiple rows or columns", reference/rest/v4/spreadsheets.developerMetadata#DeveloperMetadataLocation).
 */
function placeOf(book: Spreadsheet, location: Json, fail: (msg: string) => ApiError): Json {
  const kinds = ['spreadsheet', 'sheetId', 'dimensionRange'].filter((k) => location[k] !== undefined);
  if (kinds.length === 0) throw fail('Developer metadata location must be specified.');
  if (kinds.length > 1) throw fail(`oneof field 'location' is already set. Cannot set '${kinds[1] ?? ''}'`);
  if (location['spreadsheet'] !== undefined) {
    if (location['spreadsheet'] !== true) throw fail('Developer metadata location must be specified.');
    return { locationType: 'SPREADSHEET', spreadsheet: true };
  }
  if (location['sheetId'] !== undefined) {
    if (!book.sheetById(location['sheetId'])) throw fail(`No grid with id: ${shown(location['sheetId'])}`);
    return { locationType: 'SHEET', sheetId: location['sheetId'] };
  }
  const range = obj(location['dimensionRange']);
  const sheet = book.sheetById(range['sheetId']);
  if (!sheet) throw fail(`No grid with id: ${shown(range['sheetId'])}`);
  const dimension = range['dimension'];
  if (dimension !== 'ROWS' && dimension !== 'COLUMNS') throw fail('dimension must be ROWS or COLUMNS');
  const start = range['startIndex'];
  const end = range['endIndex'];
  const size = dimension === 'ROWS' ? sheet.rowCount : sheet.columnCount;
  if (typeof start !== 'number' || typeof end !== 'number' || !Number.isInteger(start) || end !== start + 1 || start < 0 || end > size) {
    throw fail('The specified DimensionRange must represent a single row or column; it cannot be unbounded or span multiple rows or columns.');
  }
  return { locationType: dimension === 'ROWS' ? 'ROW' : 'COLUMN', dimensionRange: { sheetId: sheet.sheetId, dimension, startIndex: start, endIndex: end } };
}

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

/** Every entry of the spreadsheet (a copy), for tests. */
export function metadataOf(book: Spreadsheet): DeveloperMetadata[] {
  return (store.get(book) ?? []).map((m) => ({ ...m }));
}

/** For all-or-nothing batch updates: what to put back when a later request fails. */
export function snapshotMetadata(book: Spreadsheet): DeveloperMetadata[] {
  return metadataOf(book);
}

export function restoreMetadata(book: Spreadsheet, snapshot: DeveloperMetadata[]): void {
  store.set(book, snapshot);
}

type Handler = (book: Spreadsheet, req: Json, fail: (msg: string) => ApiError) => Json;

export const developerMetadataHandlers: Record<string, Handler> = {
  createDeveloperMetadata(book, req, fail) {
    const meta = obj(req['developerMetadata']);
    const key = meta['metadataKey'];
    if (typeof key !== 'string' || key === '') throw fail('Developer metadata must always have a key specified.');
    const visibility = meta['visibility'];
    if (visibility !== 'DOCUMENT' && visibility !== 'PROJECT') throw fail('Developer metadata must always have a visibility specified.');
    const location = placeOf(book, obj(meta['location']), fail);
    decorOf(book); // registers the shift listener that keeps column metadata on its column
    const list = store.get(book) ?? [];
    const raw = meta['metadataId'];
    if (raw !== undefined && (typeof raw !== 'number' || !Number.isInteger(raw) || raw <= 0)) throw fail('metadataId must be positive.');
    const given = raw;
    if (given !== undefined && list.some((m) => m.metadataId === given)) throw fail(`Developer metadata with id ${given} already exists.`);
    const metadataId = given ?? list.reduce((max, m) => Math.max(max, m.metadataId), 0) + 1;
    const entry: DeveloperMetadata = {
      metadataId,
      metadataKey: key,
      ...(typeof meta['metadataValue'] === 'string' ? { metadataValue: meta['metadataValue'] } : {}),
      location,
      visibility,
    };
    store.set(book, [...list, entry]);
    return { createDeveloperMetadata: { developerMetadata: { ...entry } } };
  },
  deleteDeveloperMetadata(book, req, fail) {
    const lookup = obj(obj(req['dataFilter'])['developerMetadataLookup']);
    if (Object.keys(lookup).length === 0) throw fail('The data filter must be a developerMetadataLookup (the emulator supports no other).');
    const matches = (m: DeveloperMetadata): boolean =>
      (lookup['metadataKey'] === undefined || lookup['metadataKey'] === m.metadataKey) &&
      (lookup['metadataId'] === undefined || lookup['metadataId'] === m.metadataId) &&
      (lookup['visibility'] === undefined || lookup['visibility'] === m.visibility);
    const list = store.get(book) ?? [];
    const deleted = list.filter(matches);
    store.set(book, list.filter((m) => !matches(m)));
    return { deleteDeveloperMetadata: { deletedDeveloperMetadata: deleted.map((m) => ({ ...m })) } };
  },
};
