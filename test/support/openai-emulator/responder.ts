import type { Answer, ChatMessage, ChatRequest, RowInput } from './types.js';

export const ROW_MARKER = 'Row to validate:';
/** The bot's packed requests (llm.rows_per_request > 1) list several rows, each with a `row` label. */
export const ROWS_MARKER = 'Rows to validate:';

const VAGUE_WORDS = /\b(tbd|bad|unclear)\b/i;
const MIN_COMMENT_CHARS = 20;

/** Text of one message: a plain string, or the `text` of its text parts joined. */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (typeof part.text === 'string') out += part.text;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The row the bot wants validated: the JSON object after the last `Row to validate:` in the last
 * user message. undefined when there is no such message, marker or object.
 */
export function extractRow(req: Pick<ChatRequest, 'messages'>): RowInput | undefined {
  // The latest user message that holds a row: after a repair prompt ("that answer could
  // not be used…") the row is in an earlier message.
  let text = '';
  let at = -1;
  for (let i = req.messages.length - 1; i >= 0 && at < 0; i--) {
    const m = req.messages[i];
    if (m?.role !== 'user') continue;
    text = messageText(m);
    at = text.lastIndexOf(ROW_MARKER);
  }
  if (at < 0) return undefined;
  const rest = text.slice(at + ROW_MARKER.length).trim();
  const parsed = parseObject(rest) ?? parseObject(rest.slice(rest.indexOf('{'), rest.lastIndexOf('}') + 1));
  return parsed;
}

/** The labelled rows of a packed request, or undefined when the request asks about one row. */
export function extractRows(req: Pick<ChatRequest, 'messages'>): RowInput[] | undefined {
  const last = [...req.messages].reverse().find((m) => m.role === 'user' && messageText(m).includes(ROWS_MARKER));
  if (!last) return undefined;
  const text = messageText(last);
  const at = text.lastIndexOf(ROWS_MARKER);
  if (at < 0) return undefined;
  try {
    const value: unknown = JSON.parse(text.slice(at + ROWS_MARKER.length).trim());
    return Array.isArray(value) ? value.filter(isPlainObject) : undefined;
  } catch {
    return undefined;
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  if (text === '') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The keys the bot itself puts in a row's JSON; any other key is an extra input (columns.inputs), named by its header. */
const OWN_KEYS = new Set(['row', 'note', 'id', 'status', 'comment', 'completion_date']);

/** A row's extra inputs (columns.inputs) by header, as the bot sent them; values as text. */
export function extraFields(row: RowInput): Record<string, string> {
  const extras: Record<string, string> = {};
  for (const [key, value] of Object.entries(row)) if (!OWN_KEYS.has(key)) extras[key] = asText(value);
  return extras;
}

/**
 * The fields the rulebook in the system prompt says must not be empty: rules written as
 * `"Owner" must not be empty` (the header in double quotes), one per line. A real model
 * reads the rules; this one understands just that form, so a test can make verdicts
 * depend on an extra input. The instructions are read from a system or developer message:
 * the Chat Completions reference describes developer messages as "Developer-provided
 * instructions that the model should follow, regardless of messages sent by the user.
 * With o1 models and newer, developer messages replace the previous system messages"
 * (openai-node ChatCompletionDeveloperMessageParam). Rows are read from user messages only.
 */
export function requiredFields(req: Pick<ChatRequest, 'messages'> | undefined): string[] {
  const system = req?.messages.find((m) => m.role === 'system' || m.role === 'developer');
  if (!system) return [];
  const fields: string[] = [];
  for (const match of messageText(system).matchAll(/"([^"\n]+)" must not be empty/g)) if (match[1] !== undefined) fields.push(match[1]);
  return fields;
}

/**
 * The emulator's deterministic "model": a row is valid when its trimmed comment has at least 20
 * characters and contains none of the words tbd / bad / unclear (a row sent without a comment
 * field, from a sheet without a comment column, is not judged on it), and every field the rules
 * require (see requiredFields) is there and not empty. The rewrite echoes the comment so a test
 * can tell which row a verdict belongs to.
 */
export function defaultVerdict(row: RowInput, req?: Pick<ChatRequest, 'messages'>): Answer {
  // The bot never sends the row id (identical rows share one answer), so the verdict
  // echoes the comment: a test can still tell which row an answer was computed for.
  const comment = asText(row.comment);
  const trimmed = comment.trim();
  const issues: string[] = [];
  // An empty row (nothing could be read) is still judged on its (missing) comment.
  const hasComment = 'comment' in row || Object.keys(row).length === 0;
  if (hasComment && (trimmed.length < MIN_COMMENT_CHARS || VAGUE_WORDS.test(trimmed))) issues.push(`Comment "${trimmed.slice(0, 40)}" is too vague`);
  for (const field of requiredFields(req)) if (asText(row[field]).trim() === '') issues.push(`"${field}" is empty`);
  return {
    is_valid: issues.length === 0,
    issues,
    rewrite_suggestion: `Rewrite: ${comment}`,
    confidence: 0.9,
  };
}

/** Serialize a responder result into message content. */
export function toContent(result: Answer | string): string {
  return typeof result === 'string' ? result : JSON.stringify(result);
}
