import { apiError, type ApiCall, type ApiReply } from './files.js';

/** What GET /v1/models lists when the emulator was given no `models`. */
export const DEFAULT_MODELS = ['gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'];

/**
 * GET /v1/models (OpenAI API reference, "List models",
 * https://platform.openai.com/docs/api-reference/models/list: a `list` object whose `data` holds
 * `{ id, object: "model", created, owned_by }`); GET /v1/models/{id} retrieves one, 404
 * model_not_found for others. It is free and needs a valid key like every route (auth is
 * checked before this is called), which is what a key check relies on.
 */
export function modelsReply(call: ApiCall, models: readonly string[] = DEFAULT_MODELS): ApiReply {
  if (call.method !== 'GET') return apiError(405, { message: `Method ${call.method} not allowed on /v1/models.`, type: 'invalid_request_error' });
  const model = (id: string) => ({ id, object: 'model', created: 1_686_935_002, owned_by: 'system' });
  const [, id] = call.parts;
  if (id === undefined) return { status: 200, json: { object: 'list', data: models.map(model) } };
  if (!models.includes(id)) return apiError(404, { message: `The model '${id}' does not exist`, type: 'invalid_request_error', code: 'model_not_found' });
  return { status: 200, json: model(id) };
}

/**
 * Max output tokens per request of OpenAI models, from their model pages
 * (developers.openai.com/api/docs/models/<model>): GPT-5 family 128,000, GPT-4.1 family
 * 32,768, GPT-4o and GPT-4o mini 16,384. Dated snapshots take their family's.
 */
export const OUTPUT_CAPS: Readonly<Record<string, number>> = {
  'gpt-5': 128_000,
  'gpt-5-mini': 128_000,
  'gpt-5-nano': 128_000,
  'gpt-4.1': 32_768,
  'gpt-4.1-mini': 32_768,
  'gpt-4.1-nano': 32_768,
  'gpt-4o': 16_384,
  'gpt-4o-mini': 16_384,
};

/** The cap of a model (its own, or its family's for a dated snapshot); undefined for models the table does not know. */
export function outputCapOf(model: string, caps: Readonly<Record<string, number>> = OUTPUT_CAPS): number | undefined {
  if (caps[model] !== undefined) return caps[model];
  const family = Object.keys(caps)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  return family === undefined ? undefined : caps[family];
}
