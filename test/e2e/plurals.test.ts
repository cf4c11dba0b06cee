/** Counts of one read "1 call", "1 line of rules": what a person sees after a small run. */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('counts of one', () => {
  it('say "1 row written in 1 call", "1 LLM call", "1 allowed status and 1 line of rules"', async () => {
    bed = await startBed({ rows: sampleRows(1), llm: { latencyMs: 1 }, config: { rules: { allowed_statuses: ['Planned'], text: 'Say what is next.' } } });
    const run = await bed.run();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/sheet\s+1 row written in 1 call\b/);
    expect(run.stdout).toMatch(/LLM calls\s+1 \(0 retries\)/);
    expect(run.stdout).not.toMatch(/\b1 (rows|calls|retries)\b/);
    const checked = await bed.cli(['check-config', '--config', bed.configPath]);
    expect(checked.stdout).toContain(': OK (1 provider, tab "Statuses")');
    const published = await bed.cli(['rules', 'publish', '--config', bed.configPath]);
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout).toContain('Published 1 allowed status and 1 line of rules to the "Rules" tab');
  });
});
