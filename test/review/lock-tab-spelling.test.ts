/**
 * Review of issue 14 (tabs told apart "case aside", as Sheets does: sameTab), invariant 8:
 * "two runs never work on one sheet at once". The config refuses two targets naming one
 * tab in two spellings, but the run lock is named by the exact spelling
 * (run-lock.ts lockNameOf: `${spreadsheet_id}/${sheet}`): two configs sharing a cache
 * (or a config edited between two runs) whose `sheet` differs only in case lock two
 * different names and work on the one tab at once.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { deepMerge, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

async function concurrentRuns(otherSpelling: string): Promise<number[]> {
  const b = await startBed({ rows: sampleRows(6), llm: { latencyMs: 200 }, config: { llm: { max_workers: 1 } } });
  bed = b;
  const other = path.join(b.dir, 'other.yaml');
  writeFileSync(other, stringify(deepMerge(b.config, { sheets: { sheet: otherSpelling } })));
  const results = await Promise.all([b.cli(['run', '--config', b.configPath]), b.cli(['run', '--config', other])]);
  return results.map((r) => r.code).sort();
}

describe('the run lock and the spelling of the tab', () => {
  it('control: two runs on the same spelling: one runs, the other exits 4', async () => {
    expect(await concurrentRuns('Statuses')).toEqual([0, 4]);
  });

  it('two runs on "Statuses" and "statuses" (one tab for Sheets): one runs, the other exits 4', async () => {
    expect(await concurrentRuns('statuses')).toEqual([0, 4]);
  });
});
