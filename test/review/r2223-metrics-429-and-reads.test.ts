/**
 * Review of issue 22, item 3: "/metrics ... At least: ... 429s from providers and from
 * Sheets; Sheets calls by kind". What landed counts retries of any cause in one
 * `retries_total{service}` (a 5xx and a 429 alike, no provider) and only Sheets *write*
 * calls (`sheets_write_calls_total{target}`): an alert on throttling by a provider or by
 * Google cannot be written, and the read calls (which have a quota of their own, invariant 4)
 * are not counted at all.
 */
import { afterEach, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { parseExposition, type Family } from '../support/prom-text.js';
import { sampleRows } from '../support/sample-data.js';
import { virtualClock } from '../support/virtual-clock.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

function metricsUrlIn(log: string): string | undefined {
  return /metrics at (http:\/\/\S+\/metrics)/.exec(log)?.[1];
}

/** Every sample of the families whose name says `words`, with its labels. */
function samples(families: Map<string, Family>, test: (name: string, labels: Record<string, string>) => boolean): number {
  let total = 0;
  for (const family of families.values()) for (const s of family.samples) if (test(s.name, s.labels)) total += s.value;
  return total;
}

it('counts 429s by provider and from Sheets, and Sheets calls by kind (reads too)', async () => {
  bed = await startBed({ rows: sampleRows(6) });
  // One 429 from the provider, one 5xx from it (not a 429), one 429 from Sheets on a write.
  bed.llm.injectFault({ kind: 'rate_limit', retryAfterMs: 10 }, { times: 1 });
  bed.llm.injectFault({ kind: 'status', status: 503 }, { times: 1 });
  bed.sheets.injectFault({ status: 429, headers: { 'retry-after': '1' } }, { kind: 'write', times: 1, match: (c) => c.op === 'values.batchUpdate' });
  let log = '';
  let families: Map<string, Family> | undefined;
  const clock = virtualClock('2026-11-20T06:59:00Z', async (n) => {
    const url = metricsUrlIn(log);
    if (url && n === 2) families = parseExposition(await (await fetch(url)).text());
  });
  const result = await bed.cli(['schedule', '--config', bed.configPath, '--cron', '0 7 * * *', '--tz', 'UTC', '--runs', '2', '--metrics-port', '0'], { clock, stderr: { write: (s: string) => (log += s) } });
  expect(result.code, log).toBe(0);
  expect(families, log).toBeDefined();
  const f = families ?? new Map<string, Family>();
  const mentions429 = (name: string, labels: Record<string, string>) => name.includes('429') || Object.values(labels).some((v) => v === '429' || v === 'rate_limited' || v === 'throttled');
  // The provider's one 429, told apart from its 503, with the provider named.
  expect(samples(f, (name, labels) => mentions429(name, labels) && labels['provider'] === 'emulator')).toBe(1);
  // Sheets' one 429.
  expect(samples(f, (name, labels) => mentions429(name, labels) && (labels['service'] === 'sheets' || name.includes('sheets')))).toBe(1);
  // Sheets calls by kind: the run's reads are counted too.
  expect(samples(f, (name, labels) => name.startsWith('status_validator_sheets') && labels['kind'] === 'read')).toBeGreaterThan(0);
});
