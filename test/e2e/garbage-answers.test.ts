/**
 * Issue 11, item 4: any answer costs at most its own row. The emulator answers garbage
 * (null, bare numbers, results that are not rows, random JSON and text) for some rows;
 * every other row ends with its right verdict, in single, packed and Batch API modes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { cachedVerdicts, expectedCells } from '../support/inspect.js';
import { messageText, type ChatRequest } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';
import { finishingClock } from '../support/virtual-clock.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const mentions = (req: Pick<ChatRequest, 'messages'>, ref: string) => req.messages.some((m) => messageText(m).includes(`(ref ${ref})`));
const cacheOf = (b: Bed) => String((b.config.cache as { path: string }).path);

/** The rows named show ERROR; every other row shows the verdict and rewrite the model gives it. */
function expectRows(b: Bed, rows: string[][], errorIds: readonly string[]): void {
  const values = b.values();
  const verdict = col(values, 'Validation');
  const suggestion = col(values, 'Suggested rewrite');
  rows.forEach((row, i) => {
    const cells = values[i + 1] ?? [];
    if (errorIds.includes(row[0] ?? '')) expect(cells[verdict], row[0]).toBe('ERROR');
    else expect({ verdict: cells[verdict], suggestion: cells[suggestion] }, row[0]).toEqual(expectedCells(row));
  });
}

describe('garbage answers', () => {
  it('one row answered garbage every time ends ERROR with the reason; every other row gets its right verdict', async () => {
    const rows = sampleRows(8);
    bed = await startBed({ rows, config: { llm: { max_retries: 3 } } });
    bed.llm.injectFault({ kind: 'garbage' }, { times: Infinity, match: (_row, req) => mentions(req, 'PRJ-0003') });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(3);
    expectRows(bed, rows, ['PRJ-0003']);
    const summary = JSON.parse(result.stdout) as { errors: Array<{ id: string; reason: string }> };
    expect(summary.errors.map((e) => e.id)).toEqual(['PRJ-0003']);
    expect(summary.errors[0]?.reason).toMatch(/gave up after 3 retries/);
    expect(bed.llm.requests.filter((r) => r.fault === 'garbage')).toHaveLength(4);
    expect(cachedVerdicts(cacheOf(bed))).toHaveLength(7);
  });

  it('a packed request answered garbage is asked again, then row by row: only the garbage row is lost', async () => {
    const rows = sampleRows(10);
    bed = await startBed({ rows, config: { llm: { rows_per_request: 5, max_retries: 2 } } });
    // Every request that holds PRJ-0003 (its packed request, then the row alone) gets garbage.
    bed.llm.injectFault({ kind: 'garbage' }, { times: Infinity, match: (_row, req) => mentions(req, 'PRJ-0003') });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(3);
    expectRows(bed, rows, ['PRJ-0003']);
    // The other packed request answered 5 rows at once; the garbage one was retried, then split.
    const packed = bed.llm.requests.filter((r) => r.path === '/v1/chat/completions' && JSON.stringify(r.body).includes('Rows to validate'));
    expect(packed.filter((r) => r.fault !== 'garbage')).toHaveLength(1);
    expect(packed.filter((r) => r.fault === 'garbage')).toHaveLength(3);
  });

  it('answers garbage for many rows at once, past the nasty values into random JSON and text, and still runs to the end, every other row right', async () => {
    const rows = sampleRows(30);
    const bad = ['PRJ-0002', 'PRJ-0009', 'PRJ-0015', 'PRJ-0021', 'PRJ-0030'];
    // 1 + 14 attempts per bad row: the 10 nasty values, then 5 seeded random ones.
    bed = await startBed({ rows, config: { llm: { max_workers: 6, max_retries: 14 } } });
    for (const [i, ref] of bad.entries()) bed.llm.injectFault({ kind: 'garbage', seed: 100 * i }, { times: Infinity, match: (_row, req) => mentions(req, ref) });
    const result = await bed.run();
    expect(result.code, result.stderr).toBe(3);
    expectRows(bed, rows, bad);
    expect(bed.llm.requests.filter((r) => r.fault === 'garbage')).toHaveLength(5 * 15);
  });
});

describe('garbage in Batch API results', () => {
  it('a packed batch line answered null fails only its rows; the job is applied, and the next run asks only those rows', async () => {
    const rows = sampleRows(10);
    bed = await startBed({ rows, config: { llm: { rows_per_request: 5 } } });
    bed.llm.injectBatchLineFault({ kind: 'garbage' }, { times: 1, match: (line) => mentions(line.body, 'PRJ-0003') });
    const result = await bed.cli(['run', '--config', bed.configPath, '--mode', 'batch', '--every', '1s'], { clock: finishingClock(bed) });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout).toContain('5 answers saved, 5 failed');
    expect(result.stdout).toContain('the answer has no "results" array');
    expect(cachedVerdicts(cacheOf(bed))).toHaveLength(5);
    // The job is done with: its failed rows are not "pending" for ever.
    expect((await bed.cli(['batch', 'list', '--config', bed.configPath])).stdout).toMatch(/applied \d{4}-/);

    const again = await bed.run();
    expect(again.code, again.stderr).toBe(0);
    // One packed request for the five rows the garbage line failed, nothing for the others.
    expect(bed.llm.callCount()).toBe(1);
    expectRows(bed, rows, []);
  });

  it('a single-row batch line answered garbage fails that row only', async () => {
    const rows = sampleRows(4);
    bed = await startBed({ rows });
    bed.llm.injectBatchLineFault({ kind: 'content', content: '{"results":[null]}' }, { times: 1, match: (line) => mentions(line.body, 'PRJ-0002') });
    const result = await bed.cli(['run', '--config', bed.configPath, '--mode', 'batch', '--every', '1s'], { clock: finishingClock(bed) });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout).toContain('3 answers saved, 1 failed');
    expect(result.stdout).toMatch(/did not match the schema/);
  });
});
