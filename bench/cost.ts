import type { Clock } from '../src/commands/context.js';
import { costOf, priceOf } from '../src/llm/index.js';
import { startBed, type Bed, type ConfigPatch } from '../test/support/bed.js';
import type { RowInput } from '../test/support/openai-emulator/index.js';
import type { Figure } from './lib.js';

/**
 * B6: what 1,000 rows with realistic texts cost in each mode, in dollars per 1,000
 * rows and as a ratio to the naive way (one full-price, uncached call per row).
 * Prices are gpt-5-mini's list prices; tokens are what the emulator reports.
 */

/** A rulebook of the length a project office writes (about 1,100 tokens with the instructions). */
export const RULES = `
Every row describes the state of one project on the day it is updated. Read the status, the comment and the due date together.

1. The comment must say what was done since the last update, in concrete terms: a deliverable, a decision, a meeting held, a number reached. "Working on it", "in progress", "TBD" and similar phrases say nothing and make the row invalid.
2. The comment must say what happens next and who does it, when that is not obvious from the project: the next deliverable or decision, and its owner (a person or a team).
3. The comment must say by when the next step is expected. A date, a week number or a named milestone is enough; "soon" and "later" are not.
4. A row "In progress" must have a due date, and the due date must not be in the past. If the date has passed, the comment must explain the delay and give a new date.
5. A row "Done" must not promise further work on the same scope. Follow-up work belongs to a new row. It may mention a retrospective or a handover.
6. A row "Planned" must say when work starts, or what it waits for (a budget decision, a dependency, a hiring).
7. A row "Cancelled" must say why, and who decided.
8. Blockers must be named together with what is being done about them and who owns the unblocking action.
9. Numbers must have units (days, people, euros, percent). Acronyms that are not common in the company must be spelled out the first time.
10. The comment must be written for a reader outside the team: no internal ticket numbers without a short description, no nicknames, no jokes.
11. Dates in the comment must agree with the due date column; if they disagree, the row is invalid and the issue must say which date is wrong.
12. A comment longer than about 120 words should be shortened: status updates are read by busy people. Suggest a shorter version.
13. Risks that could move the due date by more than two weeks must be stated, with their likelihood in plain words.
14. Budget overruns above ten percent must be stated with the new estimate.
15. If the status and the comment disagree (the comment says the work is finished while the status says "In progress"), the row is invalid.
16. Dependencies on other projects must name the project and the date the dependency is needed by; "waiting on IT" is not enough.
17. Changes of scope must be stated together with who approved them and how they move the due date, even when they do not.
18. A comment copied unchanged from the previous update (the same text two weeks in a row) is invalid: something must have changed, or the comment must say explicitly that nothing did and why.

When you suggest a rewrite, keep the author's facts and language, fix only what breaks the rules, and keep it short. Do not invent facts: where a fact is missing, write a placeholder in square brackets, for example [owner] or [date].
`.trim();

const DONE = ['Shipped the new invoicing flow to all EU customers after two weeks of beta', 'Closed the vendor selection: Acme won on price and support terms', 'Migrated the last 40 services to the new cluster; old cluster switched off'];
const NEXT = ['next the finance team validates the first month of invoices by 15 December', 'next procurement signs the contract, owner Maria, by week 51', 'next we run the cost review with the platform team on 3 December'];
const VAGUE = ['working on it', 'in progress, more soon', 'TBD after the holidays', 'see last week'];

/** Row i: mostly good comments of varied length, one in four vague. */
export function realisticRow(i: number): string[] {
  const id = `PRJ-${String(i + 1).padStart(4, '0')}`;
  const status = ['In progress', 'Done', 'Planned', 'In progress'][i % 4] ?? 'Planned';
  const due = new Date(Date.UTC(2026, 11, 1) + (i % 60) * 86_400_000).toISOString().slice(0, 10);
  if (i % 4 === 3) return [id, status, `${VAGUE[i % VAGUE.length] ?? ''} (${id})`, due];
  const extra = i % 3 === 0 ? ' Risks: the auditor may ask for two more weeks; likelihood low. Budget on track at 92 percent of the estimate.' : '';
  return [id, status, `${DONE[i % DONE.length] ?? ''}; ${NEXT[i % NEXT.length] ?? ''} (${id}).${extra}`, due];
}

/** A model that answers like a real one: short issues, a rewrite only when needed. */
function realisticAnswer(row: RowInput) {
  const comment = String(row.comment ?? '');
  const vague = /working on it|in progress, more soon|TBD|see last week/i.test(comment);
  return vague
    ? {
        is_valid: false,
        issues: ['The comment does not say what was done.', 'The next step, its owner and its date are missing.'],
        rewrite_suggestion: `[What was done]; next [step], owner [owner], by [date].`,
        confidence: 0.9,
      }
    : { is_valid: true, issues: [], rewrite_suggestion: '', confidence: 0.95 };
}

const ROWS = 1000;

async function withBed<T>(config: ConfigPatch, fn: (bed: Bed) => Promise<T>): Promise<T> {
  const bed = await startBed({
    rows: Array.from({ length: ROWS }, (_, i) => realisticRow(i)),
    config: { rules: { text: RULES }, llm: { max_workers: 50, max_completion_tokens: 300 }, sheets: { read_quota_per_minute: 6000, write_quota_per_minute: 6000 }, ...config },
    llm: { respond: realisticAnswer },
  });
  try {
    return await fn(bed);
  } finally {
    await bed.close();
  }
}

interface SyncSummary {
  llm: { costUsd: number; naiveCostUsd: number; promptTokens: number; cachedTokens: number };
}

async function syncRun(rowsPerRequest: number): Promise<SyncSummary['llm']> {
  return withBed({ llm: { max_workers: 50, max_completion_tokens: 300, rows_per_request: rowsPerRequest } }, async (bed) => {
    const result = await bed.run('--json');
    if (result.code !== 0) throw new Error(`sync run (rows_per_request ${rowsPerRequest}) exited ${result.code}: ${result.stderr}`);
    return (JSON.parse(result.stdout) as SyncSummary).llm;
  });
}

async function batchRun(rowsPerRequest: number): Promise<number> {
  return withBed({ llm: { max_workers: 50, max_completion_tokens: 300, rows_per_request: rowsPerRequest } }, async (bed) => {
    const clock: Clock = {
      now: () => new Date(),
      sleep: async () => {
        for (const b of bed.llm.batches()) if (b.status === 'validating' || b.status === 'in_progress' || b.status === 'finalizing') await bed.llm.advanceBatch(b.id, 'completed');
      },
    };
    const result = await bed.cli(['run', '--config', bed.configPath, '--mode', 'batch', '--every', '1s'], { clock });
    if (result.code !== 0) throw new Error(`batch run exited ${result.code}: ${result.stderr}`);
    const price = priceOf('gpt-5-mini');
    if (!price) throw new Error('no price for gpt-5-mini');
    let total = 0;
    for (const b of bed.llm.batches()) {
      const u = b.usage;
      total += costOf({ promptTokens: u.input_tokens, completionTokens: u.output_tokens, cachedTokens: u.input_tokens_details.cached_tokens }, price, true);
    }
    return total;
  });
}

export async function costModes(): Promise<Figure[]> {
  const single = await syncRun(1);
  const packed = await syncRun(5);
  const batch = await batchRun(1);
  const batchPacked = await batchRun(5);
  const naive = single.naiveCostUsd;
  const perThousand = (usd: number) => (usd / ROWS) * 1000;
  const figure = (name: string, usd: number, note: string, target?: number): Figure => ({
    name: `B6 ${name}`,
    value: perThousand(usd),
    unit: '$/1000 rows',
    ideal: perThousand(naive),
    ...(target !== undefined ? { target } : {}),
    note: `ratio to naive; ${note}`,
  });
  return [
    figure('naive (one full-price uncached call per row)', naive, 'the baseline'),
    figure('cached prefix (sync, prompt caching)', single.costUsd, `${Math.round((single.cachedTokens / single.promptTokens) * 100)}% of prompt tokens cached`),
    figure('packed K=5 (sync)', packed.costUsd, `${Math.round((packed.cachedTokens / Math.max(1, packed.promptTokens)) * 100)}% of prompt tokens cached`),
    figure('batch (Batch API, half price)', batch, 'one row per line'),
    figure('batch + packed K=5 (best mode)', batchPacked, 'target: best mode ≤ 0.25 × naive', 0.25),
  ];
}
