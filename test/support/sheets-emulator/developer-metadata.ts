/**
 * Developer metadata on a spreadsheet (createDeveloperMetadata / deleteDeveloperMetadata
 * requests of spreadsheets.batchUpdate), enough for a write-access check that leaves
 * nothing behind. Reference: https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.developerMetadata
 * ("Developer metadata must always have a key specified"; a visibility of DOCUMENT or
 * PROJECT; ids are positive) and https://developers.google.com/sheets/api/guides/metadata.
 * Metadata is not part of any cell, format or tab: a person never sees it in the sheet.
 */
import type { ApiError } from './errors.js';
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
    const location = obj(meta['location']);
    const onSheet = location['sheetId'] !== undefined;
    if (location['spreadsheet'] !== true && !onSheet) throw fail('Developer metadata location must be specified.');
    if (onSheet && !book.sheetById(location['sheetId'])) throw fail(`No grid with id: ${String(location['sheetId'])}`);
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
      location: onSheet ? { locationType: 'SHEET', sheetId: location['sheetId'] } : { locationType: 'SPREADSHEET', spreadsheet: true },
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
