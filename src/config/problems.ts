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
    if (issue.code === 'invalid_type' && input === undefined) {
      problems.push({ path, message: `missing: ${issue.message}` });
      continue;
    }
    // Never echo what was given where a secret may have been pasted by mistake.
    const secretish = /key|secret|token|password/i.test(path);
    problems.push({ path, message: input === undefined || secretish ? issue.message : `${issue.message} (got ${show(input)})` });
  }
  return problems;
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
