/**
 * Issue 25, item 3: against a tokens-per-minute limit a request reserves (and asks for) what
 * answers of its prompt use, learned from the usage of the answers received, instead of the
 * full max_completion_tokens; an answer cut at that learned cap is asked again at the full
 * cap, never lost; the learned sizes are remembered in the store for the next run.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LEARN_AFTER } from '../../src/llm/index.js';
import { startBed, type Bed } from '../support/bed.js';
import type { RecordedRequest, RowInput } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface Summary {
  verdicts: { valid: number; invalid: number; error: number };
  llm: { askedAgainAtFullCap?: number; retries: number };
}

const CAP = 1000;
const ROWS = sampleRows(80);
/** Rows asked late in the run (after the size is learned) whose answers are far longer than the rest, by comment (the prompt carries no row id). */
const LONG = new Set([ROWS[60]?.[2], ROWS[70]?.[2]]);
const isLong = (row: RowInput | undefined): boolean => LONG.has(String(row?.comment));

/** ~130–170 tokens, reasoning included; the LONG rows 700 (under the cap, above any learned reserve). */
function answerTokens(row: RowInput): number {
  if (isLong(row)) return 700;
  const id = String(row.comment ?? '');
  let hash = 0;
  for (const c of id) hash = (hash * 31 + c.charCodeAt(0)) % 997;
  return 130 + (hash % 41);
}

const chats = (b: Bed): RecordedRequest[] => b.llm.requests.filter((r) => r.path === '/v1/chat/completions').toSorted((a, b) => a.startedAt - b.startedAt);

async function tokenBoundBed(config: Record<string, unknown> = {}): Promise<Bed> {
  const b = await startBed({ rows: ROWS, llm: { answerTokens, latencyMs: { mean: 5, jitter: 3 } }, config: { llm: { max_workers: 3, max_completion_tokens: CAP, ...config } } });
  const base = b.config as { llm: { providers: Array<Record<string, unknown>> } };
  // A token budget the run must keep: only then does what a request reserves matter.
  b.setConfig({ llm: { providers: [{ ...base.llm.providers[0], tpm: 5_000_000 }] } });
  return b;
}

describe('reserving what answers use', () => {
  it('asks for the learned size after enough answers, asks a cut answer again at the full cap, and ends every row VALID or INVALID', async () => {
    bed = await tokenBoundBed();
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.verdicts.error).toBe(0);
    expect(summary.verdicts.valid + summary.verdicts.invalid).toBe(ROWS.length);

    const requests = chats(bed);
    // The first answers are asked at the full cap: nothing is known yet.
    expect(requests.slice(0, LEARN_AFTER).every((r) => r.cap === CAP)).toBe(true);
    const learned = requests.filter((r) => (r.cap ?? CAP) < CAP);
    expect(learned.length).toBeGreaterThan(ROWS.length / 2);
    // Well under the cap: ~170 tokens at the 99th percentile, with its margin.
    expect(Math.min(...learned.map((r) => r.cap ?? CAP))).toBeLessThan(250);

    // Each answer cut at a learned cap was asked again, for the same row, at the full cap, and answered whole.
    const cut = requests.filter((r) => r.finishReason === 'length');
    expect(cut.length).toBeGreaterThanOrEqual(1);
    for (const request of cut) {
      expect(request.cap).toBeLessThan(CAP);
      expect(isLong(request.row)).toBe(true);
      const again = requests.filter((r) => r.startedAt >= request.startedAt && r !== request && r.row?.comment === request.row?.comment);
      expect(again.map((r) => [r.cap, r.finishReason])).toEqual([[CAP, 'stop']]);
    }
    // Counted in the summary; not a retry of a failed request.
    expect(summary.llm.askedAgainAtFullCap).toBe(cut.length);
    expect(summary.llm.retries).toBe(0);
    // The learned size moved up after the long answer: the later long row was not cut, or was asked for more.
    const longRequests = requests.filter((r) => isLong(r.row) && (r.cap ?? CAP) < CAP);
    const afterFirstCut = longRequests.filter((r) => r.startedAt > (cut[0]?.startedAt ?? 0));
    expect(afterFirstCut.length).toBeGreaterThan(0);
    for (const r of afterFirstCut) expect(r.cap).toBeGreaterThan(cut[0]?.cap ?? CAP);

    // Fewer tokens reserved than the cap for every request: the first 20 at the cap, the rest at ~170.
    const reserved = requests.reduce((sum, r) => sum + (r.cap ?? CAP), 0);
    expect(reserved).toBeLessThan(0.6 * CAP * requests.length);
  });

  it('starts the next run from the sizes the store remembered: its first request asks for the learned size', async () => {
    bed = await tokenBoundBed();
    expect((await bed.run('--json')).code).toBe(0);
    const firstRun = chats(bed).length;
    const db = new Database(path.join(bed.dir, 'cache.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT provider, model, prompt, sizes FROM answer_sizes').all() as Array<{ provider: string; model: string; prompt: string; sizes: string }>;
      expect(rows).toHaveLength(1);
      expect(rows[0]?.model).toBe('gpt-5-mini');
      expect(rows[0]?.prompt).toMatch(/\/rows-1$/);
      // Every answer's size, the long one asked again included (the cut one is not a size).
      expect(JSON.parse(rows[0]?.sizes ?? '[]')).toHaveLength(ROWS.length);
    } finally {
      db.close();
    }

    expect((await bed.run('--json', '--force')).code).toBe(0);
    const second = chats(bed).slice(firstRun);
    expect(second[0]?.cap).toBeLessThan(CAP);
    expect(second.filter((r) => r.cap === CAP).length).toBeLessThanOrEqual(LONG.size);
  });

  it('learns a packed request\'s size apart, per number of rows, and asks a packed request for less than rows × the cap once known', async () => {
    bed = await startBed({ rows: sampleRows(125), llm: { latencyMs: { mean: 5, jitter: 3 } }, config: { llm: { max_workers: 3, max_completion_tokens: CAP, rows_per_request: 5 } } });
    const base = bed.config as { llm: { providers: Array<Record<string, unknown>> } };
    bed.setConfig({ llm: { providers: [{ ...base.llm.providers[0], tpm: 5_000_000 }] } });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as Summary).verdicts.error).toBe(0);
    const requests = chats(bed);
    expect(requests).toHaveLength(25);
    expect(requests.slice(0, LEARN_AFTER).every((r) => r.cap === 5 * CAP)).toBe(true);
    const later = requests.slice(LEARN_AFTER);
    expect(later.every((r) => (r.cap ?? Infinity) < 5 * CAP && r.finishReason === 'stop')).toBe(true);
    const db = new Database(path.join(bed.dir, 'cache.sqlite'), { readonly: true });
    try {
      expect((db.prepare('SELECT prompt FROM answer_sizes').all() as Array<{ prompt: string }>).map((r) => r.prompt.split('/').at(-1))).toEqual(['rows-5']);
    } finally {
      db.close();
    }
  });

  it('with llm.learn_answer_size false, every request asks for the full cap as before', async () => {
    bed = await tokenBoundBed({ learn_answer_size: false });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(chats(bed).every((r) => r.cap === CAP)).toBe(true);
    expect((JSON.parse(result.stdout) as Summary).llm.askedAgainAtFullCap).toBe(0);
  });

  it('without a token budget (no tpm configured or stated), asks for the full cap: a lower one would save nothing', async () => {
    bed = await startBed({ rows: ROWS.slice(0, 40), llm: { answerTokens }, config: { llm: { max_completion_tokens: CAP } } });
    expect((await bed.run('--json')).code).toBe(0);
    expect(chats(bed).every((r) => r.cap === CAP)).toBe(true);
  });
});
