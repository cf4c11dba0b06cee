// Review of issue 18 "also seen" (g): an unbelievable x-ratelimit-limit-* header is ignored
// "and said once" (c05da2a). `run` says it; `watch`, `schedule` and `serve` build their
// provider gates once for their life (commands/lasting.ts: providerGates without onWarning)
// and the portfolio then uses those gates, so the warning goes nowhere (not in the log, not in the run's record that `runs` shows): the operator of
// the long-running command, who most needs to know a gateway states nonsense, never hears.
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { runRows } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';
import { virtualClock } from '../support/virtual-clock.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

it('watch says once that a gateway stated "x-ratelimit-limit-requests: 0.5" and it was ignored', async () => {
  bed = await startBed({ rows: sampleRows(4), llm: { extraHeaders: { 'x-ratelimit-limit-requests': '0.5', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '2m0s' } } });
  const b = bed;
  b.setConfig({ llm: { max_workers: 2, providers: [{ name: 'emulator', model: 'gpt-5-mini', base_url: b.llm.url, api_key_env: 'TEST_OPENAI_KEY', rpm: 6000 }] } });
  const clock = virtualClock('2026-11-21T09:00:00Z', () => undefined);
  let log = '';
  const result = await b.cli(['watch', '--config', b.configPath, '--every', '60s', '--polls', '2'], { clock, stderr: { write: (t: string) => (log += t) } });
  expect(result.code, log).toBe(0);
  expect(b.llm.callCount()).toBe(4);
  // Watch logs one line per run; a run's warnings are kept with its record (the runs
  // command shows them). The first poll's run must carry it, once over the watch.
  const warnings = runRows(path.join(b.dir, 'cache.sqlite')).flatMap((r) => (JSON.parse(r.summary ?? '{}') as { warnings?: string[] }).warnings ?? []);
  expect(runRows(path.join(b.dir, 'cache.sqlite')).filter((r) => r.summary?.includes('"warnings"')).length).toBeGreaterThan(0);
  expect(warnings.filter((w) => w.includes('x-ratelimit-limit-requests: 0.5')), JSON.stringify(warnings)).toHaveLength(1);
  // And the operator reading watch's log hears it once, when it happens.
  expect(log.split('\n').filter((l) => l.includes('x-ratelimit-limit-requests: 0.5')), log).toHaveLength(1);
}, 30_000);
