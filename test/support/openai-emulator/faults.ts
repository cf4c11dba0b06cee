import fc from 'fast-check';
import { defaultStatusError, errorBody, errorOutcome, type Outcome } from './errors.js';
import { defaultVerdict, toContent } from './responder.js';
import type { ChatRequest, Fault, FaultMatcher, InjectFaultOptions, RowInput } from './types.js';

interface QueuedFault {
  fault: Fault;
  remaining: number;
  match: FaultMatcher | undefined;
}

/** Injected faults, consumed in injection order by the next matching requests. */
export class FaultQueue {
  private queue: QueuedFault[] = [];

  inject(fault: Fault, opts: InjectFaultOptions = {}): void {
    const times = opts.times ?? 1;
    if (!(times > 0)) throw new RangeError(`injectFault: times must be > 0, got ${times}`);
    this.queue.push({ fault, remaining: times, match: opts.match });
  }

  /** The fault for this request, if any; consumes one use of it. */
  take(row: RowInput | undefined, req: ChatRequest): Fault | undefined {
    for (let i = 0; i < this.queue.length; i++) {
      const entry = this.queue[i];
      if (entry === undefined) continue;
      if (entry.match !== undefined && !entry.match(row, req)) continue;
      // Only a flex request can lack flex capacity.
      if (entry.fault.kind === 'flex_unavailable' && req.service_tier !== 'flex') continue;
      entry.remaining -= 1;
      if (entry.remaining <= 0) this.queue.splice(i, 1);
      return entry.fault;
    }
    return undefined;
  }

  /** Faults still waiting (sum of remaining uses; Infinity when any is unlimited). */
  pending(): number {
    return this.queue.reduce((sum, e) => sum + e.remaining, 0);
  }

  clear(): void {
    this.queue = [];
  }
}

export const INSUFFICIENT_QUOTA_MESSAGE =
  'You exceeded your current quota, please check your plan and billing details. ' +
  'For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.';

export const REFUSAL_TEXT = "I'm sorry, but I can't help with that request.";

/** Turn an injected fault into what the server answers. */
export function faultOutcome(fault: Fault, row: RowInput | undefined, model = 'gpt-5-mini'): Outcome {
  switch (fault.kind) {
    case 'status': {
      const body = fault.body === undefined ? errorBody(defaultStatusError(fault.status)) : fault.body;
      return fault.headers === undefined
        ? { kind: 'error', status: fault.status, body, fault: 'status' }
        : { kind: 'error', status: fault.status, body, headers: fault.headers, fault: 'status' };
    }
    case 'rate_limit': {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
      return {
        ...errorOutcome(
          429,
          {
            message: 'Rate limit reached for requests (emulated fault). Please try again later.',
            type: 'requests',
            code: 'rate_limit_exceeded',
          },
          headers,
        ),
        fault: 'rate_limit',
      };
    }
    case 'insufficient_quota':
      return {
        ...errorOutcome(429, { message: INSUFFICIENT_QUOTA_MESSAGE, type: 'insufficient_quota', code: 'insufficient_quota' }),
        fault: 'insufficient_quota',
      };
    case 'reset':
      return { kind: 'reset', fault: 'reset' };
    case 'hang':
      return { kind: 'hang', fault: 'hang' };
    case 'malformed':
      return {
        kind: 'completion',
        content: 'Sure! Here is my assessment: the row looks {mostly} fine, is_valid=true',
        finishReason: 'stop',
        fault: 'malformed',
      };
    case 'truncated': {
      const full = toContent(defaultVerdict(row ?? {}));
      return { kind: 'completion', content: full.slice(0, Math.floor(full.length / 2)), finishReason: 'length', fault: 'truncated' };
    }
    case 'refusal':
      return { kind: 'completion', content: null, refusal: REFUSAL_TEXT, finishReason: 'stop', fault: 'refusal' };
    case 'wrong_types':
      return { kind: 'completion', content: '{"is_valid":"false","issues":"none"}', finishReason: 'stop', fault: 'wrong_types' };
    case 'content':
      return { kind: 'completion', content: fault.content, finishReason: 'stop', fault: 'content' };
    case 'garbage':
      return { kind: 'completion', content: garbage(fault), finishReason: 'stop', fault: 'garbage' };
    case 'flex_unavailable':
      // No usage: a refused flex request is not billed (https://platform.openai.com/docs/guides/flex-processing:
      // "a 429 Resource Unavailable error code. You will not be charged when this occurs").
      return {
        ...errorOutcome(429, { message: 'Resource Unavailable: there is not enough flex processing capacity for this request right now (emulated). Retry later, or send it with service_tier auto.', type: 'resource_unavailable', code: 'resource_unavailable' }),
        fault: 'flex_unavailable',
      };
    case 'request_too_large':
      return { ...requestTooLarge(model, fault.limit, fault.requested), fault: 'request_too_large' };
  }
}

/**
 * OpenAI's answer to a request that alone exceeds the tokens-per-minute limit: a 429 of
 * type "tokens", code "rate_limit_exceeded" like an ordinary rate limit, which no wait
 * can cure. Wording as users report it, e.g. Aider-AI/aider#1880 and DrShushen/climb#13:
 * "Request too large for gpt-4o in organization org-… on tokens per min (TPM): Limit
 * 30000, Requested 36278. The input or output tokens must be reduced in order to run
 * successfully. Visit https://platform.openai.com/account/rate-limits to learn more."
 * (type "tokens", param null, code "rate_limit_exceeded"). No retry-after is promised.
 */
export function requestTooLarge(model: string, limit = 30_000, requested = limit + 1): Outcome {
  return errorOutcome(429, {
    message:
      `Request too large for ${model} in organization org-emulator on tokens per min (TPM): Limit ${limit}, Requested ${requested}. ` +
      'The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.',
    type: 'tokens',
    code: 'rate_limit_exceeded',
  });
}

/** Values that have broken answer parsers: JSON that is not an object, results that are not rows. */
const NASTY = ['null', '42', '"VALID"', '[null]', 'true', '{"results":null}', '{"results":[null,7,"r1",[]]}', '{"is_valid":null}', '```', '{"results":[{"row":"r1"}]}'];
/** Uses of each injected garbage fault: each injection goes through the nasty values from the start. */
const garbageUses = new WeakMap<Fault, number>();

/** The next garbage answer: the nasty values in turn, then random JSON and text (seeded, so a failure can be replayed). */
function garbage(fault: Extract<Fault, { kind: 'garbage' }>): string {
  const n = garbageUses.get(fault) ?? 0;
  garbageUses.set(fault, n + 1);
  const nasty = NASTY[n];
  if (nasty !== undefined) return nasty;
  const [value] = fc.sample(fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((v) => `{"results":${JSON.stringify(v) ?? 'null'}}`)), { numRuns: 1, seed: (fault.seed ?? 11) + n });
  return value ?? 'null';
}
