import { errorOutcome, maskKey, type Outcome } from './errors.js';
import { OUTPUT_CAPS as OUTPUT_CAPS_DEFAULT, outputCapOf } from './models.js';
import { messageText } from './responder.js';
import type { ChatRequest } from './types.js';

export const CHAT_COMPLETIONS_PATH = '/v1/chat/completions';

/** 401 unless the Authorization header carries `Bearer <apiKey>`. */
export function checkAuth(authorization: string | undefined, apiKey: string): Outcome | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  const given = match?.[1]?.trim();
  if (given === undefined || given === '') {
    return errorOutcome(401, {
      message:
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth " +
        '(i.e. Authorization: Bearer YOUR_KEY).',
      type: 'invalid_request_error',
    });
  }
  if (given === apiKey) return undefined;
  return errorOutcome(401, {
    message: `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    type: 'invalid_request_error',
    code: 'invalid_api_key',
  });
}

export function parseJsonBody(raw: string): { ok: true; value: unknown } | { ok: false; outcome: Outcome } {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return {
      ok: false,
      outcome: errorOutcome(400, {
        message:
          'We could not parse the JSON body of your request. (HINT: This likely means you are not using your HTTP library ' +
          'correctly. The OpenAI API expects a JSON payload.)',
        type: 'invalid_request_error',
      }),
    };
  }
}

const SERVICE_TIERS: readonly unknown[] = ['auto', 'default', 'flex', 'scale', 'priority'];

function invalid(message: string, param: string | null, code: string | null = null): Outcome {
  return errorOutcome(400, { message, type: 'invalid_request_error', param, code });
}

/** Shape checks on the body: a ChatRequest, or the 400 OpenAI would send. */
export function asChatRequest(body: unknown): ChatRequest | Outcome {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return invalid('The request body must be a JSON object.', null);
  }
  const b = body as Record<string, unknown>;
  if (typeof b['model'] !== 'string' || b['model'] === '') {
    return invalid('you must provide a model parameter', 'model', 'missing_required_parameter');
  }
  const messages = b['messages'];
  if (!Array.isArray(messages)) return invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (messages.length === 0) {
    return invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array');
  }
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (typeof m !== 'object' || m === null || typeof (m as Record<string, unknown>)['role'] !== 'string') {
      return invalid(`Missing required parameter: 'messages[${i}].role'.`, `messages[${i}].role`, 'missing_required_parameter');
    }
  }
  return b as ChatRequest;
}

export interface ModelChecks {
  models: readonly string[] | undefined;
  supportsJsonSchema: boolean;
  /** Max output tokens per model, over the built-in table (OUTPUT_CAPS). */
  outputCaps?: Readonly<Record<string, number>> | undefined;
}

/** Model, streaming and response_format checks, after faults had their chance. */
export function checkRequest(req: ChatRequest, checks: ModelChecks): Outcome | undefined {
  if (checks.models !== undefined && !checks.models.includes(req.model)) {
    return errorOutcome(404, {
      message: `The model \`${req.model}\` does not exist or you do not have access to it.`,
      type: 'invalid_request_error',
      code: 'model_not_found',
    });
  }
  if (req.stream === true) return invalid('The emulator does not support stream=true.', 'stream');
  // service_tier: "auto", "default", "flex", "scale" or "priority" (https://platform.openai.com/docs/api-reference/chat/create).
  if (req.service_tier !== undefined && req.service_tier !== null && !SERVICE_TIERS.includes(req.service_tier)) {
    return invalid(`Invalid value: '${JSON.stringify(req.service_tier)}'. Supported values are: 'auto', 'default', 'flex', 'scale', and 'priority'.`, 'service_tier', 'invalid_value');
  }
  // Flex is "in beta with limited model availability" (https://platform.openai.com/docs/guides/flex-processing):
  // the gpt-5 family, o3 and o4-mini, not gpt-4.1 / gpt-4o (https://platform.openai.com/docs/pricing?latest-pricing=flex).
  if (req.service_tier === 'flex' && /^gpt-(4|3\.5)/.test(req.model)) {
    return invalid("Unsupported parameter: 'service_tier' is not supported with this model.", 'service_tier', 'unsupported_parameter');
  }
  const tooMany = checkOutputCap(req, checks.outputCaps);
  if (tooMany) return tooMany;
  const format: unknown = req.response_format;
  if (format === undefined || format === null) return undefined;
  const type = (format as { type?: unknown }).type;
  if (type === 'json_schema') {
    if (!checks.supportsJsonSchema) {
      return invalid(
        "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model. " +
          'Learn more about supported models at the Structured Outputs guide: https://platform.openai.com/docs/guides/structured-outputs',
        'response_format',
      );
    }
    const js = (format as { json_schema?: unknown }).json_schema;
    if (typeof js !== 'object' || js === null) {
      return invalid("Missing required parameter: 'response_format.json_schema'.", 'response_format.json_schema', 'missing_required_parameter');
    }
    if (typeof (js as { name?: unknown }).name !== 'string') {
      return invalid("Missing required parameter: 'response_format.json_schema.name'.", 'response_format.json_schema.name', 'missing_required_parameter');
    }
    return undefined;
  }
  if (type === 'json_object') {
    const mentionsJson = req.messages.some((m) => /json/i.test(messageText(m)));
    if (!mentionsJson) {
      return invalid("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", 'messages');
    }
    return undefined;
  }
  if (type === 'text') return undefined;
  return invalid(
    `Invalid value: '${String(type)}'. Supported values are: 'json_object', 'json_schema', and 'text'.`,
    'response_format.type',
    'invalid_value',
  );
}

/**
 * A max_completion_tokens (or max_tokens) above the model's output cap is refused whatever
 * the answer would be: 400 invalid_request_error, as users report it (ChatGPTNextWeb/NextChat#3195,
 * enoch3712/ExtractThinker#346 for gpt-4o): "max_tokens is too large: 32000. This model
 * supports at most 16384 completion tokens, whereas you provided 32000." (param max_tokens).
 */
function checkOutputCap(req: ChatRequest, overrides: Readonly<Record<string, number>> | undefined): Outcome | undefined {
  const cap = outputCapOf(req.model, { ...OUTPUT_CAPS_DEFAULT, ...overrides });
  const param = typeof req.max_completion_tokens === 'number' ? 'max_completion_tokens' : typeof req.max_tokens === 'number' ? 'max_tokens' : undefined;
  if (cap === undefined || param === undefined) return undefined;
  const asked = req[param] as number;
  if (asked <= cap) return undefined;
  return invalid(`${param} is too large: ${asked}. This model supports at most ${cap} completion tokens, whereas you provided ${asked}.`, param);
}
