import { startBed, type Bed, type ConfigPatch } from '../test/support/bed.js';
import { twoModels } from '../test/support/openai-emulator/two-models.js';
import { RULES, realisticRow } from './cost.js';
import type { Figure } from './lib.js';

/**
 * B11 (issue 24): 1,000 rows through llm.cascade, the small model 10× cheaper per token than
 * the large one (the emulator's two error profiles, test/support/openai-emulator/two-models.ts).
 * The cascade's cost is compared with a run asking the large model about every row (the same
 * sheet, a fresh cache), and its verdicts with that run's, row by row: the agreement is exact,
 * not an estimate.
 */
const ROWS = 1000;
const SMALL = 'bench-small';
const LARGE = 'bench-large';
/** The large model's per-token prices are gpt-5-mini's; the small model's a tenth of them. */
const PRICING = {
  [LARGE]: { input: 0.25, cached_input: 0.025, output: 2 },
  [SMALL]: { input: 0.025, cached_input: 0.0025, output: 0.2 },
};
const LABEL_BUDGET = 150;

interface CascadeSummary {
  llm: {
    costUsd: number;
    cascade?: { threshold: number | null; bound: number; kept: number; escalated: number; calibrationRows: number; costUsd: number | null; largeOnlyCostUsd: number | null; note: string };
  };
}

async function withBed<T>(config: ConfigPatch, fn: (bed: Bed) => Promise<T>): Promise<T> {
  const bed = await startBed({
    rows: Array.from({ length: ROWS }, (_, i) => realisticRow(i)),
    config: { rules: { text: RULES }, pricing: PRICING, sheets: { read_quota_per_minute: 6000, write_quota_per_minute: 6000 }, ...config },
    llm: { respond: twoModels({ small: SMALL, large: LARGE }) },
  });
  try {
    return await fn(bed);
  } finally {
    await bed.close();
  }
}

/** Each row's verdict cell, by project id. */
function verdicts(bed: Bed): Map<string, string> {
  const [header = [], ...rows] = bed.values();
  const id = header.indexOf('Project');
  const verdict = header.indexOf('Validation');
  return new Map(rows.map((r) => [r[id] ?? '', r[verdict] ?? '']));
}

async function cascadeThenLarge(target: number): Promise<{ summary: CascadeSummary['llm']; largeOnlyUsd: number; agreement: number }> {
  return withBed({ llm: { max_workers: 50, max_completion_tokens: 300, cascade: { small: SMALL, large: LARGE, target_agreement: target, confidence: 0.95, label_budget: LABEL_BUDGET } } }, async (bed) => {
    // The large model is the first provider's own: the large-only run asks it.
    bed.setConfig({ llm: { providers: [{ name: 'emulator', model: LARGE, base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const cascaded = await bed.run('--json');
    if (cascaded.code !== 0) throw new Error(`cascade run exited ${cascaded.code}: ${cascaded.stderr}`);
    const summary = (JSON.parse(cascaded.stdout) as CascadeSummary).llm;
    const byCascade = verdicts(bed);
    // The reference: the large model asked about every row, nothing taken from the cascade's cache.
    bed.setConfig({ llm: { cascade: undefined }, cache: { path: `${bed.dir}/large-only.sqlite` } });
    const large = await bed.run('--json', '--force');
    if (large.code !== 0) throw new Error(`large-only run exited ${large.code}: ${large.stderr}`);
    const largeOnlyUsd = (JSON.parse(large.stdout) as CascadeSummary).llm.costUsd;
    const byLarge = verdicts(bed);
    let same = 0;
    for (const [id, verdict] of byLarge) if (byCascade.get(id) === verdict) same++;
    return { summary, largeOnlyUsd, agreement: same / byLarge.size };
  });
}

export async function cascadeCost(): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const target of [0.95, 0.99]) {
    const { summary, largeOnlyUsd, agreement } = await cascadeThenLarge(target);
    const c = summary.cascade;
    if (!c) throw new Error('the cascade run reported no cascade');
    const how = `threshold ${c.threshold === null ? 'none' : c.threshold.toFixed(3)}, bound ${c.bound.toFixed(3)}; ${c.kept} kept by the small model, ${c.escalated} escalated, ${c.calibrationRows} calibration rows (asked of both); $${summary.costUsd.toFixed(4)} against $${largeOnlyUsd.toFixed(4)} large-only`;
    figures.push(
      { name: `B11 cascade cost / large-only at target ${target}`, value: summary.costUsd / largeOnlyUsd, unit: '×', ...(target === 0.95 ? { limit: 0.4 } : {}), note: how },
      { name: `B11 rows disagreeing with the large model at target ${target}`, value: 1 - agreement, unit: 'share', ...(target === 0.95 ? { limit: 0.05 } : {}), note: `agreement ${(agreement * 100).toFixed(1)}% over all ${ROWS} rows, measured against a run asking the large model about every row` },
    );
  }
  return figures;
}
