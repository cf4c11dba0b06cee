import { apiError, type ApiCall, type ApiReply } from './files.js';

/** What GET /v1/models lists when the emulator was given no `models`. */
export const DEFAULT_MODELS = ['gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'];

/**
 * GET /v1/models (OpenAI API reference, "List models": a `list` object whose `data` holds
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
