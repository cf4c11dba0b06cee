/**
 * Issue 11, item 8: rows_per_request × max_completion_tokens must fit the model's output
 * cap, or every packed request is refused (400 "max_tokens is too large") and quietly falls
 * back to one row a call. The run and `estimate` use the rows that fit, and say so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const chats = (b: Bed) => b.llm.requests.filter((r) => r.path === '/v1/chat/completions');
const provider = (b: Bed, patch: Record<string, unknown>) => ({ name: 'emulator', base_url: b.llm.url, api_key_env: 'TEST_OPENAI_KEY', ...patch });

function expectAnswered(b: Bed, rows: string[][]): void {
  const values = b.values();
  rows.forEach((row, i) => {
    const cells = values[i + 1] ?? [];
    expect({ verdict: cells[col(values, 'Validation')], suggestion: cells[col(values, 'Suggested rewrite')] }, row[0]).toEqual(expectedCells(row));
  });
}

interface Summary {
  warnings: string[];
}

interface Estimate {
  packing: { requested: number; rows: number; cappedBy?: { model: string; cap: number }; note?: string };
  modes: Array<{ mode: string; requests: number }>;
}

describe('packing within the model output cap', () => {
  it("packs only as many rows as gpt-4o's 16,384-token cap holds, with no refused request, and says so", async () => {
    const rows = sampleRows(20);
    bed = await startBed({ rows, config: { llm: { rows_per_request: 20, max_completion_tokens: 1000 } } });
    bed.setConfig({ llm: { providers: [provider(bed, { model: 'gpt-4o' })] } });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(chats(bed).map((r) => r.status)).toEqual([200, 200]);
    expect(chats(bed).map((r) => (r.body as { max_completion_tokens: number }).max_completion_tokens).sort((a, b) => a - b)).toEqual([4000, 16000]);
    expectAnswered(bed, rows);
    const warning = (JSON.parse(result.stdout) as Summary).warnings.find((w) => w.includes('rows_per_request'));
    expect(warning).toMatch(/llm\.rows_per_request 20 × max_completion_tokens 1000 is above gpt-4o's output cap of 16,384 tokens: packing 16 rows per request instead/);
  });

  it('estimate promises only the packing the run will do, and says it is capped', async () => {
    const rows = sampleRows(20);
    bed = await startBed({ rows, config: { llm: { rows_per_request: 20, max_completion_tokens: 1000 } } });
    bed.setConfig({ llm: { providers: [provider(bed, { model: 'gpt-4o-2024-08-06' })] } });
    const json = await bed.cli(['estimate', '--config', bed.configPath, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const estimate = JSON.parse(json.stdout) as Estimate;
    expect(estimate.packing).toMatchObject({ requested: 20, rows: 16, cappedBy: { model: 'gpt-4o-2024-08-06', cap: 16_384 } });
    expect(estimate.modes.find((m) => m.mode.startsWith('packed'))).toMatchObject({ mode: 'packed (16 rows per request)', requests: 2 });
    const text = await bed.cli(['estimate', '--config', bed.configPath]);
    expect(text.stdout).toMatch(/Packing is capped: .*packing 16 rows per request instead/);
  });

  it('takes the cap of a model it does not know from llm.providers[].max_output_tokens', async () => {
    const rows = sampleRows(10);
    bed = await startBed({ rows, llm: { outputCaps: { 'acme-large': 4000 } }, config: { llm: { rows_per_request: 10, max_completion_tokens: 1000 } } });
    bed.setConfig({ llm: { providers: [provider(bed, { model: 'acme-large', max_output_tokens: 4000 })] } });
    const result = await bed.run();
    expect(result.code, result.stderr).toBe(0);
    expect(chats(bed).map((r) => r.status)).toEqual([200, 200, 200]);
    expectAnswered(bed, rows);
  });

  it('never asks for more answer tokens than the cap, even for one row', async () => {
    const rows = sampleRows(3);
    bed = await startBed({ rows, config: { llm: { max_completion_tokens: 20_000 } } });
    bed.setConfig({ llm: { providers: [provider(bed, { model: 'gpt-4o-mini' })] } });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(chats(bed).map((r) => (r.body as { max_completion_tokens: number }).max_completion_tokens)).toEqual([16_384, 16_384, 16_384]);
    expect((JSON.parse(result.stdout) as Summary).warnings.join('\n')).toMatch(/max_completion_tokens \(20000\) is above gpt-4o-mini's output cap of 16,384 tokens/);
  });

  it('says what max_output_tokens must be when it is not a whole number', async () => {
    bed = await startBed({ rows: sampleRows(1) });
    bed.setConfig({ llm: { providers: [provider(bed, { model: 'acme-large', max_output_tokens: 'lots' })] } });
    const result = await bed.run();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/llm\.providers\[0\]\.max_output_tokens: expected the model's max output tokens per request/);
  });
});
