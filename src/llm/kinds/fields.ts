import type { DroppableField } from './types.js';

/**
 * How providers name a request field they do not accept, in their own words:
 *  - Gemini: `Invalid JSON payload received. Unknown name "prompt_cache_key": Cannot find field.`
 *  - Groq: `property 'prompt_cache_key' is unsupported`
 *  - Azure / OpenAI: `Unrecognized request argument supplied: prompt_cache_key`
 *  - Azure (newer runtimes), pydantic servers: `#/max_completion_tokens: Extra inputs are not permitted`
 *  - OpenAI: `Unsupported parameter: 'service_tier' is not supported with this model.`
 */
const NAMED: readonly RegExp[] = [
  /Unknown name "([\w.[\]]+)"/i,
  /property '([\w.[\]]+)' is unsupported/i,
  /Unrecognized request argument supplied: ([\w.[\]]+)/i,
  /#\/([\w.[\]/]+): Extra inputs are not permitted/i,
  /Unsupported parameter: '([\w.[\]]+)'/i,
  /'([\w.[\]]+)' is not (?:supported|permitted|allowed)/i,
];

/** Error codes that mean "this parameter is not accepted" (the field is then in `param`). */
const CODES = new Set(['unrecognized_request_argument', 'unsupported_parameter', 'unknown_parameter']);

/** The request field a 400 names as not accepted (its top-level name), if it names one. */
export function unsupportedField(message: string | undefined, code?: string, param?: string): string | undefined {
  for (const pattern of NAMED) {
    const match = message === undefined ? null : pattern.exec(message);
    if (match?.[1]) return topLevel(match[1]);
  }
  if (code !== undefined && CODES.has(code) && param) return topLevel(param);
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
 * Whether a 400 says the model itself is unknown (OpenRouter: "x is not a valid model ID";
 * others: "model x does not exist / not found"): every row would get it.
 */
export function refusesModel(message: string | undefined, model: string): boolean {
  if (message === undefined || model === '' || !message.includes(model)) return false;
  return /not a valid model|does not exist|not found|unknown model|invalid model|no endpoints found/i.test(message);
}
