/**
 * Issue 22: /metrics answers on serve (no token), watch and schedule (--metrics-port), in
 * the Prometheus text format as a strict parser reads it, fed by the runs' ends; nothing
 * personal in it. --log-format json: one JSON object per line, with the run's figures.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, startBed, testPrivateKey, type Bed } from '../support/bed.js';
import { parseExposition, valueOf, type Family } from '../support/prom-text.js';
import { sampleRows } from '../support/sample-data.js';
import { SERVE_TOKEN, startServe } from '../support/serve.js';
import { virtualClock } from '../support/virtual-clock.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const SA_EMAIL = 'bot@status-validator-test.iam.gserviceaccount.com';

async function scrape(url: string): Promise<{ families: Map<string, Family>; text: string; type: string }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { families: parseExposition(text), text, type: res.headers.get('content-type') ?? '' };
}

/** Nothing personal or secret: no email, no key, no row content, no token. */
function expectNothingPersonal(text: string, rows: string[][]): void {
  for (const secret of [API_KEY, SERVE_TOKEN, SA_EMAIL, testPrivateKey().split('\n')[1] ?? 'never']) expect(text.includes(secret)).toBe(false);
  for (const row of rows) expect(text.includes(row[2] ?? 'never')).toBe(false);
  expect(text).not.toMatch(/@[a-z0-9-]+\.[a-z]/i);
}

function metricsUrlIn(log: string): string | undefined {
  return /metrics at (http:\/\/\S+\/metrics)/.exec(log)?.[1];
}

describe('metrics', () => {
  it('schedule --metrics-port serves the runs as they end: counters by status and target, verdicts, tokens, a duration histogram, the last success', async () => {
    const rows = sampleRows(6);
    bed = await startBed({ rows });
    let log = '';
    const scrapes: Array<Awaited<ReturnType<typeof scrape>>> = [];
    const clock = virtualClock('2026-11-20T06:59:00Z', async (n) => {
      // Sleep 1 waits for the first run, sleep 2 follows it: the scrape sees one run.
      const url = metricsUrlIn(log);
      if (url && n === 2) scrapes.push(await scrape(url));
    });
    const result = await bed.cli(['schedule', '--config', bed.configPath, '--cron', '0 7 * * *', '--tz', 'UTC', '--runs', '2', '--metrics-port', '0'], { clock, stderr: { write: (s: string) => (log += s) } });
    expect(result.code, log).toBe(0);
    const [scraped] = scrapes;
    expect(scraped, log).toBeDefined();
    const f = scraped?.families ?? new Map<string, Family>();
    expect(scraped?.type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of f.keys()) expect(name.startsWith('status_validator_'), name).toBe(true);
    expect(valueOf(f, 'status_validator_runs_total', { status: 'completed', target: 'Statuses', trigger: 'schedule' })).toBe(1);
    const shown = bed.values();
    const invalid = shown.slice(1).filter((r) => r.includes('INVALID')).length;
    expect(valueOf(f, 'status_validator_rows_total', { verdict: 'invalid', target: 'Statuses' })).toBe(invalid);
    expect(valueOf(f, 'status_validator_rows_total', { verdict: 'valid', target: 'Statuses' })).toBe(6 - invalid);
    expect(valueOf(f, 'status_validator_llm_requests_total', { provider: 'emulator', model: 'gpt-5-mini', outcome: 'answered' })).toBe(bed.llm.callCount());
    expect(valueOf(f, 'status_validator_llm_tokens_total', { kind: 'prompt', model: 'gpt-5-mini' })).toBeGreaterThan(0);
    expect(valueOf(f, 'status_validator_run_duration_seconds_count', { target: 'Statuses' })).toBe(1);
    expect(f.get('status_validator_run_duration_seconds')?.type).toBe('histogram');
    // The run ended at the schedule's 07:00 (virtual time).
    expect(valueOf(f, 'status_validator_last_success_timestamp_seconds', { target: 'Statuses' })).toBe(Date.parse('2026-11-20T07:00:00Z') / 1000);
    expect(valueOf(f, 'status_validator_sheets_write_calls_total', { target: 'Statuses' })).toBeGreaterThan(0);
    expectNothingPersonal(scraped?.text ?? '', rows);
  });

  it('watch --metrics-port answers GET /metrics and nothing else', async () => {
    const rows = sampleRows(3);
    bed = await startBed({ rows });
    let log = '';
    const answers: number[] = [];
    let families: Map<string, Family> | undefined;
    const clock = virtualClock('2026-11-21T09:00:00Z', async () => {
      const url = metricsUrlIn(log);
      if (!url || families) return;
      families = (await scrape(url)).families;
      answers.push((await fetch(url.replace(/\/metrics$/, '/runs'))).status);
      answers.push((await fetch(url, { method: 'POST' })).status);
    });
    const result = await bed.cli(['watch', '--config', bed.configPath, '--every', '60s', '--polls', '2', '--metrics-port', '0'], { clock, stderr: { write: (s: string) => (log += s) } });
    expect(result.code, log).toBe(0);
    expect(valueOf(families ?? new Map<string, Family>(), 'status_validator_runs_total', { status: 'completed', target: 'Statuses', trigger: 'watch' })).toBe(1);
    expect(answers).toEqual([404, 404]);
  });

  it('serve answers GET /metrics without a token, with the runs it started', async () => {
    const rows = sampleRows(2);
    bed = await startBed({ rows });
    const served = await startServe(bed);
    try {
      const before = await scrape(`${served.base}/metrics`);
      expect(valueOf(before.families, 'status_validator_runs_total')).toBeUndefined();
      const started = await served.call('POST', '/runs', SERVE_TOKEN, {});
      expect(started.status).toBe(202);
      await served.idle();
      let after = await scrape(`${served.base}/metrics`);
      for (let i = 0; i < 50 && valueOf(after.families, 'status_validator_runs_total') === undefined; i++) {
        await new Promise((r) => setTimeout(r, 50));
        after = await scrape(`${served.base}/metrics`);
      }
      expect(valueOf(after.families, 'status_validator_runs_total', { status: 'completed', trigger: 'serve' })).toBe(1);
      expectNothingPersonal(after.text, rows);
    } finally {
      const end = await served.close();
      expect(end.code).toBe(0);
    }
  });
});

describe('--log-format json', () => {
  it('run: every stderr line is one JSON object; the run ends with a run_end event carrying its id, target and figures', async () => {
    bed = await startBed({ rows: sampleRows(4) });
    const result = await bed.run('--log-format', 'json', '--json');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(0);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of entries) {
      expect(typeof e.time).toBe('string');
      expect(['DEBUG', 'INFO', 'WARNING', 'ERROR']).toContain(e.severity);
      expect(typeof e.message).toBe('string');
    }
    const end = entries.find((e) => e.event === 'run_end');
    const summary = JSON.parse(result.stdout) as { runId: string };
    expect(end).toMatchObject({ severity: 'INFO', runId: summary.runId, target: 'Statuses', status: 'completed', exitCode: 0, rowsRead: 4, rowsWritten: 4 });
  });

  it('watch: the log lines are JSON, a run a run_end event', async () => {
    bed = await startBed({ rows: sampleRows(2) });
    const clock = virtualClock('2026-11-21T09:00:00Z');
    let log = '';
    const result = await bed.cli(['watch', '--config', bed.configPath, '--every', '60s', '--polls', '1', '--log-format', 'json'], { clock, stderr: { write: (s: string) => (log += s) } });
    expect(result.code).toBe(0);
    const entries = log.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.some((e) => typeof e.message === 'string' && e.message.startsWith('watching'))).toBe(true);
    expect(entries.find((e) => e.event === 'run_end')).toMatchObject({ trigger: 'watch', status: 'completed', time: '2026-11-21T09:00:00.000Z' });
  });

  it('refuses an unknown format (exit 2)', async () => {
    bed = await startBed({ rows: sampleRows(1) });
    const result = await bed.run('--log-format', 'xml');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected human or json');
  });
});
