import OpenAI from 'openai';
import { LlmError, type LlmErrorKind } from '../errors.js';
import { retryAfterMs } from '../retry/index.js';
import { googleTokenErrorOf } from './google-token.js';
import { connectionFailureOf } from './http.js';
import { isFlexCapacity, refusesModel, type KindFacts } from './kinds/index.js';

/**
 * What a failure of a provider's request is, for the run: which kind of error (a row's own,
 * the key, the account, the endpoint, the configuration), whether a retry can help, and
 * what to tell the person. The facts of the provider's kind decide what its answers mean
 * (src/llm/kinds/table.ts), so no kind is named here.
 */
export interface FailureContext {
  name: string;
  model: string;
  facts: KindFacts;
  /** host[:port] of the endpoint, the only part of base_url a message may name. */
  host: string;
  timeoutMs: number;
  apiKeyEnv: string;
  /** Removes the key and the endpoint's address from a provider's words. */
  scrub(text: string): string;
  /** The request was sent at service_tier flex: a capacity refusal is flex's, not a rate limit. */
  flex?: boolean;
}

export function classifyFailure(error: unknown, p: FailureContext): LlmError {
  const base = { provider: p.name, cause: error };
  // No base_url here: these messages become the Issues cell of a row that failed, in a
  // shared sheet; where the endpoint helps (unreachable, 404), the hint names its host.
  const where = `provider "${p.name}" (model ${p.model})`;
  const token = googleTokenErrorOf(error);
  if (token?.connection) {
    // No token, no request: an outage of the run like the model endpoint's own (DESIGN invariant 6).
    return new LlmError(`could not connect to Google's token endpoint for ${where}: ${token.connection.what}`, {
      ...base,
      kind: 'unreachable',
      retryable: true,
      endpoint: token.host,
      hint: `The service account's access token comes from ${token.host} (token_uri of the key file); is it reachable from this machine (proxy, firewall, DNS)?`,
    });
  }
  if (token) {
    // A refused assertion (revoked key, deleted account) fails every request: like a bad key.
    return token.retryable
      ? new LlmError(`${where}: ${token.message}`, { ...base, kind: 'transient', retryable: true })
      : new LlmError(`${where}: ${token.message}`, {
          ...base,
          kind: 'auth',
          retryable: false,
          status: 401,
          hint: "Check the service-account key (sheets.credentials_file or GOOGLE_APPLICATION_CREDENTIALS): it may be deleted or disabled in Google Cloud (IAM → Service accounts → Keys); download a new JSON key.",
        });
  }
  const unreachable = connectionFailureOf(error);
  if (unreachable) {
    return new LlmError(`could not connect to ${where}: ${unreachable.what}`, {
      ...base,
      kind: 'unreachable',
      retryable: true,
      hint: `Check llm.providers "${p.name}": base_url points at ${p.host}; is that server up, and reachable from this machine (address, port, http or https, proxy, firewall)?`,
    });
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new LlmError(`${where} did not answer within ${Math.round(p.timeoutMs / 1000)} s`, { ...base, kind: 'transient', retryable: true });
  }
  if (!(error instanceof OpenAI.APIError)) {
    const why = error instanceof Error ? error.message : String(error);
    return new LlmError(`could not reach ${where}: ${p.scrub(why)}`, { ...base, kind: 'transient', retryable: true });
  }
  const apiError = error as InstanceType<typeof OpenAI.APIError>;
  if (apiError.status === undefined) {
    const why = apiError.cause instanceof Error ? apiError.cause.message : apiError.message;
    return new LlmError(`could not reach ${where}: ${p.scrub(why)}`, { ...base, kind: 'transient', retryable: true });
  }
  const status = apiError.status;
  const requestId = apiError.requestID ?? undefined;
  const said = p.scrub(messageOf(apiError));
  const headers: Headers | undefined = apiError.headers;
  const make = (kind: LlmErrorKind, retryable: boolean, text: string, hint?: string) =>
    new LlmError(text, { ...base, kind, retryable, status, requestId, headers, retryAfterMs: retryAfterMs(headers), ...(hint ? { hint } : {}) });
  const answers = p.facts.answers;
  const body = (apiError.error ?? {}) as { reason?: unknown; quota_ids?: unknown };
  const reason = typeof body.reason === 'string' && answers.badKeyReasons.includes(body.reason) ? body.reason : undefined;
  if (status === 401 || reason !== undefined) {
    const code = `${status}${reason ? ` ${reason}` : ''}`;
    return p.facts.auth === 'google-oauth'
      ? make('auth', false, `${where} rejected the service account's access token (${code}: ${said})`, 'Check the service-account key (sheets.credentials_file or GOOGLE_APPLICATION_CREDENTIALS) and that the Vertex AI API is enabled in its project.')
      : make('auth', false, `${where} rejected the API key (${code}: ${said})`, `Check the key in $${p.apiKeyEnv}: it may be mistyped, revoked, or for another provider.`);
  }
  if (answers.noCreditStatuses.includes(status) || (status >= 400 && status < 500 && answers.noCreditMessages.some((shape) => shape.test(messageOf(apiError))))) {
    // The account, not the request: every row would get it.
    return make('quota', false, `${where} says the account has no credit left (${status}: ${said})`, `Add credits to that ${p.facts.label} account (or raise its limit), or configure another provider.`);
  }
  if (answers.rowStatuses.includes(status)) {
    // This request's content (OpenRouter's moderation), not the key: only its row fails.
    return make('rejected', false, `${where} refused this request's content (${status}: ${said})`);
  }
  if (status === 400 && contentCodeOf(apiError, answers.rowCodes) !== undefined) {
    // Moderation of this row's prompt: the same words for every row it hits, yet never the configuration's.
    return make('content', false, `${where} refused this request's content (${status} ${contentCodeOf(apiError, answers.rowCodes) ?? ''}: ${said})`, "The provider's content filter flagged this row's text; reword the comment, or have a person check the row.");
  }
  const perDay = answers.perDayQuota && Array.isArray(body.quota_ids) ? body.quota_ids.find((id): id is string => typeof id === 'string' && (answers.perDayQuota as RegExp).test(id)) : undefined;
  if (status === 429 && perDay !== undefined) {
    return make('quota', false, `${where} has spent a daily quota, which waiting within this run will not bring back (429 ${perDay}: ${said})`, 'Run again when the daily quota has reset (the next day), raise the quota or the billing tier of that project, or configure another provider.');
  }
  if (status === 403) {
    return p.facts.auth === 'google-oauth'
      ? make('auth', false, `${where} refused access (403: ${said})`, `Grant the service account the Vertex AI User role (roles/aiplatform.user) in the project of base_url, and enable the Vertex AI API there; model ${p.model} must be available in that location.`)
      : make('auth', false, `${where} refused access (403: ${said})`, `The key in $${p.apiKeyEnv} has no access to model ${p.model}, or the account is restricted.`);
  }
  if (status === 404) {
    // Every row would get the same answer: the model (an Azure deployment) or the URL is wrong.
    return make('config', false, `${where} has no such model or endpoint (404: ${said})`, `Check llm.providers: model "${p.model}" may not exist at ${p.host}, or base_url may not be the API root.`);
  }
  // Only in the provider's own words: a row's comment naming the model, quoted back, is that row's.
  const modelQuoted = (apiError.error as { model_quoted?: unknown } | undefined)?.model_quoted === true;
  if (status === 400 && !modelQuoted && refusesModel(said, p.model)) {
    return make('config', false, `${where} does not know the model (400: ${said})`, `Check llm.providers: model "${p.model}" may not exist at ${p.host}.`);
  }
  const field = refusedField(apiError);
  if (status === 400 && field !== undefined && field !== 'response_format') {
    // A field the bot cannot do without (or one still refused once dropped): no row can be asked.
    return make('config', false, `${where} does not accept the request field "${field}" (400: ${said})`, `${p.facts.label} refuses "${field}"; set llm.providers[].kind if "${p.facts.kind}" is not the right kind for ${p.host}.`);
  }
  if (p.flex === true && isFlexCapacity(status, apiError.error)) {
    // Flex's own "no capacity now": not the account's rate limit (no shared cool-down, nothing
    // learned about the limits); unbilled; retried with backoff, then sent at auto.
    return make('flex_capacity', true, `${where} has no flex capacity right now (${status}: ${said})`);
  }
  if (status === 429 && (apiError.code === 'insufficient_quota' || apiError.type === 'insufficient_quota')) {
    return make('quota', false, `${where} says the account has no quota left (429 insufficient_quota: ${said})`, 'Add credit or raise the spending limit of that account, or configure another provider.');
  }
  if (status === 429 && neverFits(said)) {
    // Not a rate limit: retrying (and pausing every worker) would only fail again.
    return make(
      'too_large',
      false,
      `${where} refused the request as larger than the account's tokens-per-minute limit, so waiting will not help (429: ${said}). ` +
        'Send less per request: lower llm.max_comment_chars (the comment sent), shorten the rules text, lower llm.max_completion_tokens or llm.rows_per_request, or use another model or a higher usage tier.',
    );
  }
  if (status === 429) return make('rate_limit', true, `${where} rate-limited the request (429: ${said})`);
  if (status === 408 || status === 409 || status >= 500) return make('transient', true, `${where} failed (${status}: ${said})`);
  // A mention of the format counts only in the provider's own words (the dialect marks a row's text quoted back).
  const formatQuoted = (apiError.error as { format_quoted?: unknown } | undefined)?.format_quoted === true;
  if (status === 400 && (apiError.param === 'response_format' || (/response_format|json_schema/i.test(said) && !formatQuoted))) {
    return make('format_unsupported', false, `${where} does not support structured outputs (400: ${said})`);
  }
  return make('rejected', false, `${where} rejected the request (${status}: ${said})`);
}

/** The content-refusal code of an error body (error.code, or Azure's error.innererror.code) when `codes` lists it. */
function contentCodeOf(apiError: { code?: unknown; error?: unknown }, codes: readonly string[]): string | undefined {
  const inner = (apiError.error as { innererror?: { code?: unknown } } | undefined)?.innererror?.code;
  return [apiError.code, inner].find((code): code is string => typeof code === 'string' && codes.includes(code));
}

/**
 * Whether a 429 says the request alone can never fit: OpenAI's "Request too large for
 * <model> … on tokens per min (TPM): Limit 30000, Requested 36278" (type "tokens", code
 * rate_limit_exceeded, like an ordinary rate limit), or any limit report whose request
 * exceeds the whole limit (a reached limit also says how much is "Used").
 */
export function neverFits(message: string): boolean {
  if (/request too large/i.test(message)) return true;
  const report = /Limit (\d+), Requested (\d+)/i.exec(message);
  return report !== null && !/\bUsed \d+/i.test(message) && Number(report[2]) > Number(report[1]);
}

/**
 * The field a 400 names as not accepted: the dialect layer (kinds/dialect.ts) decides it
 * from the error's structured parts and the request it answers (never from a row's text
 * quoted back), and marks it as `refused_field`.
 */
export function refusedField(error: unknown): string | undefined {
  if (!(error instanceof OpenAI.APIError) || error.status !== 400) return undefined;
  const field = (error.error as { refused_field?: unknown } | undefined)?.refused_field;
  return typeof field === 'string' ? field : undefined;
}

export function messageOf(error: InstanceType<typeof OpenAI.APIError>): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : error.message;
}
