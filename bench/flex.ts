import { startBed, type Bed } from '../test/support/bed.js';
import { seededRandom } from '../test/support/inspect.js';
import { RULES, realisticRow } from './cost.js';
import type { Figure } from './lib.js';

/**
 * B12 (issue 24): 1,000 rows at service_tier flex while the provider refuses 30 % of flex
 * requests for capacity (OpenAI's 429 "Resource Unavailable", unbilled:
 * https://platform.openai.com/docs/guides/flex-processing). The same sheet at the default tier,
 * a fresh cache, is the reference. Goal: the flex run costs about half (refused requests are
 * retried, then sent at auto and billed at the standard price), and no row ends in ERROR.
 */
const ROWS = 1000;
const REFUSED_SHARE = 0.3;

interface FlexSummary {
  verdicts: { error: number };
  llm: { costUsd: number | null; calls: number; flex?: { requests: number; capacityRefusals: number; fellBack: number } };
}

async function runAt(tier: 'flex' | 'default', refuse: boolean): Promise<FlexSummary> {
  const bed: Bed = await startBed({
    rows: Array.from({ length: ROWS }, (_, i) => realisticRow(i)),
    config: { rules: { text: RULES }, llm: { max_workers: 50 }, sheets: { read_quota_per_minute: 6000, write_quota_per_minute: 6000 } },
  });
  try {
    bed.setConfig({ llm: { providers: [{ name: 'openai', kind: 'openai', model: 'gpt-5-mini', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY', service_tier: tier }] } });
    // Each flex request is refused with probability REFUSED_SHARE (the emulator answers only flex requests with it).
    const random = seededRandom(12);
    if (refuse) bed.llm.injectFault({ kind: 'flex_unavailable' }, { times: Infinity, match: () => random() < REFUSED_SHARE });
    const result = await bed.run('--json');
    if (result.code !== 0 && result.code !== 3) throw new Error(`the ${tier} run exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as FlexSummary;
  } finally {
    await bed.close();
  }
}

export async function flexCost(): Promise<Figure[]> {
  const standard = await runAt('default', false);
  const flex = await runAt('flex', true);
  const counts = flex.llm.flex ?? { requests: 0, capacityRefusals: 0, fellBack: 0 };
  const ratio = (flex.llm.costUsd ?? NaN) / (standard.llm.costUsd ?? NaN);
  return [
    {
      name: 'B12 flex cost / default tier, 30 % of flex requests refused',
      value: ratio,
      unit: '×',
      ideal: 0.5,
      target: 1.2,
      note: `$${(flex.llm.costUsd ?? NaN).toFixed(4)} against $${(standard.llm.costUsd ?? NaN).toFixed(4)}; ${counts.requests} requests sent at flex, ${counts.capacityRefusals} capacity refusals (not billed), ${counts.fellBack} questions sent again at auto`,
    },
    { name: 'B12 rows in ERROR with flex refusals', value: flex.verdicts.error, unit: 'rows', limit: 0 },
  ];
}
