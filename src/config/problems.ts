import type { YAMLError } from 'yaml';
import type { z } from 'zod';
import { redact, type ConfigProblem } from '../errors.js';

/** Turns zod's issues into problems a person can act on: key, value received, what is allowed. */
export function problemsFromZod(error: z.ZodError, schema: z.ZodType): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const path = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(schema, issue.path);
      for (const key of issue.keys) {
        const near = closest(key, allowed);
        problems.push({
          path: formatPath([...issue.path, key]),
          message: `unknown key${near ? ` (did you mean "${near}"?)` : ''}; allowed here: ${allowed.join(', ')}`,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // zod says only "Invalid key in record"; the key's own check says what a key must be.
      problems.push({ path, message: `${issue.issues[0]?.message ?? issue.message} (got ${show(issue.path.at(-1))})` });
      continue;
    }
    const input = (issue as { input?: unknown }).input;
    const message = ownWords(issue);
    if (issue.code === 'invalid_type' && input === undefined) {
      problems.push({ path, message: `missing: ${message}` });
      continue;
    }
    // Never echo what was given where a secret may have been pasted by mistake; a
    // cross-key rule's input is its whole section, which says nothing more.
    const secretish = /key|secret|token|password/i.test(path);
    problems.push({ path, message: input === undefined || input === null || issue.code === 'custom' || secretish ? message : `${message} (got ${show(input)})` });
  }
  return problems;
}

/**
 * zod's own messages ("Invalid input: expected object, received undefined", "Too small:
 * expected number to be >=1") speak of its types, not of the config; the schema's own
 * messages (lower case, in the config's terms) are kept as they are.
 */
function ownWords(issue: z.core.$ZodIssue): string {
  if (!/^(Invalid|Too (small|big)|Unrecognized|Expected)\b/.test(issue.message)) return issue.message;
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type': {
      const wanted = TYPE_WORDS[issue.expected] ?? `a ${issue.expected}`;
      if (input === undefined) return `add ${wanted}`;
      if (input === null) return `it is empty: write ${wanted} here, or remove the key to take the defaults`;
      return `must be ${wanted}, not ${kindOf(input)}`;
    }
    case 'too_small':
      return issue.origin === 'string' && Number(issue.minimum) === 1
        ? 'must not be empty'
        : `must be ${issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}${UNITS[issue.origin] ?? ''}`;
    case 'too_big':
      return `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}${UNITS[issue.origin] ?? ''}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'url' ? 'must be an http(s) URL' : `is not a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return 'this value is not allowed here (see config.example.yaml for the form this key takes)';
  }
}

/** zod's type names, in the words of a YAML file. */
const TYPE_WORDS: Record<string, string> = {
  object: 'a section of keys (key: value lines, indented under it)',
  record: 'a section of keys (key: value lines, indented under it)',
  array: 'a list (lines starting with "- ", or [a, b])',
  string: 'a text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

/** What a too_small / too_big bound counts, by what was measured. */
const UNITS: Record<string, string> = { string: ' characters', array: ' entries', set: ' entries' };

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a section of keys';
  if (typeof value === 'string') return 'a text';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number with a fraction';
  if (typeof value === 'boolean') return 'true/false';
  return typeof value;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function show(value: unknown): string {
  const text = redact(JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}

/** Walks the schema along a data path to list the keys an object there may have. */
function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.ZodType | undefined = unwrap(schema);
  for (const part of path) {
    if (!node) return [];
    const def = node.def as unknown as SchemaDef;
    if (typeof part === 'number') node = def.element ? unwrap(def.element) : undefined;
    else node = def.shape?.[String(part)] ? unwrap(def.shape[String(part)] as z.ZodType) : undefined;
  }
  const shape = node ? (node.def as unknown as SchemaDef).shape : undefined;
  return shape ? Object.keys(shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let node = schema;
  for (;;) {
    const def = node.def as unknown as SchemaDef;
    if (['default', 'prefault', 'optional', 'nullable'].includes(def.type) && def.innerType) node = def.innerType;
    else return node;
  }
}

/** The allowed key nearest to a typo, when it is near enough to be a likely slip. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * A YAML syntax error as every other config problem reads: what is wrong, where, and the
 * line itself with a caret under the spot (the parser's own excerpt is cut from its message).
 */
export function yamlProblem(error: YAMLError, source: string): ConfigProblem {
  const what = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?\s*$/, '');
  const at = error.linePos?.[0];
  if (!at) return { path: '', message: `not valid YAML: ${what}` };
  return { path: '', message: `not valid YAML: ${what} (line ${at.line}, column ${at.col})\n${excerpt(source, at.line, at.col)}` };
}

/** The line `line` of `source` (1-based), numbered, with a caret under column `col`. */
function excerpt(source: string, line: number, col: number): string {
  const text = source.split(/\r?\n/)[line - 1] ?? '';
  // Tabs would shift the caret: shown as one visible mark each, as YAML refuses them in indentation anyway.
  const shown = redact(text.replace(/\t/g, '→'));
  // A long line is cut around the column, so the caret stays under the spot.
  const start = Math.max(0, col - 60);
  const cut = `${start > 0 ? '…' : ''}${shown.slice(start, start + 100)}${shown.length > start + 100 ? '…' : ''}`;
  const number = String(line);
  return `      ${number} | ${cut}\n      ${' '.repeat(number.length)} | ${' '.repeat(col - 1 - start + (start > 0 ? 1 : 0))}^`;
}

/** The Fix line of a YAML syntax error: the usual cause of that error first. */
export function yamlHint(code: string | undefined): string {
  const usual: Record<string, string> = {
    DUPLICATE_KEY: 'a key appears twice in the same section: keep one of them (merge their values)',
    TAB_AS_INDENT: 'indent with spaces, not tabs',
    MISSING_CHAR: 'close the quote or bracket opened on or before that line',
    BAD_INDENT: 'line up keys of one section at the same indentation, and close any [ or { opened above',
  };
  const first = (code && usual[code]) ?? 'correct the YAML at the line shown (indentation with spaces, quotes and brackets closed)';
  return `${first[0]?.toUpperCase()}${first.slice(1)}; config.example.yaml shows the layout a config takes.`;
}
