/**
 * Issue 19, item 1: a model endpoint that cannot be reached at all (connection refused,
 * DNS failure, TLS failure) stops the run early, as a refused key does: exit 1, a message
 * naming the endpoint's host and what to do, nothing written to the sheet, no ERROR
 * cells, and the failed connections are not counted as LLM calls. An outage that starts
 * mid-run ends the same way, after writing what was answered; a reachable fallback carries
 * the run on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, HEADER, col, startBed, type Bed } from '../support/bed.js';
import { cachedVerdicts, expectedCells } from '../support/inspect.js';
import { startOpenAIEmulator, type OpenAIEmulator } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';
import { virtualClock } from '../support/virtual-clock.js';
import { closedPort } from '../support/closed-port.js';

let bed: Bed | undefined;
const extra: OpenAIEmulator[] = [];
afterEach(async () => {
  await Promise.all([bed?.close(), ...extra.splice(0).map((e) => e.close())]);
  bed = undefined;
});

interface Summary {
  status: string;
  warnings: string[];
  errors: Array<{ id: string; reason: string }>;
  verdicts: { valid: number; invalid: number; error: number };
  llm: { calls: number; retries: number; connectionFailures: number };
  writes: { rowsWritten: number };
  fatal?: { message: string; hint?: string };
}

const cacheOf = (b: Bed) => String((b.config.cache as { path: string }).path);

/**
 * The tab as a person has it after a first run: its output headers are there (a run adds
 * missing headers when it opens the tab, before any model call, as with a refused key).
 */
const HEADER_WITH_OUTPUTS = [...HEADER, 'Validation', 'Issues', 'Suggested rewrite', 'Checked at', 'Model'];

async function bedAt(rows: string[][], baseUrl: string, llm: Record<string, unknown> = {}): Promise<Bed> {
  const b = await startBed({ rows, header: HEADER_WITH_OUTPUTS, config: { llm: { max_workers: 5, max_retries: 3, ...llm } } });
  b.setConfig({ llm: { providers: [{ name: 'primary', model: 'gpt-5-mini', base_url: baseUrl, api_key_env: 'TEST_OPENAI_KEY' }] } });
  return b;
}

/** Everything a person sees of a run's end, and the sheet it leaves. */
function expectStoppedUntouched(b: Bed, result: { code: number; stdout: string; stderr: string }, before: string[][], host: string, elapsedMs: number): Summary {
  expect(result.code, result.stderr).toBe(1);
  const summary = JSON.parse(result.stdout) as Summary;
  expect(summary.status).toBe('failed');
  expect(summary.fatal?.message).toContain(host);
  expect(summary.fatal?.message).toMatch(/provider "primary"/);
  expect(summary.fatal?.hint).toMatch(/base_url/);
  expect(summary.fatal?.hint).toMatch(/asked on the next run/);
  // Nothing was written, nothing is ERROR: the rows keep what they showed.
  expect(b.values()).toEqual(before);
  expect(summary.verdicts.error).toBe(0);
  expect(summary.writes.rowsWritten).toBe(0);
  expect(cachedVerdicts(cacheOf(b))).toHaveLength(0);
  // A failed connection is no LLM call (nothing was paid), and is counted apart.
  expect(summary.llm.calls).toBe(0);
  expect(summary.llm.retries).toBe(0);
  expect(summary.llm.connectionFailures).toBeGreaterThan(0);
  // Given up after a few quick tries, not 1 + max_retries backoffs per row.
  expect(elapsedMs).toBeLessThan(6_000);
  expect(`${result.stdout}${result.stderr}`).not.toContain(API_KEY);
  // Said once, as the run's error: no warning repeats it (there was no provider to go on with).
  expect(summary.warnings.filter((w) => w.includes('is not used for the rest of this run'))).toEqual([]);
  return summary;
}

describe('a model endpoint that cannot be reached at all', () => {
  it('on a closed port stops the run within seconds: exit 1, the host named, nothing written', async () => {
    const port = await closedPort();
    const rows = sampleRows(40);
    bed = await bedAt(rows, `http://127.0.0.1:${port}/v1`);
    const before = bed.values();
    const started = Date.now();
    const result = await bed.run('--json');
    const summary = expectStoppedUntouched(bed, result, before, `127.0.0.1:${port}`, Date.now() - started);
    expect(summary.fatal?.message).toMatch(/connection refused/);
    // Each of the 5 workers tries at most 1 + 3 times before the provider is given up.
    expect(summary.llm.connectionFailures).toBeLessThanOrEqual(5 * 4);
  });

  it('the text summary says so, with the fix, and counts the connection failures apart from the calls', async () => {
    const port = await closedPort();
    bed = await bedAt(sampleRows(10), `http://127.0.0.1:${port}/v1`);
    const result = await bed.run();
    expect(result.code).toBe(1);
    const text = `${result.stdout}\n${result.stderr}`;
    expect(text).toContain(`127.0.0.1:${port}`);
    expect(text).toMatch(/Fix: .*base_url/);
    expect(text).toMatch(/LLM calls\s+0 \(0 retries\); \d+ connection failures \(not calls\)/);
  });

  it('over TLS to a plain-HTTP server stops the run the same way, saying the TLS handshake failed', async () => {
    const rows = sampleRows(20);
    bed = await bedAt(rows, 'http://placeholder.invalid/v1');
    const https = bed.llm.url.replace(/^http:/, 'https:');
    bed.setConfig({ llm: { providers: [{ name: 'primary', model: 'gpt-5-mini', base_url: https, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const before = bed.values();
    const started = Date.now();
    const result = await bed.run('--json');
    const summary = expectStoppedUntouched(bed, result, before, new URL(https).host, Date.now() - started);
    expect(summary.fatal?.message).toMatch(/TLS handshake failed/);
  });

  it('whose host name does not resolve stops the run the same way, saying DNS failed', async () => {
    const rows = sampleRows(20);
    // .invalid never resolves (RFC 6761): the resolver answers at once, with or without a network.
    bed = await bedAt(rows, 'http://models.status-validator.invalid:8443/v1');
    const before = bed.values();
    const started = Date.now();
    const result = await bed.run('--json');
    const summary = expectStoppedUntouched(bed, result, before, 'models.status-validator.invalid:8443', Date.now() - started);
    expect(summary.fatal?.message).toMatch(/DNS/);
  });
});

describe('an outage that starts mid-run', () => {
  it('writes what was answered, leaves the rest as they were (no ERROR), exits 1, and the next run asks only the rest', async () => {
    const rows = sampleRows(30);
    bed = await startBed({ rows, config: { llm: { max_workers: 2, max_retries: 3 } } });
    const b = bed;
    b.llm.goDownAfter(8);
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(1);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.fatal?.message).toMatch(/No provider can be reached: could not connect to provider "emulator"/);
    expect(summary.verdicts.error).toBe(0);
    expect(summary.llm.connectionFailures).toBeGreaterThan(0);

    // What was answered is committed and written; every other row shows nothing, as before.
    const values = b.values();
    const answered = rows.filter((_, i) => (values[i + 1]?.[col(values, 'Validation')] ?? '') !== '');
    expect(answered.length).toBeGreaterThanOrEqual(8);
    expect(answered.length).toBeLessThan(rows.length);
    expect(summary.writes.rowsWritten).toBe(answered.length);
    expect(cachedVerdicts(cacheOf(b))).toHaveLength(answered.length);
    rows.forEach((row, i) => {
      const cells = values[i + 1] ?? [];
      const verdict = cells[col(values, 'Validation')] ?? '';
      if (verdict === '') expect(cells.slice(4).every((c) => c === ''), row[0]).toBe(true);
      else expect({ verdict, suggestion: cells[col(values, 'Suggested rewrite')] }, row[0]).toEqual(expectedCells(row));
    });
    // No cell carries an address.
    expect(values.flat().join('\n')).not.toMatch(/127\.0\.0\.1|https?:\/\//);

    // The endpoint is back (at a new address): the next run asks only the rows not answered.
    const back = await startOpenAIEmulator({ apiKey: API_KEY });
    extra.push(back);
    b.setConfig({ llm: { providers: [{ name: 'emulator', model: 'gpt-5-mini', base_url: back.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const again = await b.run('--json');
    expect(again.code, again.stderr).toBe(0);
    expect(back.callCount()).toBe(rows.length - answered.length);
    const after = b.values();
    rows.forEach((row, i) => {
      const cells = after[i + 1] ?? [];
      expect({ verdict: cells[col(after, 'Validation')], suggestion: cells[col(after, 'Suggested rewrite')] }, row[0]).toEqual(expectedCells(row));
    });
  });
});

describe('an unreachable primary with a reachable fallback', () => {
  it('is given up with one warning naming it, and the fallback answers every row: exit 0', async () => {
    const port = await closedPort();
    const rows = sampleRows(12);
    bed = await startBed({ rows, config: { llm: { max_workers: 3, max_retries: 3 } } });
    const b = bed;
    b.setConfig({
      llm: {
        providers: [
          { name: 'primary', model: 'gpt-5-mini', base_url: `http://127.0.0.1:${port}/v1`, api_key_env: 'TEST_OPENAI_KEY' },
          { name: 'backup', model: 'gpt-4.1-mini', base_url: b.llm.url, api_key_env: 'TEST_OPENAI_KEY' },
        ],
      },
    });
    const started = Date.now();
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(6_000);
    const summary = JSON.parse(result.stdout) as Summary;
    const warnings = summary.warnings.filter((w) => w.includes('provider "primary" is not used for the rest of this run'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`connection refused: nothing listens at that address\\. Check llm\\.providers "primary": base_url points at 127\\.0\\.0\\.1:${port}`));
    expect(summary.verdicts.error).toBe(0);
    // Calls are the fallback's answers; the refused connections are counted apart.
    expect(summary.llm.calls).toBe(b.llm.callCount());
    expect(summary.llm.connectionFailures).toBeGreaterThan(0);
    const values = b.values();
    expect(values.slice(1).map((r) => r[col(values, 'Model')])).toEqual(Array(rows.length).fill('gpt-4.1-mini'));
    expect(values.flat().join('\n')).not.toContain(`127.0.0.1:${port}`);
  });
});

describe('the Batch API and watch on an unreachable endpoint', () => {
  it('batch submit and run --mode batch stop with exit 1, the host in the Fix line, nothing submitted or written', async () => {
    const port = await closedPort();
    bed = await bedAt(sampleRows(6), `http://127.0.0.1:${port}/v1`);
    const before = bed.values();
    for (const args of [
      ['batch', 'submit', '--config', bed.configPath],
      ['run', '--config', bed.configPath, '--mode', 'batch', '--every', '1s'],
    ]) {
      const result = await bed.cli(args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toMatch(/could not connect to provider "primary".*connection refused/);
      expect(result.stderr, args.join(' ')).toMatch(new RegExp(`Fix: .*127\\.0\\.0\\.1:${port}`));
      expect(result.stderr).not.toMatch(/Internal error/);
    }
    expect(bed.values()).toEqual(before);
  });

  it('batch wait on an endpoint gone away exits 1 saying so, and keeps the job for later', async () => {
    bed = await startBed({ rows: sampleRows(4) });
    const b = bed;
    const submitted = await b.cli(['batch', 'submit', '--config', b.configPath]);
    expect(submitted.code, submitted.stderr).toBe(0);
    await b.llm.close();
    const waited = await b.cli(['batch', 'wait', '--config', b.configPath, '--every', '1s']);
    expect(waited.code).toBe(1);
    expect(waited.stderr).toMatch(/could not connect to provider "emulator".*connection refused/);
    expect(waited.stderr).not.toMatch(/Internal error/);
    const listed = await b.cli(['batch', 'list', '--config', b.configPath]);
    expect(listed.stdout).toMatch(/batch_\S+/);
  });

  it('watch stops (exit 1) saying the endpoint cannot be reached, having written nothing', async () => {
    const port = await closedPort();
    bed = await bedAt(sampleRows(6), `http://127.0.0.1:${port}/v1`);
    const before = bed.values();
    let log = '';
    const result = await bed.cli(['watch', '--config', bed.configPath, '--every', '60s', '--polls', '3'], { clock: virtualClock('2026-11-21T09:00:00Z'), stderr: { write: (s: string) => (log += s) } });
    expect(result.code, log).toBe(1);
    expect(log).toMatch(new RegExp(`No provider can be reached: .*127\\.0\\.0\\.1:${port}`));
    expect(bed.values()).toEqual(before);
  });
});
