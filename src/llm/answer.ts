import { z } from 'zod';

/** Bumped whenever the answer's shape changes: it is part of every cache key. */
export const OUTPUT_SCHEMA_VERSION = 'answer-v2';

/** What the model must answer for one row. Validated on arrival, never trusted. */
export const answerSchema = z.object({
  is_valid: z.boolean(),
  issues: z.array(z.string().max(2000)).max(50),
  rewrite_suggestion: z.string().max(20_000),
  // Lenient on purpose: a json_object provider that leaves it out is taken as sure,
  // rather than failing the row over an optional signal.
  confidence: z.number().min(0).max(1).optional(),
});

export type Answer = z.infer<typeof answerSchema>;

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

export type ParsedAnswer = { ok: true; answer: Answer } | { ok: false; problem: string };

/** Parses and checks the model's text. A string "false" is not a boolean; a missing key is an error. */
export function parseAnswer(content: string | null | undefined): ParsedAnswer {
  if (content === null || content === undefined || content.trim() === '') return { ok: false, problem: 'the answer was empty' };
  let json: unknown;
  try {
    json = JSON.parse(stripFence(content));
  } catch {
    return { ok: false, problem: 'the answer was not valid JSON' };
  }
  const parsed = answerSchema.safeParse(json);
  if (parsed.success) return { ok: true, answer: parsed.data };
  const details = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'answer'}: ${issue.message}`).join('; ');
  return { ok: false, problem: `the answer did not match the schema (${details})` };
}

/** Some json_object providers still wrap the object in a Markdown fence. */
function stripFence(text: string): string {
  const match = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(text);
  return match?.[1] ?? text;
}
