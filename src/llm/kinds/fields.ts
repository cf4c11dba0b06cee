import type { DroppableField } from './types.js';

/**
 * The request fields the bot ever sends (Provider.requestBody): a refusal can only be
 * learned for one of these. A closed list, so that no word in an error's text (a row's
 * comment quoted back, a provider's prose) can become a "field" the bot drops for everyone.
 */
export const SENT_FIELDS: ReadonlySet<string> = new Set(['model', 'messages', 'response_format', 'prompt_cache_key', 'max_completion_tokens', 'max_tokens', 'service_tier']);

/**
 * How providers name a request field they do not accept, in their own documented words.
 * Each shape is anchored at the start of the message: the field is read from where the
 * provider puts it, never from anywhere in a text that may quote a row back (OpenRouter's
 * flagged_input, pydantic's input_value, a guardrail's echo).
 *  - Gemini: `Invalid JSON payload received. Unknown name "prompt_cache_key": Cannot find field.`
 *    (with ` at 'PATH'` the name is inside PATH, e.g. a keyword of generation_config.response_schema)
 *  - Groq: `property 'prompt_cache_key' is unsupported`
 *  - Azure / OpenAI: `Unrecognized request argument supplied: prompt_cache_key`
 *  - Azure (newer runtimes), pydantic servers: `#/max_completion_tokens: Extra inputs are not permitted`
 *  - OpenAI: `Unsupported parameter: 'service_tier' is not supported with this model.`
 *  - vLLM before vllm-project/vllm#10463: pydantic's error list as text,
 *    `[{'type': 'extra_forbidden', 'loc': ('body', 'prompt_cache_key'), 'msg': 'Extra inputs are not permitted', …}]`
 *    (the structured `loc`: https://docs.pydantic.dev/latest/errors/validation_errors/#extra_forbidden)
 */
const NAMED: readonly RegExp[] = [
  /^Invalid JSON payload received\. Unknown name "([\w.[\]]+)"(?: at '([\w.[\]]+)')?: Cannot find field\./,
  /^property '([\w.[\]]+)' is unsupported/,
  /^Unrecognized request argument supplied: ([\w.[\]]+)/,
  /^(?:Validation error at )?#\/([\w.[\]/]+): Extra inputs are not permitted/,
  /^Unsupported parameter: '([\w.[\]]+)'/,
  /^\[\{'type': 'extra_forbidden', 'loc': \('body', '([\w.]+)'/,
];

/**
 * Where Google's names live inside the request it builds from ours: a name refused under
 * generation_config.response_schema is a keyword of our response_format's schema (issue 20,
 * `Unknown name "additionalProperties" at 'generation_config.response_schema'`).
 */
const GOOGLE_PATHS: ReadonlyArray<[RegExp, string]> = [[/^generation_config\.response_schema\b/, 'response_format']];

/** Error codes that mean "this parameter is not accepted" (the field is then in `param`). */
const CODES = new Set(['unrecognized_request_argument', 'unsupported_parameter', 'unknown_parameter']);

/**
 * The request field a 400 names as not accepted (its top-level name), if it names one of
 * the fields the bot sends, in a provider's documented shape. `quoted` is the text the
 * request carried (the rows' inputs): a naming that appears in it may be that text quoted
 * back, and is not believed.
 */
export function unsupportedField(message: string | undefined, code?: string, param?: string, quoted: readonly string[] = []): string | undefined {
  const believed = (field: string | undefined, said: string) => (field !== undefined && SENT_FIELDS.has(field) && !quoted.some((text) => text.includes(said)) ? field : undefined);
  for (const pattern of NAMED) {
    const match = message === undefined ? null : pattern.exec(message);
    if (!match?.[1]) continue;
    const at = match[2];
    if (at !== undefined) return believed(GOOGLE_PATHS.find(([path]) => path.test(at))?.[1], match[0]);
    return believed(topLevel(match[1]), match[0]);
  }
  // A code and a param are the body's structure, not its prose: no row text is in them.
  if (code !== undefined && CODES.has(code) && param && SENT_FIELDS.has(topLevel(param))) return topLevel(param);
  return undefined;
}

const DROPPABLE: ReadonlySet<string> = new Set<DroppableField>(['prompt_cache_key', 'service_tier', 'max_completion_tokens']);

/** Whether the bot can do without this field (else a provider refusing it cannot be used as configured). */
export function isDroppable(field: string): field is DroppableField {
  return DROPPABLE.has(field);
}

function topLevel(path: string): string {
  return path.split(/[./[]/)[0] ?? path;
}

/**
 * Whether a message's mention of response_format / json_schema is its own words rather than
 * the request's text quoted back (a guardrail echoing a comment that says "json_schema"): a
 * mention whose dozen characters before or after are also in the request's text is a quote.
 * Only the provider's own words may switch structured outputs off for everyone.
 */
export function quotesFormat(message: string | undefined, quoted: readonly string[]): boolean {
  return quotesMention(message, /response_format|json_schema/gi, quoted);
}

/** Whether every mention of `text` (the model's name) in a message is the request's text quoted back; see quotesFormat. */
export function quotesText(message: string | undefined, text: string, quoted: readonly string[]): boolean {
  return text !== '' && quotesMention(message, new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g'), quoted);
}

function quotesMention(message: string | undefined, mention: RegExp, quoted: readonly string[]): boolean {
  if (message === undefined || quoted.length === 0) return false;
  const mentions = [...message.matchAll(mention)];
  if (mentions.length === 0) return false;
  return mentions.every((m) => {
    const at = m.index;
    const end = at + m[0].length;
    const before = message.slice(Math.max(0, at - 12), end);
    const after = message.slice(at, end + 12);
    return quoted.some((text) => text.includes(before) || text.includes(after));
  });
}

/** The model a chat request (a JSON body as sent) names; '' when none. */
export function sentModel(body: unknown): string {
  if (typeof body !== 'string') return '';
  try {
    const model = (JSON.parse(body) as { model?: unknown } | null)?.model;
    return typeof model === 'string' ? model : '';
  } catch {
    return '';
  }
}

/** The text a chat request carries in its messages (a JSON body as sent), for `unsupportedField`'s `quoted`. */
export function sentTexts(body: unknown): string[] {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return [];
    }
  }
  const messages = typeof parsed === 'object' && parsed !== null ? (parsed as { messages?: unknown }).messages : undefined;
  if (!Array.isArray(messages)) return [];
  return messages.flatMap((m: unknown) => {
    const content = typeof m === 'object' && m !== null ? (m as { content?: unknown }).content : undefined;
    return typeof content === 'string' ? [content] : [];
  });
}

/**
 * Whether a 400 says the model itself is unknown (OpenRouter: "x is not a valid model ID";
 * others: "model x does not exist / not found"): every row would get it.
 */
export function refusesModel(message: string | undefined, model: string): boolean {
  if (message === undefined || model === '' || !message.includes(model)) return false;
  return /not a valid model|does not exist|not found|unknown model|invalid model|no endpoints found/i.test(message);
}
