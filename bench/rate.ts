import { buildMessages, loadTokenizer, type PromptRules } from '../src/llm/index.js';
import { API_KEY, baseConfig } from '../test/support/bed.js';
import { defaultVerdict, type Latency, type RateLimitOptions, type RespondFn } from '../test/support/openai-emulator/index.js';
import { sampleRows } from '../test/support/sample-data.js';
import { cookbookBaseline, type BaselineResult } from './cookbook.js';
import { benchEnv, type BenchEnv, type Figure } from './lib.js';
import { variedRows } from './rows.js';

interface RateSpec {
  name: string;
  rows: string[][];
  /** What the server enforces: per-minute limits over a 1 s window, as OpenAI quantizes them. */
  rateLimit: RateLimitOptions;
  /** The limit that binds: the ideal is computed from it. */
  binding: 'requests' | 'tokens';
  workers: number;
  latency: Latency;
  maxCompletionTokens?: number;
  respond?: RespondFn;
  /** Added to the test bed's provider, e.g. a configured rpm/tpm. */
  providerPatch?: Record<string, unknown>;
  /** A first run learns the limits (and the cache file keeps them); the second is measured. */
  warm?: boolean;
  target: number;
  /** Ceiling on the share of requests answered 429, in %. */
  max429Percent: number;
}

/** How long the cookbook anchor may run before its pace is extrapolated to the whole workload. */
const BASELINE_BOX_MS = 40_000;

/**
 * A run held back by the provider's rate limit, measured through the CLI, then the same
 * workload on the same server through the cookbook anchor (bench/cookbook.ts).
 *
 * The ideal: the server admits one window's share at once (a second's worth: it starts
 * full) and then the limit's rate, so the last request is admitted no earlier than
 * (charged − one second's share) / limit after the start. Charged is what the server
 * counted for the admitted requests: 1 per request, or prompt + max_completion_tokens.
 */
async function rateBound(spec: RateSpec): Promise<Figure[]> {
  const env = await benchEnv({
    rows: spec.rows,
    llm: { latencyMs: spec.latency, rateLimit: spec.rateLimit, ...(spec.respond ? { respond: spec.respond } : {}) },
    config: { llm: { max_workers: spec.workers, ...(spec.maxCompletionTokens ? { max_completion_tokens: spec.maxCompletionTokens } : {}) } },
  });
  try {
    if (spec.providerPatch) {
      const bed = baseConfig(env.sheets.url, env.llm.url, '') as { llm: { providers: Array<Record<string, unknown>> } };
      env.setConfig({ llm: { providers: [{ ...bed.llm.providers[0], ...spec.providerPatch }] } });
    }
    if (spec.warm) {
      // The first run learns the limits from the headers; a fresh server for the measured one.
      await env.run('--limit', '100');
      env.llm.reset();
    }
    const started = performance.now();
    const { code, summary } = await env.run(...(spec.warm ? ['--force'] : []));
    const wall = (performance.now() - started) / 1000;
    const figures = measure(spec, env, wall, code, summary);
    const anchor = await baseline(spec, env);
    const wallFigure = figures[0] as Figure;
    wallFigure.note = `${wallFigure.note ?? ''}; ${describeAnchor(anchor, wall, spec)}`;
    return figures;
  } finally {
    await env.close();
  }
}

function measure(spec: RateSpec, env: BenchEnv, wall: number, code: number, summary: Record<string, unknown>): Figure[] {
  const chats = env.llm.requests.filter((r) => r.path === '/v1/chat/completions');
  const admitted = chats.filter((r) => r.status === 200);
  const limited = chats.filter((r) => r.fault?.startsWith('rate_limit:')).length;
  const verdicts = summary.verdicts as { valid: number; invalid: number; error: number };
  const rows = spec.rows.length;
  const failed = verdicts.error + (rows - verdicts.valid - verdicts.invalid - verdicts.error);
  const budget = completionBudget(spec);
  const limit = (spec.binding === 'requests' ? spec.rateLimit.rpm : spec.rateLimit.tpm) ?? 1;
  const share = (limit * (spec.rateLimit.windowMs ?? 1000)) / 60_000;
  const charged = spec.binding === 'requests' ? admitted.length : admitted.reduce((sum, r) => sum + (r.usage?.prompt_tokens ?? 0) + budget, 0);
  const ideal = (Math.max(0, charged - share) / limit) * 60;
  const unit = spec.binding === 'requests' ? 'requests' : 'tokens';
  const costs = admitted.map((r) => (r.usage?.prompt_tokens ?? 0) + budget);
  const notes = [
    `${rows} rows, ${spec.workers} workers, exit ${code}`,
    ...(spec.binding === 'tokens' ? [`${Math.min(...costs)}–${Math.max(...costs)} tokens per request`] : []),
    `ideal = (${charged} ${unit} − ${Math.round(share)} of one second's burst) / ${limit} per min`,
    `first to last request ${llmSpan(chats).toFixed(1)} s`,
    `${limited} × 429 of ${chats.length}, peak in flight ${env.llm.peakInFlight}`,
  ];
  return [
    { name: `${spec.name} wall time`, value: wall, unit: 's', ideal, target: spec.target, note: notes.join('; ') },
    {
      name: `${spec.name} 429s`,
      value: (100 * limited) / Math.max(1, chats.length),
      unit: '% of requests',
      limit: spec.max429Percent,
      note: `${limited} of ${chats.length}; ${summary.llm ? (summary.llm as { retries: number }).retries : 0} retries`,
    },
    { name: `${spec.name} failed rows`, value: failed, unit: 'rows', limit: 0 },
  ];
}

/** The same rows, on the same (fresh) server, through the cookbook's design told the exact limits. */
async function baseline(spec: RateSpec, env: BenchEnv): Promise<BaselineResult> {
  env.llm.reset();
  const config = baseConfig(env.sheets.url, env.llm.url, '') as { rules: { text: string; allowed_statuses: string[] } };
  const rules: PromptRules = { rulesText: config.rules.text, allowedStatuses: config.rules.allowed_statuses, maxCommentChars: 4000 };
  const today = new Date().toISOString().slice(0, 10);
  const maxTokens = completionBudget(spec);
  const bodies = spec.rows.map(([, status = '', comment = '', due = '']) => ({
    model: 'gpt-5-mini',
    messages: buildMessages({ status, comment, completion_date: due }, rules, today),
    max_completion_tokens: maxTokens,
  }));
  const count = await loadTokenizer();
  return cookbookBaseline({
    url: env.llm.url,
    apiKey: API_KEY,
    bodies,
    tokensOf: (body) => (body.messages as Array<{ content: string }>).reduce((n, m) => n + 4 + count(m.content), 3) + maxTokens,
    rpm: spec.rateLimit.rpm ?? Number.MAX_SAFE_INTEGER,
    tpm: spec.rateLimit.tpm ?? Number.MAX_SAFE_INTEGER,
    timeBoxMs: BASELINE_BOX_MS,
  });
}

function describeAnchor(anchor: BaselineResult, wall: number, spec: RateSpec): string {
  const finished = anchor.answered + anchor.failed >= spec.rows.length;
  const pct = ((100 * anchor.limited) / Math.max(1, anchor.requests)).toFixed(1);
  const run = finished ? `${anchor.wallS.toFixed(1)} s` : `${anchor.projectedS.toFixed(0)} s projected (${anchor.answered} answered in ${anchor.wallS.toFixed(0)} s)`;
  return `cookbook anchor: ${run}, ${pct} % 429s → bot ${(anchor.projectedS / wall).toFixed(1)}× faster`;
}

/** Seconds from the first request's arrival to the last answer (the part of the run the limit governs). */
function llmSpan(chats: ReadonlyArray<{ startedAt: number; endedAt?: number | undefined }>): number {
  if (chats.length === 0) return 0;
  return (Math.max(...chats.map((r) => r.endedAt ?? r.startedAt)) - Math.min(...chats.map((r) => r.startedAt))) / 1000;
}

function completionBudget(spec: RateSpec): number {
  // The config default (llm.max_completion_tokens) when the bench sets none.
  return spec.maxCompletionTokens ?? 1000;
}

/** B2's workload: 3,000 rows, 1,200 requests a minute enforced per second (20 a second), 100 workers, a 50 ms model. */
const B2 = {
  rows: sampleRows(3000),
  rateLimit: { rpm: 1200, windowMs: 1000 },
  binding: 'requests',
  workers: 100,
  latency: { mean: 50, jitter: 10 },
} as const;

/** B2: the budget learned from the x-ratelimit-* headers (after one probe), then configured as `rpm: 1200`. */
export async function requestBound(): Promise<Figure[]> {
  return [
    ...(await rateBound({ ...B2, rows: [...B2.rows], name: 'B2 rate-bound, budget learned', target: 1.05, max429Percent: 1 })),
    ...(await rateBound({ ...B2, rows: [...B2.rows], name: 'B2 rate-bound, rpm configured', providerPatch: { rpm: 1200 }, target: 1.03, max429Percent: 0.2 })),
  ];
}

/** B2-warm: B2 in a second run, with the limits the first one learned remembered in the cache file. */
export function requestBoundWarm(): Promise<Figure[]> {
  return rateBound({ ...B2, rows: [...B2.rows], name: 'B2-warm rate-bound, limits remembered', warm: true, target: 1.05, max429Percent: 0.2 });
}

/**
 * B3: the binding limit is 200,000 tokens per minute enforced per second (requests are
 * plentiful), with comments from 400 to 4,000 characters, so requests cost from ~700 to
 * ~1,700 tokens. Run with nothing configured (learned from the headers, as in B2) and
 * with `tpm: 200000` configured.
 *
 * max_completion_tokens 300: the answer is a small JSON object, about 100–250 tokens; the
 * provider charges prompt + max_completion_tokens up front, so this setting alone decides
 * how many rows fit in a minute.
 */
export async function tokenBound(): Promise<Figure[]> {
  const spec = {
    rows: variedRows(300, 400, 4000),
    rateLimit: { tpm: 200_000, rpm: 10_000, windowMs: 1000 },
    binding: 'tokens',
    workers: 100,
    latency: { mean: 100, jitter: 20 },
    maxCompletionTokens: 300,
    respond: conciseVerdict,
    target: 1.1,
  } as const;
  return [
    ...(await rateBound({ ...spec, rows: [...spec.rows], name: 'B3 token-bound, budget learned', max429Percent: 2 })),
    ...(await rateBound({ ...spec, rows: [...spec.rows], name: 'B3 token-bound, tpm configured', providerPatch: { tpm: 200_000 }, max429Percent: 0.5 })),
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
