/** What an error answer says, whatever shape its body has. */
export interface ErrorBody {
  message: string | undefined;
  type: string | undefined;
  code: string | undefined;
  param: string | undefined;
  /** google.rpc.RetryInfo.retryDelay, in ms, when the body carries one. */
  retryAfterMs: number | undefined;
  /** google.rpc.ErrorInfo.reason (Google's API_KEY_INVALID), when the body carries one. */
  reason?: string | undefined;
  /** google.rpc.QuotaFailure violations' quotaId (Google's GenerateRequestsPerDayPerProjectPerModel). */
  quotaIds?: string[] | undefined;
}

const MAX_MESSAGE = 1000;

/**
 * Reads an error answer's body: OpenAI's `{error:{message,type,code,param}}`, Google's
 * `[{error:{code,message,status,details}}]` (a JSON array), Ollama's `{error:"…"}`,
 * vLLM's `{object:"error",message,…}`, or plain text. Never throws: whatever is not
 * understood is left undefined, a text body is its own message.
 */
export function readErrorBody(text: string | null | undefined): ErrorBody {
  const out: ErrorBody = { message: undefined, type: undefined, code: undefined, param: undefined, retryAfterMs: undefined };
  const raw = typeof text === 'string' ? text.trim() : '';
  if (raw === '') return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    out.message = clip(raw);
    return out;
  }
  const top = Array.isArray(parsed) ? parsed.find((item) => isObject(item)) : parsed;
  if (!isObject(top)) {
    out.message = clip(raw);
    return out;
  }
  const inner = top['error'];
  const error = isObject(inner) ? inner : top;
  if (typeof inner === 'string') out.message = clip(inner);
  else out.message = text_(error['message']) ?? text_(error['detail']) ?? (isObject(inner) ? undefined : clip(raw));
  out.type = text_(error['type']) ?? text_(error['status']);
  out.code = text_(error['code']);
  out.param = text_(error['param']);
  out.retryAfterMs = retryDelayOf(error['details']);
  const details = Array.isArray(error['details']) ? error['details'].filter(isObject) : [];
  out.reason = details.map((d) => text_(d['reason'])).find((r) => r !== undefined);
  const quotaIds = details.flatMap((d) => (Array.isArray(d['violations']) ? d['violations'].filter(isObject).flatMap((v) => text_(v['quotaId']) ?? []) : []));
  if (quotaIds.length > 0) out.quotaIds = quotaIds;
  return out;
}

/** google.rpc.RetryInfo's retryDelay: a Duration as JSON ("38s", "1.5s") or {seconds, nanos}. */
function retryDelayOf(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    if (!isObject(detail)) continue;
    const type = detail['@type'];
    if (typeof type === 'string' && !type.endsWith('google.rpc.RetryInfo')) continue;
    const delay = detail['retryDelay'];
    if (typeof delay === 'string') {
      const match = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(delay);
      const ms = match ? Number(match[1]) * 1000 : Number.NaN;
      if (Number.isFinite(ms) && ms < 3_600_000) return Math.ceil(ms);
    } else if (isObject(delay)) {
      const ms = Number(delay['seconds'] ?? 0) * 1000 + Number(delay['nanos'] ?? 0) / 1e6;
      if (Number.isFinite(ms) && ms >= 0 && ms < 3_600_000) return Math.ceil(ms);
    }
  }
  return undefined;
}

function text_(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : clip(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
