import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const SHORT = ['A-1', 'Done', 'Shipped the importer and closed the epic.', '2026-12-01'];
const LONG = [
  'A-2',
  'In progress',
  `Finished the data migration on 2026-11-02 and the load test on 2026-11-09; next: the cut-over rehearsal on 2026-11-30. ${'Risks are listed in the plan; budget at 95 percent. '.repeat(8)}`,
  '2026-12-15',
];

interface Summary {
  llm: { routing: Record<string, number> };
  rows: { fuzzyShared: number };
}

describe('routing', () => {
  it('sends simple rows to the small model and complex ones to the large, and reports the split', async () => {
    bed = await startBed({ rows: [SHORT, LONG], config: { llm: { routing: { small: 'gpt-5-nano', large: 'gpt-5-mini' } } } });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    const models = new Map(bed.llm.requests.map((r) => [String(r.row?.comment ?? ''), r.model]));
    expect(models.get(SHORT[2] ?? '')).toBe('gpt-5-nano');
    expect(models.get((LONG[2] ?? '').trim())).toBe('gpt-5-mini');
    expect((JSON.parse(result.stdout) as Summary).llm.routing).toEqual({ 'gpt-5-nano': 1, 'gpt-5-mini': 1 });
    const values = bed.values();
    expect(values.slice(1).map((r) => r[col(values, 'Model')])).toEqual(['gpt-5-nano', 'gpt-5-mini']);
    // Cached under the routed model: nothing to ask the second time.
    await bed.run();
    expect(bed.llm.callCount()).toBe(2);
  });
});

describe('fuzzy de-duplication', () => {
  const near = [
    ['B-1', 'Done', 'Shipped the new invoicing flow to all EU customers; finance validates the first month by Friday.', ''],
    ['B-2', 'Done', 'Shipped the new invoicing flow to all EU customers, finance validates the first month by Friday', ''],
    ['B-3', 'Planned', 'Shipped the new invoicing flow to all EU customers; finance validates the first month by Friday.', ''],
    ['B-4', 'Done', 'Hired two engineers for the platform team; onboarding plan approved by the leads.', ''],
  ];

  it('is off by default: every distinct comment is its own question', async () => {
    bed = await startBed({ rows: near });
    await bed.run();
    expect(bed.llm.callCount()).toBe(4);
  });

  it('lets near-duplicates with the same status and date share one answer, and says so', async () => {
    bed = await startBed({ rows: near, config: { dedup: { fuzzy_threshold: 85 } } });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    expect(bed.llm.callCount()).toBe(3);
    expect((JSON.parse(result.stdout) as Summary).rows.fuzzyShared).toBe(1);
    const values = bed.values();
    const b2 = values[2] ?? [];
    expect(b2[col(values, 'Validation')]).toBe(values[1]?.[col(values, 'Validation')]);
    expect(b2[col(values, 'Issues')]).toMatch(/Verdict shared with a \d+% similar comment/);
    expect(b2[col(values, 'Suggested rewrite')]).toBe('');
    await bed.run();
    expect(bed.llm.callCount()).toBe(3);
  });
});
