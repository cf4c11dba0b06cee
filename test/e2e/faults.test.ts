import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface Summary {
  status: string;
  llm: { calls: number; retries: number };
  verdicts: { valid: number; invalid: number; error: number };
  errors: Array<{ row: number; reason: string }>;
}

const summaryOf = (stdout: string) => JSON.parse(stdout) as Summary;

describe('LLM faults', () => {
  it('retries 429 with retry-after, 500s and malformed answers, and still answers every row', async () => {
    bed = await startBed({ rows: sampleRows(12) });
    bed.llm.injectFault({ kind: 'rate_limit', retryAfterMs: 150 }, { times: 2 });
    bed.llm.injectFault({ kind: 'status', status: 500 }, { times: 2 });
    bed.llm.injectFault({ kind: 'malformed' }, { times: 1 });
    bed.llm.injectFault({ kind: 'wrong_types' }, { times: 1 });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    const summary = summaryOf(result.stdout);
    expect(summary.verdicts.valid + summary.verdicts.invalid).toBe(12);
    expect(summary.verdicts.error).toBe(0);
    expect(summary.llm.retries).toBe(6);
    expect(summary.llm.calls).toBe(18);
  });

  it('waits out a 429 in one shared cool-down instead of every worker hammering', async () => {
    bed = await startBed({ rows: sampleRows(10), config: { llm: { max_workers: 5 } } });
    bed.llm.injectFault({ kind: 'rate_limit', retryAfterMs: 400 }, { times: 1 });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    const limited = bed.llm.requests.find((r) => r.fault?.startsWith('rate_limit'));
    expect(limited).toBeDefined();
    // No request may start during the cool-down. The bot learns of the 429 only when it reads
    // the answer, so on a loaded machine (tests run in parallel) a few workers whose answers
    // came first may still send one request each in the first moments: at most one per other
    // worker before the 429 is read, and none at all once it surely was (100 ms on).
    const end = limited?.endedAt ?? 0;
    const early = bed.llm.requests.filter((r) => r.startedAt > end && r.startedAt <= end + 100);
    const during = bed.llm.requests.filter((r) => r.startedAt > end + 100 && r.startedAt < end + 350);
    expect(early.length).toBeLessThanOrEqual(4);
    expect(during).toHaveLength(0);
  });

  it('marks a row ERROR with the reason after its retries, exits 3, and retries it on the next run', async () => {
    bed = await startBed({ rows: sampleRows(3) });
    bed.llm.injectFault({ kind: 'status', status: 503 }, { times: Infinity, match: (row) => String(row?.comment ?? '').includes('PRJ-0002') });
    const first = await bed.run();
    expect(first.code).toBe(3);
    const values = bed.values();
    expect(values[2]?.[col(values, 'Validation')]).toBe('ERROR');
    expect(values[2]?.[col(values, 'Issues')]).toContain('503');
    expect(values[1]?.[col(values, 'Validation')]).toBe('VALID');
    expect(first.stdout).toContain('retried on the next run');

    bed.llm.clearFaults();
    const calls = bed.llm.callCount();
    const second = await bed.run();
    expect(second.code).toBe(0);
    expect(bed.llm.callCount()).toBe(calls + 1);
    expect(bed.values()[2]?.[col(bed.values(), 'Validation')]).toBe('VALID');
  });

  it('stops at once on a bad API key, exit 1, naming the variable and never the key', async () => {
    bed = await startBed({ rows: sampleRows(40), config: { llm: { max_workers: 4 } } });
    bed.env.TEST_OPENAI_KEY = 'sk-wrong-key-1234567890abcdef';
    const result = await bed.run();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('rejected the API key');
    expect(result.stderr).toContain('TEST_OPENAI_KEY');
    expect(bed.llm.callCount()).toBeLessThanOrEqual(4);
    for (const text of [result.stdout, result.stderr]) {
      expect(text).not.toContain('sk-wrong-key-1234567890abcdef');
      expect(text).not.toContain(API_KEY);
    }
  });

  it('stops with a clear message when the account has no quota left', async () => {
    bed = await startBed({ rows: sampleRows(5), config: { llm: { max_workers: 1 } } });
    bed.llm.injectFault({ kind: 'insufficient_quota' }, { times: Infinity });
    const result = await bed.run();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no quota left');
    expect(result.stderr).toContain('Fix:');
    expect(bed.llm.callCount()).toBe(1);
  });

  it('falls back to the next provider after the first gives up', async () => {
    bed = await startBed({ rows: sampleRows(3) });
    bed.setConfig({
      llm: {
        max_retries: 1,
        providers: [
          { name: 'primary', model: 'model-down', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' },
          { name: 'backup', model: 'model-up', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' },
        ],
      },
    });
    bed.llm.injectFault({ kind: 'status', status: 502 }, { times: Infinity, match: (_row, req) => req.model === 'model-down' });
    const result = await bed.run();
    expect(result.code).toBe(0);
    const values = bed.values();
    expect(values.slice(1).map((r) => r[col(values, 'Model')])).toEqual(['model-up', 'model-up', 'model-up']);
  });

  it('drops to json_object when a provider rejects structured outputs', async () => {
    bed = await startBed({ rows: sampleRows(3), llm: { supportsJsonSchema: false } });
    const result = await bed.run();
    expect(result.code).toBe(0);
    const formats = bed.llm.requests.map((r) => (r.body as { response_format?: { type: string } }).response_format?.type);
    expect(formats[0]).toBe('json_schema');
    expect(formats.filter((f) => f === 'json_object')).toHaveLength(3);
  });
});

describe('Sheets faults and bad input', () => {
  it('exits 2 naming an unknown config key', async () => {
    bed = await startBed({ rows: sampleRows(1), config: { llm: { max_worker: 3 } } });
    const result = await bed.run();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('llm.max_worker');
    expect(result.stderr).toContain('did you mean "max_workers"');
  });

  it('names the service account to share the sheet with on 403', async () => {
    bed = await startBed({ rows: sampleRows(1) });
    bed.sheets.setForbidden(SPREADSHEET_ID, true);
    const result = await bed.run();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('bot@status-validator-test.iam.gserviceaccount.com');
    expect(result.stderr).toContain(SPREADSHEET_ID);
  });

  it('lists the headers that exist when a column is missing', async () => {
    bed = await startBed({ rows: sampleRows(1), config: { columns: { comment: 'Notes' } } });
    const result = await bed.run();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"Notes" (columns.comment)');
    expect(result.stderr).toContain('"Project", "Status", "Comment", "Due date"');
  });

  it('retries a 429 from Sheets on a write without losing a row', async () => {
    bed = await startBed({ rows: sampleRows(5) });
    bed.sheets.injectFault({ status: 429 }, { kind: 'write', times: 1, match: (c) => c.op === 'values.batchUpdate' });
    const result = await bed.run();
    expect(result.code).toBe(0);
    const values = bed.values();
    expect(values.slice(1).every((r) => r[col(values, 'Validation')] === 'VALID' || r[col(values, 'Validation')] === 'INVALID')).toBe(true);
  });

  it('says which tab names exist when the tab is wrong', async () => {
    bed = await startBed({ rows: sampleRows(1), config: { sheets: { sheet: 'Status' } } });
    const result = await bed.run();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/sheets\.sheet/);
  });
});

describe('concurrent edits (invariant 1)', () => {
  it('writes each verdict where its row is now after the rows are sorted mid-run', async () => {
    const rows = sampleRows(30);
    bed = await startBed({ rows, llm: { latencyMs: 5 }, config: { output: { write_batch_size: 5 } } });
    let sorted = false;
    bed.sheets.onRequest((call) => {
      if (!sorted && call.op === 'values.batchUpdate' && bed) {
        sorted = true;
        bed.sheets.sortRows(SPREADSHEET_ID, TAB, 2, (a, b) => String(b[0]).localeCompare(String(a[0])));
      }
    });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    const values = bed.values();
    for (const row of values.slice(1)) {
      const comment = row[col(values, 'Comment')] ?? '';
      expect(row[col(values, 'Suggested rewrite')], `row of ${row[0]}`).toBe(`Rewrite: ${comment}`);
    }
  });

  it('never writes the old verdict on a row whose comment was edited mid-run', async () => {
    bed = await startBed({ rows: sampleRows(12), llm: { latencyMs: 5 }, config: { output: { write_batch_size: 4 }, llm: { max_workers: 1 } } });
    let edited = false;
    bed.sheets.onRequest((call) => {
      if (!edited && call.op === 'values.batchUpdate' && bed) {
        edited = true;
        bed.sheets.setCell(SPREADSHEET_ID, TAB, 12, 3, 'Edited by a person during the run: migration finished, cut-over planned for Friday.');
      }
    });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    const values = bed.values();
    expect(values[11]?.[col(values, 'Validation')] ?? '').toBe('');
    const summary = JSON.parse(result.stdout) as { writes: { skipped: Array<{ row: number }> } };
    expect(summary.writes.skipped.map((s) => s.row)).toEqual([12]);
    await bed.run();
    const after = bed.values();
    expect(after[11]?.[col(after, 'Suggested rewrite')]).toBe('Rewrite: Edited by a person during the run: migration finished, cut-over planned for Friday.');
  });
});

describe('the run lock (invariant 8)', () => {
  it('refuses a second run on the same sheet while one is running, naming the holder', async () => {
    bed = await startBed({ rows: sampleRows(6), llm: { latencyMs: 300 }, config: { llm: { max_workers: 1 } } });
    const first = bed.run();
    await bed.llm.waitForCalls(1);
    const second = await bed.run();
    expect(second.code).toBe(4);
    expect(second.stderr).toContain(`pid ${process.pid}`);
    expect((await first).code).toBe(0);
  });
});
