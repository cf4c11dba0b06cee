/** Serves one routed, authorised request against a spreadsheet. */
import { batchUpdate } from './batch-update.js';
import type { Evaluate } from './cells.js';
import { invalidArgument } from './errors.js';
import { getSpreadsheet } from './get.js';
import type { CallOp } from './types.js';
import {
  appendValues,
  batchClearValues,
  batchGetValues,
  batchGetValuesByDataFilter,
  batchUpdateValues,
  clearValues,
  getValues,
  updateValues,
  type ValuesContext,
} from './values-api.js';
import type { Spreadsheet } from './workbook.js';

type Json = Record<string, unknown>;

function asObject(body: unknown): Json {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw invalidArgument('Invalid JSON payload received. Expected an object.');
  }
  return body as Json;
}

export function dispatch(
  op: CallOp,
  book: Spreadsheet,
  range: string | undefined,
  query: URLSearchParams,
  body: unknown,
  evaluate: Evaluate,
): Json {
  const ctx: ValuesContext = { book, query, body: asObject(body), evaluate };
  const r = range ?? '';
  switch (op) {
    case 'get':
      return getSpreadsheet(book, query);
    case 'values.get':
      return getValues(ctx, r);
    case 'values.batchGet':
      return batchGetValues(ctx);
    case 'values.batchGetByDataFilter':
      return batchGetValuesByDataFilter(ctx);
    case 'values.update':
      return updateValues(ctx, r);
    case 'values.append':
      return appendValues(ctx, r);
    case 'values.clear':
      return clearValues(ctx, r);
    case 'values.batchUpdate':
      return batchUpdateValues(ctx);
    case 'values.batchClear':
      return batchClearValues(ctx);
    case 'batchUpdate':
      return batchUpdate(book, ctx.body);
    case 'unknown':
      throw invalidArgument('Unsupported operation.');
  }
}
