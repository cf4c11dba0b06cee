import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SqliteStore } from '../../src/cache/index.js';
import { parseConfig } from '../../src/config/index.js';
import { calibrationScope, drawSample, seededRandom, storedCalibration } from '../../src/pipeline/cascade/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sv-cascade-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (patch: Record<string, unknown> = {}) =>
  parseConfig(
    stringify({
      sheets: { spreadsheet_id: '1AbC', sheet: 'Statuses' },
      columns: { status: 'Status', comment: 'Comment' },
      rules: { allowed_statuses: ['Done'], text: 'Say what is next.', ...patch },
      llm: { providers: [{ name: 'p', model: 'gpt-5-mini' }], cascade: { small: 'gpt-5-nano', large: 'gpt-5-mini' } },
    }),
    '/tmp/config.yaml',
    {},
  );

describe('the calibration draw', () => {
  it('is random (not the first rows), without repeats, and the same for the same seed', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => i);
    const a = drawSample(rows, 100, seededRandom('scope-1'));
    expect(a).toHaveLength(100);
    expect(new Set(a).size).toBe(100);
    expect(a).not.toEqual(rows.slice(0, 100));
    expect(drawSample(rows, 100, seededRandom('scope-1'))).toEqual(a);
    expect(drawSample(rows, 100, seededRandom('scope-2'))).not.toEqual(a);
    // Spread over the sheet: some from each half.
    expect(a.filter((i) => i < 500).length).toBeGreaterThan(20);
    expect(a.filter((i) => i >= 500).length).toBeGreaterThan(20);
    expect(drawSample(rows.slice(0, 5), 100, seededRandom('x')).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4]);
  });

  it('has a scope that changes with the rules, the models and the target', () => {
    const base = config();
    const cascade = base.llm.cascade;
    if (!cascade) throw new Error('no cascade');
    const scope = calibrationScope(base, cascade);
    expect(calibrationScope(config({ text: 'Other rules.' }), cascade)).not.toBe(scope);
    expect(calibrationScope(base, { ...cascade, small: 'gpt-5-micro' })).not.toBe(scope);
    expect(calibrationScope(base, { ...cascade, target_agreement: 0.9 })).not.toBe(scope);
    expect(calibrationScope(base, { ...cascade })).toBe(scope);
  });

  it('reads any stored record (a hand edit, a damaged dump) without throwing: a bad one counts as not calibrated', async () => {
    const store = SqliteStore.open(path.join(dir, 'cache.sqlite'));
    const base = config();
    const cascade = base.llm.cascade;
    if (!cascade) throw new Error('no cascade');
    const scope = calibrationScope(base, cascade);
    try {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), async (record) => {
          await store.calibrations.put(scope, record, '2026-12-01T00:00:00.000Z');
          const read = await storedCalibration(store, base, cascade);
          if (read !== undefined) {
            expect(read.escalated).toBeGreaterThanOrEqual(0);
            expect(read.escalated).toBeLessThanOrEqual(1);
          }
        }),
        { numRuns: 200 },
      );
      await store.calibrations.put(scope, { version: 1, threshold: 0.8, bound: 0.96, samples: [{ key: 'a', confidence: 0.9, agrees: true, by: 'large' }, { key: 'b', confidence: 0.5, agrees: false, by: 'reviewer' }] }, '2026-12-01T00:00:00.000Z');
      expect(await storedCalibration(store, base, cascade)).toEqual({ rows: 2, threshold: 0.8, escalated: 0.5 });
    } finally {
      await store.close();
    }
  });
});
