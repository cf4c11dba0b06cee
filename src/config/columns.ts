import type { ConfigProblem } from '../errors.js';

/**
 * The input columns' own cross-key rules (issue 14: rows of any shape). They read the raw
 * (interpolated) data like the other cross-key rules, so they are reported together with
 * the schema's problems. `columns` is the raw `columns` object of one config (or target).
 */
export function inputColumnProblems(columns: unknown, rules: unknown): ConfigProblem[] {
  if (!isRecord(columns)) return []; // missing or mistyped: the schema says so
  const problems: ConfigProblem[] = [];
  const has = (key: string) => columns[key] !== undefined && columns[key] !== null;
  const extras = isRecord(columns.inputs) ? Object.keys(columns.inputs).length : has('inputs') ? 1 : 0;
  if (!has('status') && !has('comment') && extras === 0) {
    problems.push({ path: 'columns', message: 'name at least one column to check: columns.status, columns.comment or columns.inputs (e.g. inputs: { owner: "Owner" })' });
  }
  if (isRecord(rules) && rules.allowed_statuses !== undefined && !has('status')) {
    problems.push({ path: 'rules.allowed_statuses', message: 'allowed statuses need a status column: set columns.status, or remove rules.allowed_statuses' });
  }
  return problems;
}

/** The extra input headers by config key (columns.inputs.owner), for the header-clash check. */
export function extraInputHeaders(columns: unknown): Array<[string, unknown]> {
  const inputs = isRecord(columns) ? columns.inputs : undefined;
  return isRecord(inputs) ? Object.entries(inputs).map(([key, header]) => [`columns.inputs.${key}`, header] as [string, unknown]) : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
