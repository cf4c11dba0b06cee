import { z } from 'zod';
import { clipText } from './clip.js';

/** Bumped whenever the answer's shape changes: it is part of every cache key. */
export const OUTPUT_SCHEMA_VERSION = 'answer-v2';

/** What the model must answer for one row. Validated on arrival, never trusted. */
// Strict: an answer with keys the schema does not have (say, columns copied from a
// fake answer planted in a comment) is refused and asked again.
export const answerSchema = z.strictObject({
  is_valid: z.boolean(),
  issues: z.array(z.string().max(2000)).max(50),
  rewrite_suggestion: z.string().max(20_000),
  // Lenient on purpose: a json_object provider that leaves it out is taken as sure,
  // rather than failing the row over an optional signal.
  confidence: z.number().min(0).max(1).optional(),
});

export type Answer = z.infer<typeof answerSchema>;

const packedItemSchema = answerSchema.extend({ row: z.string() }).transform(({ row: _row, ...answer }) => answer);

/** The same shape for structured outputs (json_schema, strict: every key required, no extras). */
export const ANSWER_JSON_SCHEMA = {
  type: 'object',
  properties: {
    is_valid: { type: 'boolean', description: 'true when the row follows every rule' },
    issues: { type: 'array', items: { type: 'string' }, description: 'each problem found, one short sentence each; empty when valid' },
    rewrite_suggestion: { type: 'string', description: 'the comment rewritten to follow the rules; empty when valid' },
    confidence: { type: 'number', description: 'how sure you are of is_valid, from 0 (a guess) to 1 (certain)' },
  },
  required: ['is_valid', 'issues', 'rewrite_suggestion', 'confidence'],
  additionalProperties: false,
} as const;

/** A structured-output format: its name and JSON schema. */
export interface ResponseSchema {
  name: string;
  schema: Record<string, unknown>;
}

export const ANSWER_FORMAT: ResponseSchema = { name: 'row_verdict', schema: ANSWER_JSON_SCHEMA };

/** Several rows in one request: one result per row, keyed by the row's label (r1, r2…). */
export const PACKED_JSON_SCHEMA = {
  type: 'object',
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        properties: { row: { type: 'string', description: 'the label of the row (r1, r2, …)' }, ...ANSWER_JSON_SCHEMA.properties },
        required: ['row', ...ANSWER_JSON_SCHEMA.required],
        additionalProperties: false,
      },
    },
  },
  required: ['results'],
  additionalProperties: false,
} as const;

export const PACKED_FORMAT: ResponseSchema = { name: 'row_verdicts', schema: PACKED_JSON_SCHEMA };

export type ParsedAnswer = { ok: true; value: Answer } | { ok: false; problem: string };

/** Problems go into the sheet's Issues cell: a few of them, each short, never the whole answer. */
const MAX_DETAILS = 5;
const MAX_DETAIL_CHARS = 200;

/**
 * Parses and checks the model's text. A string "false" is not a boolean; a missing key is
 * an error. Total: any value at all (not only text) gives an answer or a problem, never
 * an exception, so one strange answer costs at most its own row (invariant 10).
 */
export function parseAnswer(content: unknown): ParsedAnswer {
  const read = readJson(content);
  if (!read.ok) return read;
  const plain = plainAnswer(read.value);
  if (plain) return { ok: true, value: plain };
  const parsed = answerSchema.safeParse(read.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, problem: `the answer did not match the schema (${describeIssues(parsed.error.issues)})` };
}

/**
 * Parses a packed answer into one answer per label. Rows missing, answered twice or
 * answered badly are left out (and asked alone); only an answer with no usable row
 * at all is a problem, retried as a whole. Total, like parseAnswer.
 */
export function parsePacked(content: unknown, labels: readonly string[]): { ok: true; value: Map<string, Answer> } | { ok: false; problem: string } {
  const read = readJson(content);
  if (!read.ok) return read;
  const results = isRecord(read.value) ? read.value['results'] : undefined;
  if (!Array.isArray(results)) return { ok: false, problem: 'the answer has no "results" array' };
  const wanted = new Set(labels);
  const seen = new Map<string, number>();
  const answers = new Map<string, Answer>();
  for (const item of results as unknown[]) {
    const label = isRecord(item) ? item['row'] : undefined;
    if (typeof label !== 'string' || !wanted.has(label)) continue;
    seen.set(label, (seen.get(label) ?? 0) + 1);
    const parsed = packedItemSchema.safeParse(item);
    if (parsed.success) answers.set(label, parsed.data);
  }
  for (const [label, count] of seen) if (count > 1) answers.delete(label);
  if (answers.size === 0) return { ok: false, problem: `none of the rows ${shorten(labels.join(', '))} was answered in the expected shape` };
  return { ok: true, value: answers };
}

const ANSWER_KEYS = new Set(['is_valid', 'issues', 'rewrite_suggestion', 'confidence']);

/**
 * The answer answerSchema.parse gives for a JSON value it accepts, checked by hand; undefined
 * for anything else, which zod then parses (and names the problems of). Every answer goes
 * through here, and zod's parse of this small object was ~3 % of a run's CPU (issue 25, B1).
 * Same checks as the schema (strict keys, lengths in UTF-16 units as String.length, 0 ≤
 * confidence ≤ 1) and the same result (a new object, keys in the schema's order, a copy of
 * the issues): test/unit/answer-properties.test.ts holds the two equal on random input.
 */
function plainAnswer(value: unknown): Answer | undefined {
  if (!isRecord(value)) return undefined;
  const { is_valid, issues, rewrite_suggestion, confidence } = value;
  if (typeof is_valid !== 'boolean' || typeof rewrite_suggestion !== 'string' || rewrite_suggestion.length > 20_000) return undefined;
  if (!Array.isArray(issues) || issues.length > 50) return undefined;
  for (const issue of issues as unknown[]) if (typeof issue !== 'string' || issue.length > 2000) return undefined;
  const hasConfidence = Object.hasOwn(value, 'confidence');
  if (hasConfidence && !(typeof confidence === 'number' && Number.isFinite(confidence) && confidence >= 0 && confidence <= 1)) return undefined;
  for (const key of Object.keys(value)) if (!ANSWER_KEYS.has(key)) return undefined;
  const answer: Answer = { is_valid, issues: [...(issues as string[])], rewrite_suggestion };
  if (hasConfidence) answer.confidence = confidence as number;
  return answer;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The model's text as JSON, or what is wrong with it. */
function readJson(content: unknown): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (content === null || content === undefined) return { ok: false, problem: 'the answer was empty' };
  if (typeof content !== 'string') return { ok: false, problem: `the answer was not text (got ${Array.isArray(content) ? 'an array' : typeof content})` };
  if (content.trim() === '') return { ok: false, problem: 'the answer was empty' };
  try {
    return { ok: true, value: JSON.parse(stripFence(content)) as unknown };
  } catch {
    return { ok: false, problem: 'the answer was not valid JSON' };
  }
}

/**
 * Some json_object providers still wrap the object in a Markdown fence. Done by hand: the
 * regex it replaces backtracked for seconds on a fence followed by a few thousand spaces.
 */
function stripFence(text: string): string {
  const trimmed = text.trim();
  if (trimmed.length < 6 || !trimmed.startsWith('```') || !trimmed.endsWith('```')) return text;
  const inner = trimmed.slice(3, -3);
  return inner.startsWith('json') ? inner.slice(4) : inner;
}

function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  const shown = issues.slice(0, MAX_DETAILS).map((issue) => shorten(`${issue.path.map(String).join('.') || 'answer'}: ${issue.message}`));
  return issues.length > MAX_DETAILS ? `${shown.join('; ')}; and ${issues.length - MAX_DETAILS} more` : shown.join('; ');
}

function shorten(text: string): string {
  return clipText(text, MAX_DETAIL_CHARS);
}
