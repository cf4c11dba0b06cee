import { baseConfig } from '../test/support/bed.js';
import { sampleRows } from '../test/support/sample-data.js';
import { defaultVerdict, type Latency, type RateLimitOptions, type RespondFn } from '../test/support/openai-emulator/index.js';
import { benchEnv, type Figure } from './lib.js';
import { variedRows } from './rows.js';

interface RateSpec {
  name: string;
  rows: string[][];
  /** What the server enforces (429 with retry-after past it). */
  rateLimit: RateLimitOptions;
  /** The budget that binds: the ideal is computed from it. */
  binding: 'requests' | 'tokens';
  workers: number;
  latency: Latency;
  maxCompletionTokens?: number;
  respond?: RespondFn;
  /** Added to the test bed's provider, e.g. a configured rpm/tpm. */
  providerPatch?: Record<string, unknown>;
  target: number;
  /** Ceiling on the share of requests answered 429, in %. */
  max429Percent?: number;
}

/**
 * A run held back by the provider's rate limit, measured through the CLI.
 *
 * The ideal: the server meters its budget as a continuously refilling bucket (like
 * OpenAI) that starts full, so the first `capacity` units go at once and the rest at
 * `capacity` per minute. The last request can therefore be admitted no earlier than
 * (total − capacity) / rate after the start — not total / rate, which would flatter
 * every run by a whole minute. Total is what the server charged the admitted requests
 * (1 per request, or prompt + max_completion_tokens tokens); rejected ones cost nothing.
 */
async function rateBound(spec: RateSpec): Promise<Figure[]> {
  const env = await benchEnv({
    rows: spec.rows,
    llm: { latencyMs: spec.latency, rateLimit: spec.rateLimit, ...(spec.respond ? { respond: spec.respond } : {}) },
    config: {
      llm: { max_workers: spec.workers, ...(spec.maxCompletionTokens ? { max_completion_tokens: spec.maxCompletionTokens } : {}) },
    },
  });
  try {
    if (spec.providerPatch) {
      const bed = baseConfig(env.sheets.url, env.llm.url, '') as { llm: { providers: Array<Record<string, unknown>> } };
      env.setConfig({ llm: { providers: [{ ...bed.llm.providers[0], ...spec.providerPatch }] } });
    }
    const started = performance.now();
    const { code, summary } = await env.run();
    const wall = (performance.now() - started) / 1000;
    const chats = env.llm.requests.filter((r) => r.path === '/v1/chat/completions');
    const admitted = chats.filter((r) => r.status === 200);
    const limited = chats.filter((r) => r.fault?.startsWith('rate_limit:')).length;
    const verdicts = summary.verdicts as { valid: number; invalid: number; error: number };
    const rows = spec.rows.length;
    const failed = verdicts.error + (rows - verdicts.valid - verdicts.invalid - verdicts.error);

    const budget = completionBudget(spec);
    const capacity = spec.binding === 'requests' ? (spec.rateLimit.rpm ?? 0) : (spec.rateLimit.tpm ?? 0);
    const charged = spec.binding === 'requests' ? admitted.length : admitted.reduce((sum, r) => sum + (r.usage?.prompt_tokens ?? 0) + budget, 0);
    const periodS = (spec.rateLimit.windowMs ?? 60_000) / 1000;
    const ideal = (Math.max(0, charged - capacity) / capacity) * periodS;
    const unit = spec.binding === 'requests' ? 'requests' : 'tokens';
    const llmSpan = admitted.length > 0 ? (Math.max(...admitted.map((r) => r.endedAt ?? r.startedAt)) - Math.min(...chats.map((r) => r.startedAt))) / 1000 : 0;
    const achieved = llmSpan > 0 ? Math.max(0, charged - capacity) / llmSpan : 0;
    const costs = admitted.map((r) => (r.usage?.prompt_tokens ?? 0) + budget);
    const notes = [
      `${rows} rows, ${spec.workers} workers, exit ${code}`,
      ...(spec.binding === 'tokens' ? [`${Math.min(...costs)}–${Math.max(...costs)} tokens per request`] : []),
      `ideal = (${charged} ${unit} charged − ${capacity} in the full starting bucket) / ${capacity} per min`,
      `past the bucket: ${Math.round(achieved * 60)} ${unit}/min vs ${capacity}`,
      `${limited} × 429 of ${chats.length} requests, peak in flight ${env.llm.peakInFlight}`,
    ];
    return [
      { name: `${spec.name} wall time`, value: wall, unit: 's', ideal, target: spec.target, note: notes.join('; ') },
      {
        name: `${spec.name} 429s`,
        value: (100 * limited) / Math.max(1, chats.length),
        unit: '% of requests',
        ...(spec.max429Percent !== undefined ? { limit: spec.max429Percent } : {}),
        note: `${limited} of ${chats.length}; ${summary.llm ? (summary.llm as { retries: number }).retries : 0} retries`,
      },
      { name: `${spec.name} failed rows`, value: failed, unit: 'rows', limit: 0 },
    ];
  } finally {
    await env.close();
  }
}

function completionBudget(spec: RateSpec): number {
  // The config default (llm.max_completion_tokens) when the bench sets none.
  return spec.maxCompletionTokens ?? 1000;
}

/**
 * B2: 3,000 rows against a server allowing 1,200 requests per minute, 100 workers, a
 * 100 ms model. Nothing is configured: the bot learns the budget from the
 * x-ratelimit-* headers of the first answers.
 */
export function requestBound(): Promise<Figure[]> {
  return rateBound({
    name: 'B2 rate-bound',
    rows: sampleRows(3000),
    rateLimit: { rpm: 1200 },
    binding: 'requests',
    workers: 100,
    latency: { mean: 100, jitter: 20 },
    target: 1.1,
    max429Percent: 2,
  });
}

/**
 * B3: the binding limit is 200,000 tokens per minute (requests are plentiful), with
 * comments from 20 to 4,000 characters, so requests cost from ~600 to ~1,700 tokens.
 * Run twice: with nothing configured (the bot learns the budget from the
 * x-ratelimit-* headers, as in B2), and with `tpm: 200000` configured on the provider.
 *
 * max_completion_tokens 300: the answer is a small JSON object (a boolean, a few
 * one-sentence issues, a rewrite of the comment in a few sentences), about 100–250
 * tokens; 300 leaves room without charging the budget for 1,000 tokens (the default)
 * the model never writes — the provider charges prompt + max_completion_tokens up
 * front, so this setting alone decides how many rows fit in a minute.
 */
export async function tokenBound(): Promise<Figure[]> {
  const spec = {
    rows: variedRows(300, 20, 4000),
    rateLimit: { tpm: 200_000, rpm: 10_000 },
    binding: 'tokens',
    workers: 100,
    latency: { mean: 100, jitter: 20 },
    maxCompletionTokens: 300,
    respond: conciseVerdict,
    target: 1.15,
  } as const;
  return [
    ...(await rateBound({ ...spec, name: 'B3 token-bound, budget learned' })),
    ...(await rateBound({ ...spec, name: 'B3 token-bound, tpm configured', providerPatch: { tpm: 200_000 } })),
  ];
}

/**
 * The emulator's default answer echoes the whole comment as the rewrite (up to ~1,000
 * tokens for a 4,000-character comment), more than max_completion_tokens allows; a real
 * model stops at the limit. This one answers like a model asked for a concise rewrite:
 * at most ~600 characters (~150 tokens), well within the 300-token budget.
 */
const conciseVerdict: RespondFn = (row) => {
  const answer = defaultVerdict(row);
  const rewrite = answer.rewrite_suggestion;
  return { ...answer, rewrite_suggestion: rewrite.length > 600 ? `${rewrite.slice(0, 597)}...` : rewrite };
};
