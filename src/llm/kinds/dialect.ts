import { readErrorBody } from './error-body.js';
import { quotesFormat, quotesText, sentModel, sentTexts, unsupportedField } from './fields.js';
import type { KindFacts } from './types.js';

/**
 * Wraps the SDK's fetch so that each provider's answers reach the rest of the code in
 * OpenAI's dialect: an error body of any shape (a JSON array, text, `{error:"…"}`)
 * becomes `{error:{message,type,code,param}}` (param: the field a 400 names as not
 * accepted), a wait stated in the body (RetryInfo) or as a reset time (OpenRouter's
 * X-RateLimit-Reset, epoch ms) becomes a retry-after-ms header, and
 * rate headers that count per day are renamed so that no one takes them for per minute.
 */
export function dialectFetch(facts: KindFacts, inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const perDay = facts.limits.requestsHeader === 'day';
    if (response.ok && !perDay) return response;
    const headers = new Headers(response.headers);
    if (perDay) renamePerDay(headers);
    if (response.ok) return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    const text = await response.text().catch(() => '');
    const read = readErrorBody(text);
    if (read.retryAfterMs !== undefined && facts.limits.retryInfoBody && !headers.has('retry-after') && !headers.has('retry-after-ms')) {
      headers.set('retry-after-ms', String(read.retryAfterMs));
    }
    if (response.status === 429 && facts.limits.resetEpochHeader && !headers.has('retry-after') && !headers.has('retry-after-ms')) {
      const wait = Number(headers.get('x-ratelimit-reset')) - Date.now();
      if (Number.isFinite(wait) && wait >= 0 && wait < 3_600_000) headers.set('retry-after-ms', String(Math.ceil(wait)));
    }
    // The rows' own text, sent in this request: a field named there is not the provider's word.
    const quoted = typeof init?.body === 'string' ? sentTexts(init.body) : [];
    const field = unsupportedField(read.message, read.code, read.param, quoted);
    const body = {
      error: {
        message: read.message ?? (read.code ? `${response.status} ${read.code}` : `${response.status} with an empty body`),
        type: read.type ?? null,
        code: read.code ?? null,
        param: field ?? read.param ?? null,
        // Ours, read from the structured parts only: what Provider.classify decides by.
        ...(field === undefined ? {} : { refused_field: field }),
        ...(read.reason === undefined ? {} : { reason: read.reason }),
        ...(read.quotaIds === undefined ? {} : { quota_ids: read.quotaIds }),
        ...(quotesFormat(read.message, quoted) ? { format_quoted: true } : {}),
        ...(quotesText(read.message, sentModel(init?.body), quoted) ? { model_quoted: true } : {}),
      },
    };
    headers.set('content-type', 'application/json');
    headers.delete('content-length');
    headers.delete('content-encoding');
    return new Response(JSON.stringify(body), { status: response.status, statusText: response.statusText, headers });
  };
}

/** Groq's x-ratelimit-*-requests count per day: kept under a -day name, out of the per-minute reading. */
function renamePerDay(headers: Headers): void {
  for (const part of ['limit', 'remaining', 'reset']) {
    const name = `x-ratelimit-${part}-requests`;
    const value = headers.get(name);
    if (value === null) continue;
    headers.delete(name);
    headers.set(`${name}-day`, value);
  }
}
