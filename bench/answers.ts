import { baseConfig } from '../test/support/bed.js';
import { seededRandom } from '../test/support/inspect.js';
import { defaultVerdict, type RespondFn, type RowInput } from '../test/support/openai-emulator/index.js';
import { benchEnv, type BenchEnv, type Figure } from './lib.js';
import { variedRows } from './rows.js';

/**
 * B3 again with answers of about 150 tokens (issue 25): B3's token-bound server (200,000
 * tokens a minute enforced per second, requests plentiful, 100 workers, a 100 ms model) and
 * the default llm.max_completion_tokens of 1,000, which every request reserved until now,
 * while the answers (reasoning included, as a gpt-5-mini answer is) take ~150 tokens, 0.5 %
 * of them 300–600. Comments of 200 to 1,200 characters: prompts of ~450–700 tokens.
 *
 * Measured three times on the same rows and the same server (reset between runs):
 *  - before: llm.learn_answer_size false, every request asks for and reserves the full cap
 *    (what the bot did before issue 25; the request path is otherwise the same);
 *  - after, cold: the sizes learned during the run (the first 20 answers at the full cap);
 *  - after, remembered: a second run starting from the sizes the first one kept in the store.
 * Rows a minute of each, and the speed-up, which must be 1.8 or more, with no 429 and no
 * row in ERROR.
 */
const ROWS = 300;
const CAP = 1000;
const TPM = 200_000;

/**
 * Each row's answer size, fixed per row (every run sees the same answers): ~150 tokens (an
 * approximately normal body, 150 ± 15 sd, from the sum of three uniforms), and a tail of
 * 0.5 % of the rows (2 of 300), at seeded random places, from 300 to 600 tokens: the answers
 * a learned reserve leaves to be asked again at the full cap. (A tail of 1 % or more is what
 * a 99th percentile reserves for: the reserve then rises into it, by design.)
 */
function answerSizes(rows: readonly string[][]): (row: RowInput) => number {
  const random = seededRandom(25);
  const tail = new Set<number>();
  while (tail.size < Math.round(rows.length / 200)) tail.add(Math.floor(random() * rows.length));
  const byComment = new Map<string, number>();
  rows.forEach(([, , comment = ''], i) => {
    const size = tail.has(i) ? 300 + 300 * random() : 150 + 30 * (random() + random() + random() - 1.5);
    byComment.set(comment, Math.round(size));
  });
  return (row) => byComment.get(String(row.comment ?? '')) ?? 150;
}

/** A concise verdict: the visible text is a short rewrite; what the drawn size adds is reasoning. */
const shortVerdict: RespondFn = (row) => {
  const answer = defaultVerdict(row);
  const rewrite = answer.rewrite_suggestion;
  return { ...answer, rewrite_suggestion: rewrite.length > 240 ? `${rewrite.slice(0, 237)}...` : rewrite };
};

interface Measured {
  wallS: number;
  rowsPerMinute: number;
  requests: number;
  limited: number;
  failed: number;
  askedAgain: number;
  /** Tokens the server charged at admission: prompt + the cap each request asked for. */
  charged: number;
  capRange: string;
}

async function measureRun(env: BenchEnv, ...args: string[]): Promise<Measured> {
  env.llm.reset();
  const started = performance.now();
  const { summary } = await env.run(...args);
  const wallS = (performance.now() - started) / 1000;
  const chats = env.llm.requests.filter((r) => r.path === '/v1/chat/completions');
  const admitted = chats.filter((r) => r.status === 200);
  const verdicts = summary.verdicts as { valid: number; invalid: number; error: number };
  const llm = summary.llm as { askedAgainAtFullCap?: number };
  const caps = admitted.map((r) => r.cap ?? CAP);
  return {
    wallS,
    rowsPerMinute: (ROWS / wallS) * 60,
    requests: chats.length,
    limited: chats.filter((r) => r.fault?.startsWith('rate_limit:')).length,
    failed: ROWS - verdicts.valid - verdicts.invalid,
    askedAgain: llm.askedAgainAtFullCap ?? 0,
    charged: admitted.reduce((sum, r) => sum + (r.usage?.prompt_tokens ?? 0) + (r.cap ?? CAP), 0),
    capRange: `${Math.min(...caps)}–${Math.max(...caps)}`,
  };
}

function describe(m: Measured): string {
  return `${m.wallS.toFixed(1)} s, ${m.requests} requests (${m.askedAgain} asked again at the full cap), caps asked ${m.capRange}, ${m.charged.toLocaleString('en-US')} tokens charged at admission, ${m.limited} × 429, ${m.failed} rows not VALID/INVALID`;
}

export async function tokenBoundAnswers(): Promise<Figure[]> {
  const rows = variedRows(ROWS, 200, 1200);
  const env = await benchEnv({
    rows,
    llm: { latencyMs: { mean: 100, jitter: 20 }, rateLimit: { tpm: TPM, rpm: 10_000, windowMs: 1000 }, respond: shortVerdict, answerTokens: answerSizes(rows) },
    config: { llm: { max_workers: 100, max_completion_tokens: CAP, learn_answer_size: false } },
  });
  try {
    const bed = baseConfig(env.sheets.url, env.llm.url, '') as { llm: { providers: Array<Record<string, unknown>> } };
    env.setConfig({ llm: { providers: [{ ...bed.llm.providers[0], tpm: TPM }] } });
    const before = await measureRun(env);
    env.setConfig({ llm: { learn_answer_size: true } });
    const cold = await measureRun(env, '--force');
    const warm = await measureRun(env, '--force');
    const speedUp = (m: Measured) => m.rowsPerMinute / before.rowsPerMinute;
    return [
      { name: 'B3-answers before: the full max_completion_tokens reserved', value: before.rowsPerMinute, unit: 'rows/min', note: describe(before) },
      { name: 'B3-answers after, cold: the answer size learned in the run', value: cold.rowsPerMinute, unit: 'rows/min', note: describe(cold) },
      { name: 'B3-answers after, remembered: the sizes the last run kept', value: warm.rowsPerMinute, unit: 'rows/min', note: describe(warm) },
      { name: 'B3-answers speed-up, cold', value: speedUp(cold), unit: '× rows/min', atLeast: 1.8, note: `charged tokens ${(before.charged / cold.charged).toFixed(2)}× fewer` },
      { name: 'B3-answers speed-up, remembered', value: speedUp(warm), unit: '× rows/min', atLeast: 1.8, note: `charged tokens ${(before.charged / warm.charged).toFixed(2)}× fewer` },
      { name: 'B3-answers 429s', value: before.limited + cold.limited + warm.limited, unit: 'responses', limit: 0 },
      { name: 'B3-answers rows not VALID/INVALID', value: before.failed + cold.failed + warm.failed, unit: 'rows', limit: 0 },
    ];
  } finally {
    await env.close();
  }
}
