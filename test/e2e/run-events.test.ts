/**
 * RunOptions.onEvent (issue 21): a listener hears a real run's events as the Tally does,
 * and what it hears adds up to the summary the Tally built; one that throws (a broken
 * metrics listener) fails nothing (invariant 12).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, loadSecrets } from '../../src/config/index.js';
import { runValidation } from '../../src/pipeline/index.js';
import type { RunEvent } from '../../src/pipeline/events.js';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

describe('RunOptions.onEvent', () => {
  let bed: Bed | undefined;
  afterEach(async () => {
    await bed?.close();
    bed = undefined;
  });

  it("hears a real run's events, which add up to its summary; a listener that throws fails nothing", async () => {
    bed = await startBed({ rows: sampleRows(6) });
    bed.llm.injectFault({ kind: 'status', status: 500 }, { times: 1 });
    const config = loadConfig(bed.configPath, bed.env);
    const { secrets } = loadSecrets(config, bed.env);
    const heard: RunEvent[] = [];
    const summary = await runValidation(config, secrets, {
      onEvent: (e) => {
        heard.push(e);
        throw new Error('a broken metrics listener');
      },
    });
    expect(summary.status).toBe('completed');
    const asked = heard.filter((e) => e.type === 'asked');
    expect(asked.length).toBe(summary.llm.calls);
    expect(asked.every((e) => e.provider === 'emulator')).toBe(true);
    expect(heard.filter((e) => e.type === 'retried').length).toBe(summary.llm.retries);
    expect(summary.llm.retries).toBe(1);
    const committed = heard.flatMap((e) => (e.type === 'committed' ? [e.rows] : [])).reduce((a, b) => a + b, 0);
    expect(committed).toBe(summary.verdicts.valid + summary.verdicts.invalid);
    expect(heard.findLast((e) => e.type === 'written')).toMatchObject({ stats: { rowsWritten: summary.writes.rowsWritten } });
    expect(summary.writes.rowsWritten).toBe(6);
  });
});
