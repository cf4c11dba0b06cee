/**
 * Issue 25 item 4: a worker asks its next question while its last answer is still being
 * committed (a sync of the disk, a database's round trip), instead of adding every commit's
 * wait to its turn; answers waiting for their commit stay bounded by max_workers, and each
 * verdict is still committed before its row is written (invariant 2).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type CachedVerdict, type Store } from '../../src/cache/index.js';
import { loadConfig, loadSecrets } from '../../src/config/index.js';
import { runValidation } from '../../src/pipeline/index.js';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

describe('answers being committed', () => {
  let bed: Bed | undefined;
  const stores: Store[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await bed?.close();
    bed = undefined;
  });

  it('do not hold the worker back: its next question leaves, at most max_workers answers wait for their commit, and every row gets its verdict once committed', async () => {
    bed = await startBed({ rows: sampleRows(4), config: { llm: { max_workers: 1 } } });
    const config = loadConfig(bed.configPath, bed.env);
    const { secrets } = loadSecrets(config, bed.env);
    const real = await openStore(config.cache);
    stores.push(real);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const started: string[] = [];
    // The real store, whose commits wait until the test lets them through (a slow disk or database).
    const slow = Object.assign(Object.create(real) as Store, {
      put: async (verdict: CachedVerdict) => {
        started.push(verdict.key);
        await gate;
        await real.put(verdict);
      },
    });
    const run = runValidation(config, secrets, { store: slow });

    // Without the overlap the one worker would wait for its first commit: the second question would never leave.
    await bed.llm.waitForCalls(2);
    await waitUntil(() => started.length === 2);
    // Two answers wait for their commit (max_workers 1, and the one whose worker went on): the worker holds.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bed.llm.callCount()).toBe(2);
    expect(await real.count()).toBe(0);
    // Nothing is shown before it is committed.
    const values = bed.sheets.values(SPREADSHEET_ID, TAB);
    const verdictColumn = values[0]?.indexOf('Validation') ?? -1;
    expect(verdictColumn === -1 || values.slice(1).every((row) => (row[verdictColumn] ?? '') === '')).toBe(true);

    open();
    const summary = await run;
    expect(summary.status).toBe('completed');
    expect(bed.llm.callCount()).toBe(4);
    expect(await real.count()).toBe(4);
    const written = bed.values();
    const verdict = col(written, 'Validation');
    expect(written.slice(1).map((row) => row[verdict])).toEqual(expect.arrayContaining([expect.stringMatching(/^(VALID|INVALID)$/)]));
    expect(written.slice(1).every((row) => row[verdict] === 'VALID' || row[verdict] === 'INVALID')).toBe(true);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}
