import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/cache/index.js';
import { SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { largeAnswer, smallAnswer, twoModels } from '../support/openai-emulator/two-models.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const SMALL = 'gpt-5-nano';
const LARGE = 'gpt-5-mini';

/** Rows of every kind: clear ones, vague ones (tbd), short ones; each comment its own. */
function rowsOf(n: number): string[][] {
  return Array.from({ length: n }, (_, i) => {
    const kind = i % 3;
    const comment = kind === 0 ? `Shipped release ${i} to all customers; next the audit by Friday.` : kind === 1 ? `Item ${i}: tbd` : `Migration ${i} done, rollout of step ${i + 1} next week.`;
    return [`P-${String(i).padStart(4, '0')}`, 'In progress', comment, '2026-12-01'];
  });
}

interface CascadeJson {
  llm: {
    calls: number;
    cascade?: { small: string; large: string; threshold: number | null; bound: number; calibrationRows: number; calibratedNow: number; reviewerLabels: number; kept: number; escalated: number; costUsd: number | null; largeOnlyCostUsd: number | null; note: string };
  };
  rows: { asked: number };
}

const cascadeConfig = (patch: Record<string, unknown> = {}) => ({ llm: { cascade: { small: SMALL, large: LARGE, target_agreement: 0.9, confidence: 0.9, label_budget: 60, ...patch } }, report: { runs_sheet: 'Runs' } });

describe('llm.cascade', () => {
  it('calibrates on rows drawn at random, asks the small model first and the large one below the threshold, and says so', async () => {
    bed = await startBed({ rows: rowsOf(150), llm: { respond: twoModels({ small: SMALL, large: LARGE }) }, config: cascadeConfig() });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as CascadeJson;
    const c = summary.llm.cascade;
    expect(c).toBeDefined();
    if (!c) return;
    expect(c.calibratedNow).toBe(60);
    expect(c.calibrationRows).toBe(60);
    expect(c.threshold).not.toBeNull();
    expect(c.bound).toBeGreaterThanOrEqual(0.9);
    expect(c.kept + c.escalated).toBe(150 - 60);
    expect(c.kept).toBeGreaterThan(c.escalated);
    expect(c.costUsd).toBeLessThan(c.largeOnlyCostUsd ?? 0);

    // Every row asked of the small model once; the large one for the calibration rows and the escalated ones.
    const asked = (model: string) => bed?.llm.requests.filter((r) => r.model === model).map((r) => String(r.row?.comment ?? '')) ?? [];
    expect(new Set(asked(SMALL)).size).toBe(150);
    expect(asked(LARGE)).toHaveLength(60 + c.escalated);
    // The calibration rows are drawn at random, not the sheet's first 60.
    const first60 = new Set(rowsOf(60).map((r) => r[2] ?? ''));
    const calibrationLarge = asked(LARGE).filter((comment) => first60.has(comment));
    expect(calibrationLarge.length).toBeLessThan(60);
    // A row the small model was sure of is asked of the large one only to calibrate.
    const threshold = c.threshold ?? 1;
    const sure = rowsOf(150).filter((r) => (smallAnswer({ status: r[1] ?? '', comment: r[2] ?? '', completion_date: r[3] ?? '' }, undefined, { small: SMALL, large: LARGE }).confidence ?? 1) >= threshold);
    const largeAsked = new Set(asked(LARGE));
    const sureEscalated = sure.filter((r) => largeAsked.has(r[2] ?? '')).length;
    expect(sure.length - sureEscalated).toBe(c.kept);

    // The human summary, `runs` and the Runs tab say it too.
    const runs = await bed.cli(['runs', '--config', bed.configPath]);
    expect(runs.stdout).toContain(`cascade: ${c.kept} kept by ${SMALL}, ${c.escalated} escalated to ${LARGE}, 60 calibration rows`);
    const tab = bed.sheets.values(SPREADSHEET_ID, 'Runs');
    const header = tab[0] ?? [];
    const last = tab[tab.length - 1] ?? [];
    expect(last[header.indexOf('Cascade kept (small)')]).toBe(String(c.kept));
    expect(last[header.indexOf('Cascade escalated (large)')]).toBe(String(c.escalated));
    expect(last[header.indexOf('Cascade calibration rows')]).toBe('60');
    expect(Number(last[header.indexOf('Cascade cost / large-only')])).toBeLessThan(1);

    // A rerun asks nothing: every verdict is cached under the cascade's key, the calibration kept.
    const calls = bed.llm.callCount();
    const again = await bed.run('--json');
    expect(again.code, again.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(calls);
  });

  it('sends every row to the large model when no threshold meets the target, and says why', async () => {
    bed = await startBed({ rows: rowsOf(45), llm: { respond: twoModels({ small: SMALL, large: LARGE }) }, config: cascadeConfig({ target_agreement: 0.999, confidence: 0.99, label_budget: 30 }) });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    const c = (JSON.parse(result.stdout) as CascadeJson).llm.cascade;
    expect(c?.threshold).toBeNull();
    expect(c?.kept).toBe(0);
    expect(c?.escalated).toBe(15);
    expect(c?.note).toContain(`calibrated on 30 rows; every row went to ${LARGE}: no threshold on ${SMALL}'s confidence bounds its agreement at 0.999`);
    // Outside the calibration rows the small model is not asked at all.
    expect(bed.llm.requests.filter((r) => r.model === SMALL)).toHaveLength(30);
    const human = await bed.run('--force');
    expect(human.stdout).toContain('every row went to');
  });

  it('takes reviewers\' verdicts as labels, and calibrates again when they show the bound no longer holds', async () => {
    const rows = rowsOf(120);
    bed = await startBed({ rows, header: ['Project', 'Status', 'Comment', 'Due date', 'Reviewer'], llm: { respond: twoModels({ small: SMALL, large: LARGE }) }, config: { ...cascadeConfig({ label_budget: 40 }), review: { override_column: 'Reviewer' } } });
    const first = JSON.parse((await bed.run('--json')).stdout) as CascadeJson;
    const threshold = first.llm.cascade?.threshold;
    expect(threshold).not.toBeNull();
    // Reviewers contradict the small model on rows it was sure of: the bound at the old threshold falls.
    const values = bed.values();
    const reviewerCol = values[0]?.indexOf('Reviewer') ?? -1;
    let contradicted = 0;
    for (const [i, r] of rows.entries()) {
      const answer = smallAnswer({ status: r[1] ?? '', comment: r[2] ?? '', completion_date: r[3] ?? '' }, undefined, { small: SMALL, large: LARGE });
      if ((answer.confidence ?? 0) < (threshold ?? 1) || contradicted >= 12) continue;
      bed.sheets.setCell(SPREADSHEET_ID, TAB, i + 2, reviewerCol + 1, answer.is_valid ? 'INVALID the reviewer disagrees' : 'VALID the reviewer disagrees');
      contradicted++;
    }
    expect(contradicted).toBe(12);
    const second = JSON.parse((await bed.run('--json')).stdout) as CascadeJson;
    expect(second.llm.cascade?.reviewerLabels).toBe(12);
    // The same verdicts again: nothing new to learn, nothing asked.
    const calls = bed.llm.callCount();
    const third = JSON.parse((await bed.run('--json')).stdout) as CascadeJson;
    expect(third.llm.cascade?.note).toMatch(/^calibrated earlier|^the threshold calibrated earlier/);
    expect(bed.llm.callCount()).toBe(calls);
    expect(second.llm.cascade?.note).toContain("calibrated again: 12 reviewers' verdicts brought the agreement bound");
    // A higher threshold, or none at all (then every row goes to the large model).
    expect(second.llm.cascade?.threshold ?? 1).toBeGreaterThan(threshold ?? 0);
    const store = SqliteStore.open(`${bed.dir}/cache.sqlite`);
    try {
      const rowsStored = store.db.prepare('SELECT count(*) AS n FROM calibrations').get() as { n: number };
      expect(rowsStored.n).toBe(1);
    } finally {
      await store.close();
    }
  });
});

describe('llm.cascade in eval and estimate', () => {
  it('estimate puts the cascade beside large-only and small-only; eval gives each model\'s agreement with reviewers and the cascade\'s', async () => {
    const rows = rowsOf(90);
    bed = await startBed({ rows, header: ['Project', 'Status', 'Comment', 'Due date', 'Reviewer'], llm: { respond: twoModels({ small: SMALL, large: LARGE }) }, config: { ...cascadeConfig({ label_budget: 40 }), review: { override_column: 'Reviewer' } } });
    // Before any run: not calibrated, a range from "all kept" to "all escalated".
    const before = await bed.cli(['estimate', '--config', bed.configPath, '--json']);
    expect(before.code, before.stderr).toBe(0);
    const b = (JSON.parse(before.stdout) as { cascade: { smallOnlyUsd: number; largeOnlyUsd: number; cascadeUsd: number | null; cascadeRange: { low: number; high: number }; calibrationRows: number; note: string } }).cascade;
    expect(b.calibrationRows).toBe(40);
    expect(b.cascadeUsd).toBeNull();
    expect(b.smallOnlyUsd).toBeLessThan(b.largeOnlyUsd);
    expect(b.cascadeRange.low).toBeGreaterThan(b.smallOnlyUsd);
    expect(b.cascadeRange.high).toBeGreaterThan(b.largeOnlyUsd);
    expect(b.note).toContain('not calibrated yet');
    expect(bed.llm.callCount()).toBe(0);

    expect((await bed.run()).code).toBe(0);
    // After: the stored calibration prices the cascade; --force asks every row again.
    const after = await bed.cli(['estimate', '--config', bed.configPath, '--force']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/cascade \(gpt-5-nano first, then gpt-5-mini\)\s+\$\d/);
    expect(after.stdout).toMatch(/large-only \(gpt-5-mini\)\s+\$\d/);
    expect(after.stdout).toMatch(/small-only \(gpt-5-nano\)\s+\$\d/);
    expect(after.stdout).toContain('calibrated on 40 rows');

    // Reviewers agree with the large model on 10 rows: the large model agrees wherever it answered them.
    const values = bed.values();
    const reviewerCol = (values[0]?.indexOf('Reviewer') ?? -1) + 1;
    for (let i = 0; i < 10; i++) {
      const r = rows[i] ?? [];
      const truth = largeAnswer({ status: r[1] ?? '', comment: r[2] ?? '', completion_date: r[3] ?? '' }, undefined, { small: SMALL, large: LARGE });
      bed.sheets.setCell(SPREADSHEET_ID, TAB, i + 2, reviewerCol, truth.is_valid ? 'VALID' : 'INVALID');
    }
    const evaluated = await bed.cli(['eval', '--config', bed.configPath, '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const byModel = (JSON.parse(evaluated.stdout) as { byModel: Array<{ model: string; compared: number; agreed: number }> }).byModel;
    expect(byModel.map((m) => m.model)).toEqual([SMALL, LARGE, `cascade:${SMALL}>${LARGE}`]);
    expect(byModel[0]?.compared).toBe(10);
    const large = byModel[1];
    expect(large?.agreed).toBe(large?.compared);
    expect(byModel[2]?.compared).toBe(10);
    const text = await bed.cli(['eval', '--config', bed.configPath]);
    expect(text.stdout).toContain('Per model (llm.cascade');
  });
});

describe('llm.cascade with packed requests', () => {
  it('packs the small model\'s questions and the escalated ones alike, and every row gets a verdict', async () => {
    bed = await startBed({ rows: rowsOf(80), llm: { respond: twoModels({ small: SMALL, large: LARGE }) }, config: { ...cascadeConfig({ label_budget: 30 }), llm: { rows_per_request: 5, cascade: { small: SMALL, large: LARGE, target_agreement: 0.9, confidence: 0.9, label_budget: 30 } } } });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    const c = (JSON.parse(result.stdout) as CascadeJson).llm.cascade;
    expect((c?.kept ?? 0) + (c?.escalated ?? 0)).toBe(50);
    expect(c?.calibrationRows).toBe(30);
    const values = bed.values();
    const verdict = values[0]?.indexOf('Validation') ?? -1;
    expect(values.slice(1).every((r) => r[verdict] === 'VALID' || r[verdict] === 'INVALID')).toBe(true);
    // The rows outside the calibration went to the small model in packs (fewer requests than rows).
    const smallRequests = bed.llm.requests.filter((r) => r.model === SMALL).length;
    expect(smallRequests).toBeLessThan(30 + 50);
  });
});

describe('llm.cascade refused where it cannot work', () => {
  it('beside llm.routing (exit 2, naming both), and in batch mode (exit 2, saying why), before anything is asked', async () => {
    bed = await startBed({ rows: rowsOf(3), config: { llm: { cascade: { small: SMALL, large: LARGE }, routing: { small: SMALL, large: LARGE } } } });
    const both = await bed.run();
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('llm.cascade');
    expect(both.stderr).toContain('llm.routing and llm.cascade both choose the model each row is asked of: keep one');
    bed.setConfig({ llm: { routing: undefined } });
    const batch = await bed.run('--mode', 'batch');
    expect(batch.code).toBe(2);
    expect(batch.stderr).toContain('the Batch API asks one model per request, so a cascade runs in sync mode only');
    expect(batch.stderr).toContain('Run without --mode batch');
    expect(bed.llm.callCount()).toBe(0);
  });
});
