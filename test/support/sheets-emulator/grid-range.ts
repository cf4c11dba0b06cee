/**
 * GridRange and BooleanCondition as spreadsheets.batchUpdate checks them. A GridRange is
 * half-open, "all indexes are zero-based", a missing start is 0 and a missing end is
 * unbounded; its sheet must exist and it must lie inside the grid
 * (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/other#GridRange).
 * Which condition types each feature takes, and how many values, is the ConditionType
 * table of https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/other#ConditionType
 * ("Supported by data validation, conditional formatting and filters" per type).
 */
import { formatBox } from './a1.js';
import type { ApiError } from './errors.js';
import type { Sheet } from './grid.js';
import type { Span } from './decor.js';
import type { Spreadsheet } from './workbook.js';

export type Json = Record<string, unknown>;
export type Fail = (msg: string) => ApiError;

export function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

/** An id or index as a message shows it (whatever a client sent). */
export function shown(v: unknown): string {
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? String(v) : (JSON.stringify(v) ?? '0');
}

export function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A GridRange checked against its spreadsheet: the tab and the indexes (ends may stay unbounded). */
export function checkGridRange(book: Spreadsheet, raw: unknown, fail: Fail, what = 'range'): { sheet: Sheet; span: Span } {
  if (!isObject(raw)) throw fail(`${what} must be a GridRange.`);
  const sheet = book.sheetById(raw['sheetId']);
  if (!sheet) throw fail(`No grid with id: ${typeof raw['sheetId'] === 'number' || typeof raw['sheetId'] === 'string' ? String(raw['sheetId']) : '0'}`);
  const index = (key: string): number | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw fail(`Invalid value at '${what}.${key}' (TYPE_INT32), ${JSON.stringify(v)}`);
    if (v < 0) throw fail(`${what}.${key} must be non-negative: ${v}`);
    return v;
  };
  const span: Span = { r0: index('startRowIndex') ?? 0, r1: index('endRowIndex'), c0: index('startColumnIndex') ?? 0, c1: index('endColumnIndex') };
  if ((span.r1 !== undefined && span.r1 < span.r0) || (span.c1 !== undefined && span.c1 < span.c0)) {
    throw fail(`Invalid ${what}: the start index must not be greater than the end index.`);
  }
  const r1 = span.r1 ?? sheet.rowCount;
  const c1 = span.c1 ?? sheet.columnCount;
  if (r1 > sheet.rowCount || c1 > sheet.columnCount || span.r0 > sheet.rowCount || span.c0 > sheet.columnCount) {
    const box = { r0: span.r0, c0: span.c0, r1: Math.max(span.r0, r1 - 1), c1: Math.max(span.c0, c1 - 1) };
    throw fail(`Range (${formatBox(sheet.title, box, { alwaysQuote: true })}) exceeds grid limits. Max rows: ${sheet.rowCount}, max columns: ${sheet.columnCount}`);
  }
  return { sheet, span };
}

type Feature = 'conditional formatting' | 'data validation';

/** [min, max] values per condition type, per feature; absent: the feature does not take the type. */
const CONDITIONS: Record<string, Partial<Record<Feature, [number, number]>>> = {
  NUMBER_GREATER: both(1, 1),
  NUMBER_GREATER_THAN_EQ: both(1, 1),
  NUMBER_LESS: both(1, 1),
  NUMBER_LESS_THAN_EQ: both(1, 1),
  NUMBER_EQ: both(1, 1),
  NUMBER_NOT_EQ: both(1, 1),
  NUMBER_BETWEEN: both(2, 2),
  NUMBER_NOT_BETWEEN: both(2, 2),
  TEXT_CONTAINS: both(1, 1),
  TEXT_NOT_CONTAINS: both(1, 1),
  TEXT_STARTS_WITH: { 'conditional formatting': [1, 1] },
  TEXT_ENDS_WITH: { 'conditional formatting': [1, 1] },
  TEXT_EQ: both(1, 1),
  TEXT_IS_EMAIL: { 'data validation': [0, 0] },
  TEXT_IS_URL: { 'data validation': [0, 0] },
  DATE_EQ: both(1, 1),
  DATE_BEFORE: both(1, 1),
  DATE_AFTER: both(1, 1),
  DATE_ON_OR_BEFORE: { 'data validation': [1, 1] },
  DATE_ON_OR_AFTER: { 'data validation': [1, 1] },
  DATE_BETWEEN: { 'data validation': [2, 2] },
  DATE_NOT_BETWEEN: { 'data validation': [2, 2] },
  DATE_IS_VALID: { 'data validation': [0, 0] },
  ONE_OF_RANGE: { 'data validation': [1, 1] },
  ONE_OF_LIST: { 'data validation': [1, 500] },
  BLANK: { 'conditional formatting': [0, 0] },
  NOT_BLANK: { 'conditional formatting': [0, 0] },
  CUSTOM_FORMULA: both(1, 1),
  // "If zero values, the cell must be TRUE or FALSE ...; if one value, checked = that value; if two, checked and unchecked."
  BOOLEAN: { 'data validation': [0, 2] },
};

function both(min: number, max: number): Partial<Record<Feature, [number, number]>> {
  return { 'conditional formatting': [min, max], 'data validation': [min, max] };
}

/** A BooleanCondition as `feature` takes it. */
export function checkCondition(raw: unknown, feature: Feature, fail: Fail): void {
  const condition = obj(raw);
  const type = condition['type'];
  if (typeof type !== 'string' || type === '' || type === 'CONDITION_TYPE_UNSPECIFIED') throw fail('Condition type must be specified.');
  const known = CONDITIONS[type];
  if (!known) throw fail(`Invalid value at 'condition.type' (type.googleapis.com/google.apps.sheets.v4.ConditionType), "${type}"`);
  const limits = known[feature];
  if (!limits) throw fail(`Invalid ConditionType ${type} for ${feature}.`);
  const values = condition['values'] === undefined ? [] : condition['values'];
  if (!Array.isArray(values)) throw fail('condition.values must be a list of ConditionValue.');
  for (const v of values) {
    const value = obj(v);
    const kinds = ['userEnteredValue', 'relativeDate'].filter((k) => value[k] !== undefined);
    if (kinds.length !== 1 || (value['userEnteredValue'] !== undefined && typeof value['userEnteredValue'] !== 'string')) {
      throw fail(`Each ConditionValue of a ${type} condition must set exactly one of userEnteredValue (a string) or relativeDate.`);
    }
    if (value['relativeDate'] !== undefined) checkRelativeDate(value['relativeDate'], type, feature, fail);
  }
  const [min, max] = limits;
  if (values.length < min || values.length > max) {
    const wanted = min === max ? `${min}` : `${min} to ${max}`;
    throw fail(`${type} condition for ${feature} takes ${wanted} ConditionValue${max === 1 ? '' : 's'}, got ${values.length}.`);
  }
}

/**
 * A ConditionValue's relativeDate: "Valid only if the type is DATE_BEFORE, DATE_AFTER,
 * DATE_ON_OR_BEFORE or DATE_ON_OR_AFTER. Relative dates are not supported in data
 * validation. They are supported only in conditional formatting and conditional filters."
 * Its values are the RelativeDate enum (PAST_YEAR, PAST_MONTH, PAST_WEEK, YESTERDAY, TODAY, TOMORROW).
 * https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/other#ConditionValue
 * https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/other#RelativeDate
 */
const RELATIVE_DATES = ['PAST_YEAR', 'PAST_MONTH', 'PAST_WEEK', 'YESTERDAY', 'TODAY', 'TOMORROW'];
const RELATIVE_DATE_TYPES = ['DATE_BEFORE', 'DATE_AFTER', 'DATE_ON_OR_BEFORE', 'DATE_ON_OR_AFTER'];

function checkRelativeDate(raw: unknown, type: string, feature: Feature, fail: Fail): void {
  if (typeof raw !== 'string' || !RELATIVE_DATES.includes(raw)) throw fail(`Invalid value at 'condition.values.relative_date' (type.googleapis.com/google.apps.sheets.v4.ConditionValue.RelativeDate), ${JSON.stringify(raw)}`);
  if (feature === 'data validation') throw fail(`Invalid ConditionValue for ${type}: relative dates are not supported in data validation.`);
  if (!RELATIVE_DATE_TYPES.includes(type)) throw fail(`Invalid ConditionValue for ${type}: a relativeDate is valid only for DATE_BEFORE, DATE_AFTER, DATE_ON_OR_BEFORE or DATE_ON_OR_AFTER.`);
}
