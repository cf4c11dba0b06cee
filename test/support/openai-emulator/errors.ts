/** What the server will do with a request once it has decided. */
export type Outcome =
  | {
      kind: 'error';
      status: number;
      /** JSON-serialized unless it is a string (then sent as text/plain). */
      body: unknown;
      headers?: Record<string, string>;
      fault?: string;
    }
  | {
      kind: 'completion';
      content: string | null;
      refusal?: string;
      finishReason: 'stop' | 'length';
      fault?: string;
      /** The tokens generated, when not the content's own size (reasoning, or a cut answer). */
      tokens?: { completion: number; reasoning: number };
    }
  | { kind: 'reset'; fault: string }
  | { kind: 'hang'; fault: string };

export interface OpenAIErrorFields {
  message: string;
  type: string;
  param?: string | null;
  code?: string | null;
}

/** The `{error:{message,type,param,code}}` body OpenAI sends with every non-2xx answer. */
export function errorBody(fields: OpenAIErrorFields): { error: Required<OpenAIErrorFields> } {
  return {
    error: { message: fields.message, type: fields.type, param: fields.param ?? null, code: fields.code ?? null },
  };
}

export function errorOutcome(status: number, fields: OpenAIErrorFields, headers?: Record<string, string>): Outcome {
  return headers === undefined
    ? { kind: 'error', status, body: errorBody(fields) }
    : { kind: 'error', status, body: errorBody(fields), headers };
}

/** Shows only the last 4 characters of a key, never more (short keys show none). */
export function maskKey(key: string): string {
  const tail = key.length >= 12 ? key.slice(-4) : '****';
  return `sk-...${tail}`;
}

/** Default error body for a bare `{kind:'status'}` fault, shaped like OpenAI's real answers. */
export function defaultStatusError(status: number): OpenAIErrorFields {
  switch (status) {
    case 400:
      return { message: 'Invalid request (emulated).', type: 'invalid_request_error' };
    case 401:
      return { message: 'Invalid authentication (emulated).', type: 'invalid_request_error', code: 'invalid_api_key' };
    case 403:
      return {
        message: 'Country, region, or territory not supported',
        type: 'request_forbidden',
        code: 'unsupported_country_region_territory',
      };
    case 404:
      return { message: 'Not found (emulated).', type: 'invalid_request_error' };
    case 429:
      return { message: 'Rate limit reached (emulated).', type: 'requests', code: 'rate_limit_exceeded' };
    case 500:
      return { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error' };
    case 502:
      return { message: 'Bad gateway.', type: 'server_error', code: 'bad_gateway' };
    case 503:
      return {
        message: 'The engine is currently overloaded, please try again later.',
        type: 'server_error',
        code: 'service_unavailable',
      };
    default:
      return { message: `Emulated HTTP ${status}.`, type: status >= 500 ? 'server_error' : 'invalid_request_error' };
  }
}
