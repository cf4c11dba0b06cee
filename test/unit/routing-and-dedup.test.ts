import { describe, expect, it } from 'vitest';
import { groupNearDuplicates } from '../../src/dedup/index.js';
import { complexity, routeModel } from '../../src/llm/routing.js';

const row = (comment: string, status = 'Done', completion_date = '') => ({ status, comment, completion_date });

describe('complexity', () => {
  it('grows with length, dates and parts, and stays within 0..1', () => {
    const simple = complexity(row('Shipped it.'));
    const dated = complexity(row('Shipped on 2026-11-02; review on 2026-11-09; cut-over on 2026-11-30.'));
    const long = complexity(row('x '.repeat(2000)));
    expect(simple).toBeLessThan(dated);
    expect(dated).toBeGreaterThan(0.3);
    expect(long).toBeGreaterThanOrEqual(0.5);
    for (const c of [simple, dated, long]) expect(c).toBeLessThanOrEqual(1);
  });

  it('routes by the threshold', () => {
    const routing = { small: 's', large: 'l', threshold: 0.2 };
    expect(routeModel(row('ok'), routing)).toBe('s');
    expect(routeModel(row('Shipped on 2026-11-02; review on 2026-11-09; cut-over on 2026-11-30.'), routing)).toBe('l');
  });
});

describe('groupNearDuplicates', () => {
  it('groups comments above the threshold within the same status and date only', () => {
    const items = [
      row('Shipped the invoicing flow to all EU customers; finance validates by Friday'),
      row('Shipped the invoicing flow to all EU customers, finance validates by Friday.'),
      row('Shipped the invoicing flow to all EU customers; finance validates by Friday', 'Planned'),
      row('Shipped the invoicing flow to all EU customers; finance validates by Friday', 'Done', '2026-12-01'),
      row('Hired two engineers; onboarding plan approved'),
    ];
    const { groups } = groupNearDuplicates(items, (x) => x, { threshold: 90 });
    expect(groups).toHaveLength(4);
    expect(groups[0]?.followers.map((f) => f.item)).toEqual([items[1]]);
    expect(groups[0]?.followers[0]?.similarity).toBeGreaterThanOrEqual(90);
  });

  it('keeps different comments apart at a high threshold', () => {
    const { groups } = groupNearDuplicates([row('Shipped the API to production'), row('Shipped the API to staging only, production next week')], (x) => x, { threshold: 95 });
    expect(groups.every((g) => g.followers.length === 0)).toBe(true);
  });

  it('stops comparing past maxPairs and says so', () => {
    const items = Array.from({ length: 50 }, (_, i) => row(`comment number ${i} about something`));
    const result = groupNearDuplicates(items, (x) => x, { threshold: 99, maxPairs: 100 });
    expect(result.truncated).toBe(true);
    expect(result.pairsCompared).toBe(100);
  });
});
