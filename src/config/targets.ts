import type { ConfigProblem } from '../errors.js';
import { closest } from './problems.js';

/**
 * `targets:` — several tabs (in one or more spreadsheets) checked by one config. Each
 * target is turned into the config a single-target file would have been: the top level,
 * with the target's spreadsheet and tab in `sheets`, and the sections it sets merged over
 * the top-level ones (key by key; a `null` removes an inherited key). What a process
 * shares (the providers, the cache, the Sheets credentials and quotas, prices, serve)
 * is top-level only: one provider gate and one Sheets pacer hold the limits for all.
 */

/** The keys a target may set, in the order the messages list them. */
export const TARGET_KEYS = ['name', 'spreadsheet_id', 'sheet', 'header_row', 'columns', 'rules', 'output', 'review', 'report'] as const;

/** Where a target key lives in the resolved config. */
const SHEETS_KEYS: Readonly<Record<string, string>> = { spreadsheet_id: 'spreadsheet_id', sheet: 'sheet', header_row: 'header_row' };

/** A target before validation: its name, where it is in the file, the config it resolves to. */
export interface TargetDraft {
  name: string;
  /** Its index under `targets:`; undefined for a file without targets (the top level is the one target). */
  index: number | undefined;
  /** The merged data, validated like a single-target config. */
  data: Record<string, unknown>;
  /** What the target itself sets, by resolved path (e.g. "columns.status", "sheets.sheet"). */
  own: ReadonlySet<string>;
}

/** Splits the raw (interpolated) config into one draft per target, with the problems of the list itself. */
export function draftTargets(root: Record<string, unknown>): { drafts: TargetDraft[]; problems: ConfigProblem[] } {
  const { targets, ...shared } = root;
  if (targets === undefined) return { drafts: [{ name: singleName(root), index: undefined, data: root, own: new Set() }], problems: [] };
  const problems: ConfigProblem[] = [];
  if (!Array.isArray(targets) || targets.length === 0) {
    return { drafts: [], problems: [{ path: 'targets', message: 'expected a list of targets, each with a name, a spreadsheet_id (or sheets.spreadsheet_id) and a sheet' }] };
  }
  const drafts: TargetDraft[] = [];
  targets.forEach((raw: unknown, index) => {
    if (!isRecord(raw)) {
      problems.push({ path: `targets[${index}]`, message: 'expected a target: name, spreadsheet_id, sheet, and optionally columns, rules, output, review, report' });
      return;
    }
    const unknown = Object.keys(raw).filter((key) => !(TARGET_KEYS as readonly string[]).includes(key));
    for (const key of unknown) problems.push({ path: `targets[${index}].${key}`, message: unknownTargetKey(key) });
    const name = raw.name;
    if (typeof name !== 'string' || !/^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u.test(name.trim())) {
      problems.push({ path: `targets[${index}].name`, message: `expected a name for the target (letters, digits, space, . _ -; up to 64), e.g. "programme-a"${name === undefined ? '' : ` (got ${JSON.stringify(name)})`}` });
      return;
    }
    const { sheets: sheetsOverride, own } = ownKeys(raw);
    const data = mergeOver(shared, { ...pick(raw, ['columns', 'rules', 'output', 'review', 'report']), ...(Object.keys(sheetsOverride).length > 0 ? { sheets: sheetsOverride } : {}) });
    drafts.push({ name: name.trim(), index, data, own });
  });
  const seen = new Map<string, number>();
  for (const draft of drafts) {
    const earlier = seen.get(draft.name.toLocaleLowerCase());
    if (earlier !== undefined) problems.push({ path: `targets[${draft.index ?? 0}].name`, message: `target name "${draft.name}" is already used by targets[${earlier}]; names must be unique (case aside)` });
    else seen.set(draft.name.toLocaleLowerCase(), draft.index ?? 0);
  }
  return { drafts, problems };
}

/**
 * Places a problem found in a target's resolved config. A key the target sets is named
 * under the target (`targets[1].columns.status`); a key it inherits is named where it is
 * set, once, when every target has the same problem; else under its own path, for the
 * target named in the message.
 */
export function placeProblems(drafts: readonly TargetDraft[], perTarget: ReadonlyArray<readonly ConfigProblem[]>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const seen = new Set<string>();
  const push = (problem: ConfigProblem) => {
    const id = `${problem.path}\u0000${problem.message}`;
    if (!seen.has(id)) out.push(problem);
    seen.add(id);
  };
  const everywhere = (problem: ConfigProblem) => perTarget.every((list) => list.some((p) => p.path === problem.path && p.message === problem.message));
  drafts.forEach((draft, i) => {
    for (const problem of perTarget[i] ?? []) {
      const other = draft.index === undefined ? undefined : keySetIn(draft, problem.message);
      if (draft.index === undefined) push(problem);
      else if (setByTarget(draft, problem.path)) push({ path: `targets[${draft.index}].${targetPath(problem.path)}`, message: `(target "${draft.name}") ${problem.message}` });
      // A clash with a key the target sets ("already used by columns.inputs.x") is the target's to fix.
      else if (other !== undefined) push({ path: `targets[${draft.index}].${targetPath(other)}`, message: `(target "${draft.name}") ${problem.path}: ${problem.message}` });
      else if (everywhere(problem)) push(problem);
      else push({ path: problem.path, message: `for target "${draft.name}" (targets[${draft.index}]): ${problem.message}` });
    }
  });
  return out;
}

/** A config key the target sets that a problem's message names (the other side of a clash), if any. */
function keySetIn(draft: TargetDraft, message: string): string | undefined {
  for (const match of message.matchAll(/\b(?:columns|output|review|rules|report|sheets)(?:\.[A-Za-z0-9_]+)+/g)) {
    if (setByTarget(draft, match[0])) return match[0];
  }
  return undefined;
}

/** A single-target file's target name: its tab. */
function singleName(root: Record<string, unknown>): string {
  const sheets = root.sheets;
  const sheet = isRecord(sheets) ? sheets.sheet : undefined;
  return typeof sheet === 'string' && sheet.trim() !== '' ? sheet.trim() : 'default';
}

function unknownTargetKey(key: string): string {
  const shared = ['llm', 'cache', 'pricing', 'dedup', 'serve', 'sheets', 'targets', 'notify'];
  if (shared.includes(key)) {
    return `a target cannot set ${key}: it is shared by all targets (one provider gate, one cache and one Sheets quota for the process); set it at the top level. A target may set: ${TARGET_KEYS.join(', ')}`;
  }
  const near = closest(key, TARGET_KEYS);
  return `unknown key${near ? ` (did you mean "${near}"?)` : ''}; a target may set: ${TARGET_KEYS.join(', ')}`;
}

/** The target's sheet keys (placed under `sheets`) and every resolved path it sets. */
function ownKeys(raw: Record<string, unknown>): { sheets: Record<string, unknown>; own: Set<string> } {
  const sheets: Record<string, unknown> = {};
  const own = new Set<string>();
  for (const [key, value] of Object.entries(raw)) {
    const sheetsKey = Object.hasOwn(SHEETS_KEYS, key) ? SHEETS_KEYS[key] : undefined;
    if (sheetsKey !== undefined) {
      sheets[sheetsKey] = value;
      own.add(`sheets.${sheetsKey}`);
    } else if (key !== 'name') {
      collectPaths(value, key, own);
    }
  }
  return { sheets, own };
}

function collectPaths(value: unknown, path: string, into: Set<string>): void {
  into.add(path);
  if (isRecord(value)) for (const [key, inner] of Object.entries(value)) collectPaths(inner, `${path}.${key}`, into);
}

/** Whether a problem's path (or a parent of it, or a child) is one the target sets. */
function setByTarget(draft: TargetDraft, path: string): boolean {
  const bare = path.replace(/\[\d+\]/g, '');
  for (let at = bare; at !== ''; at = at.includes('.') ? at.slice(0, at.lastIndexOf('.')) : '') {
    if (draft.own.has(at)) return true;
  }
  return false;
}

/** A resolved path as the target spells it: sheets.sheet → sheet. */
function targetPath(path: string): string {
  const match = /^sheets\.(spreadsheet_id|sheet|header_row)(.*)$/.exec(path);
  return match ? `${match[1] ?? ''}${match[2] ?? ''}` : path;
}

/** `over` merged onto `base`: objects key by key, anything else replaced; null removes the key. */
export function mergeOver(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else {
      const inherited = Object.hasOwn(out, key) ? out[key] : undefined;
      // Defined, not assigned: a key "__proto__" stays a key (which the schema refuses), never a prototype.
      Object.defineProperty(out, key, { value: isRecord(value) && isRecord(inherited) ? mergeOver(inherited, value) : value, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

function pick(raw: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (Object.hasOwn(raw, key)) out[key] = raw[key];
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
