// Issue 18, "also seen": a retried values.append for the Runs tab could duplicate a row.
import { afterEach, describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const runsAppend = (c: { op: string; range?: string }) => c.op === 'values.append' && (c.range ?? '').includes('Runs');

async function runWithRunsTab(fault: { status: number; afterServe?: boolean }) {
  bed = await startBed({ rows: sampleRows(2), config: { report: { runs_sheet: 'Runs' } } });
  // The first run makes the Runs tab; the second's append is the one that goes wrong.
  expect((await bed.run()).code).toBe(0);
  bed.sheets.injectFault(fault, { kind: 'write', times: 1, match: runsAppend });
  const result = await bed.run('--json');
  expect(result.code).toBe(0);
  const runs = bed.sheets.values(SPREADSHEET_ID, 'Runs');
  const ids = runs.slice(1).map((r) => r[col(runs, 'Run id')] ?? '');
  return { result, ids, appends: bed.sheets.calls.filter(runsAppend).length };
}

describe('the Runs tab gets one row per run, whatever the network does', () => {
  it('an append applied whose answer was lost (503 after the rows went in) is not made again', async () => {
    const { result, ids, appends } = await runWithRunsTab({ status: 503, afterServe: true });
    const runId = (JSON.parse(result.stdout) as { runId: string }).runId;
    expect(ids.filter((id) => id === runId)).toHaveLength(1);
    expect(ids).toHaveLength(2);
    expect(appends).toBe(2); // the first run's, and this run's once: the retry found its row
  });

  it('an append that failed before going in is retried, and lands once', async () => {
    const { result, ids } = await runWithRunsTab({ status: 503 });
    const runId = (JSON.parse(result.stdout) as { runId: string }).runId;
    expect(ids.filter((id) => id === runId)).toHaveLength(1);
    expect(ids).toHaveLength(2);
  });
});
