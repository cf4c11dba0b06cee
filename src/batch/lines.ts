import { z } from 'zod';
import { clipText, parseAnswer, parsePacked, type Answer } from '../llm/index.js';

/**
 * The lines of a Batch API output or error file, read without trusting them: each line
 * becomes a record whose every field has the type the code reading it expects (or is
 * left out), or nothing when it names no line of ours. The file is outside input: a line
 * of `null`, a usage count that is a string or a body that is an array must cost at most
 * its own rows, never the whole job (which would then stay "pending" and never be asked
 * again).
 */

/** Reasons from the file go into the sheet's Issues cell: kept short. */
const MAX_TEXT = 500;

const text = z
  .string()
  .transform((s) => clipText(s, MAX_TEXT))
  .optional()
  .catch(undefined);
/** A token count: a whole number ≥ 0, else 0 (a string must not turn the sums into text). */
const tokens = z.number().int().nonnegative().optional().catch(0);

const choiceSchema = z.object({
  finish_reason: text,
  // Kept as it came: the answer parsers say what is wrong with a content that is not text.
  message: z.object({ content: z.unknown() }).optional().catch(undefined),
});

const chatBodySchema = z.object({
  model: text,
  choices: z.array(choiceSchema.nullable().catch(null)).optional().catch(undefined),
  usage: z
    .object({ prompt_tokens: tokens, completion_tokens: tokens, prompt_tokens_details: z.object({ cached_tokens: tokens }).optional().catch(undefined) })
    .optional()
    .catch(undefined),
  // code and param too: a field refused by name (code unrecognized_request_argument, param) is learned from them.
  error: z.object({ message: text, code: text, param: text }).optional().catch(undefined),
});

const resultLineSchema = z.object({
  custom_id: z.string(),
  response: z.object({ status_code: z.number(), body: chatBodySchema.optional().catch(undefined) }).nullable().optional().catch(undefined),
  error: z.object({ code: text, message: text }).nullable().optional().catch(undefined),
});

export type ChatBody = z.infer<typeof chatBodySchema>;
export type ResultLine = z.infer<typeof resultLineSchema>;

/**
 * One line of a result file as a typed record; undefined when it is not JSON or has no
 * custom_id (it cannot say which rows it answers: they are reported as not answered).
 */
export function resultLineOf(line: string): ResultLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = resultLineSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** A line's answers by label ('' for a line asking one row), or what is wrong with its content. */
export function answersOf(content: unknown, labels: readonly string[]): { ok: true; value: Map<string, Answer> } | { ok: false; problem: string } {
  if (labels.length === 1 && labels[0] === '') {
    const parsed = parseAnswer(content);
    return parsed.ok ? { ok: true, value: new Map([['', parsed.value]]) } : parsed;
  }
  return parsePacked(content, labels);
}
