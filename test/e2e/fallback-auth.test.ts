/**
 * Issue 11, item 6: a provider whose key is refused (401/403) is dropped for the run with
 * a warning naming it; the run goes on with the others. Only when no provider of a row's
 * chain is left (the primary's key refused and no working fallback) does the run stop at
 * once, exit 1, saying which key to fix.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { messageText, type ChatRequest } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const WRONG_KEY = 'sk-wrong-0123456789abcdefXYZ';
const mentions = (req: Pick<ChatRequest, 'messages'>, ref: string) => req.messages.some((m) => messageText(m).includes(`(ref ${ref})`));

interface Summary {
  status: string;
  warnings: string[];
  errors: Array<{ id: string; reason: string }>;
  fatal?: { message: string; hint?: string };
}

/** Two providers on the emulator: `primary` (gpt-5-mini) and `backup` (gpt-4.1-mini), each with its own key variable. */
async function twoProviders(rows: string[][], keys: { primary: string; backup: string }): Promise<Bed> {
  const b = await startBed({ rows, config: { llm: { max_workers: 3, max_retries: 1 } } });
  b.env.PRIMARY_KEY = keys.primary;
  b.env.BACKUP_KEY = keys.backup;
  b.setConfig({
    llm: {
      providers: [
        { name: 'primary', model: 'gpt-5-mini', base_url: b.llm.url, api_key_env: 'PRIMARY_KEY' },
        { name: 'backup', model: 'gpt-4.1-mini', base_url: b.llm.url, api_key_env: 'BACKUP_KEY' },
      ],
    },
  });
  return b;
}

function expectAnswered(b: Bed, rows: string[][], except: readonly string[] = []): void {
  const values = b.values();
  rows.forEach((row, i) => {
    const cells = values[i + 1] ?? [];
    if (except.includes(row[0] ?? '')) expect(cells[col(values, 'Validation')], row[0]).toBe('ERROR');
    else expect({ verdict: cells[col(values, 'Validation')], suggestion: cells[col(values, 'Suggested rewrite')] }, row[0]).toEqual(expectedCells(row));
  });
}

describe('a fallback provider whose key is refused', () => {
  it('is dropped with a warning naming it, and a healthy primary answers every row: exit 0', async () => {
    const rows = sampleRows(6);
    bed = await twoProviders(rows, { primary: API_KEY, backup: WRONG_KEY });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.status).toBe('completed');
    const warning = summary.warnings.find((w) => w.includes('"backup"'));
    expect(warning).toMatch(/provider "backup" is not used for the rest of this run: .*rejected the API key \(401/);
    expect(warning).toContain('$BACKUP_KEY');
    expect(warning).not.toContain(WRONG_KEY);
    expectAnswered(bed, rows);
    // Its key was checked once, for free (GET /models); it was never asked a row.
    expect(bed.llm.requests.filter((r) => r.path === '/v1/models')).toHaveLength(1);
    expect(bed.llm.requests.filter((r) => r.model === 'gpt-4.1-mini')).toHaveLength(0);
  });

  it('is dropped when it refuses a row the primary failed, and the run goes on: only that row is ERROR, exit 3', async () => {
    const rows = sampleRows(6);
    bed = await twoProviders(rows, { primary: API_KEY, backup: API_KEY });
    // The key check passes, but chat calls to the backup are refused (a key revoked, or no access to that model).
    bed.llm.injectFault({ kind: 'status', status: 401 }, { times: Infinity, match: (_row, req) => req.model === 'gpt-4.1-mini' });
    // The primary fails two rows for good (a transient fault that does not pass).
    for (const ref of ['PRJ-0002', 'PRJ-0005']) bed.llm.injectFault({ kind: 'status', status: 503 }, { times: Infinity, match: (_row, req) => req.model === 'gpt-5-mini' && mentions(req, ref) });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(3);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.fatal).toBeUndefined();
    expect(summary.warnings.filter((w) => w.includes('provider "backup" is not used for the rest of this run'))).toHaveLength(1);
    expect(summary.errors.map((e) => e.id).sort()).toEqual(['PRJ-0002', 'PRJ-0005']);
    expectAnswered(bed, rows, ['PRJ-0002', 'PRJ-0005']);
    // Dropped after its first refusal: the second failing row did not ask it again (two workers may have raced to it).
    expect(bed.llm.requests.filter((r) => r.model === 'gpt-4.1-mini').length).toBeLessThanOrEqual(2);
  });
});

describe('the primary provider whose key is refused', () => {
  it('with no working fallback stops the run at once, exit 1, naming the variable to fix', async () => {
    const rows = sampleRows(12);
    bed = await twoProviders(rows, { primary: WRONG_KEY, backup: WRONG_KEY });
    const result = await bed.run('--json');
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.fatal?.message).toMatch(/provider "primary".*rejected the API key \(401/);
    expect(summary.fatal?.hint).toContain('$PRIMARY_KEY');
    expect(result.stderr).not.toContain(WRONG_KEY);
    // At once: no more chat calls than the workers that had started.
    expect(bed.llm.callCount()).toBeLessThanOrEqual(3);
  });

  it('with a working fallback is dropped with a warning, and the fallback answers the rows', async () => {
    const rows = sampleRows(4);
    bed = await twoProviders(rows, { primary: WRONG_KEY, backup: API_KEY });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.warnings.some((w) => w.includes('provider "primary" is not used for the rest of this run') && w.includes('$PRIMARY_KEY'))).toBe(true);
    const values = bed.values();
    expect(values.slice(1).map((r) => r[col(values, 'Model')])).toEqual(Array(4).fill('gpt-4.1-mini'));
  });
});
