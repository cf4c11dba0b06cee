/**
 * Issue 14: each target has its own lock. Two processes on different targets of one
 * config run at once; two on the same target do not (the second exits 4, nothing paid twice).
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, TAB, startBed, type Bed } from '../support/bed.js';
import { REPO_ROOT } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** `status-validator run --target NAME` in a child process, started at the instant `at`. */
function runAt(b: Bed, at: number, target: string): Promise<{ code: number | null; stderr: string }> {
  const args = ['--import', 'tsx', 'test/support/cli-at.ts', String(at), 'run', '--config', b.configPath, '--target', target];
  const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...b.env, PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code) => resolve({ code, stderr }));
  });
}

async function twoTargetBed(): Promise<Bed> {
  const b = await startBed({
    rows: sampleRows(20),
    moreTabs: [{ title: 'Team B', rows: [HEADER, ...sampleRows(40).slice(20)] }],
    // Slow enough answers that each run lasts well over a second: the runs overlap if they can.
    llm: { latencyMs: 150 },
    config: { llm: { max_workers: 2 }, sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 } },
  });
  b.setConfig({
    targets: [
      { name: 'programme-a', sheet: TAB },
      // Its own rulebook, so its requests carry their own prompt_cache_key and can be told apart.
      { name: 'team-b', sheet: 'Team B', rules: { text: 'Team B: the comment must name the next step and its date.' } },
    ],
  });
  return b;
}

/** The time span of each prompt_cache_key's requests at the emulator. */
function spans(b: Bed): Array<{ first: number; last: number; count: number }> {
  const byKey = new Map<string, { first: number; last: number; count: number }>();
  for (const r of b.llm.requests) {
    if (r.path !== '/v1/chat/completions' || r.promptCacheKey === undefined) continue;
    const span = byKey.get(r.promptCacheKey) ?? { first: Infinity, last: -Infinity, count: 0 };
    byKey.set(r.promptCacheKey, { first: Math.min(span.first, r.startedAt), last: Math.max(span.last, r.startedAt), count: span.count + 1 });
  }
  return [...byKey.values()];
}

describe('locks of a portfolio', () => {
  it('lets two processes on different targets of one config run at the same time', { timeout: 60_000 }, async () => {
    bed = await twoTargetBed();
    const at = Date.now() + 2500;
    const results = await Promise.all([runAt(bed, at, 'programme-a'), runAt(bed, at, 'team-b')]);
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const [a, b] = spans(bed);
    expect(a?.count).toBe(20);
    expect(b?.count).toBe(20);
    // Each run asked for over a second; their requests interleaved: neither waited for the other.
    expect(a && b && a.first < b.last && b.first < a.last).toBe(true);
  });

  it('lets only one of two processes on the same target run: the other exits 4 naming the holder, and no row is asked twice', { timeout: 60_000 }, async () => {
    bed = await twoTargetBed();
    const at = Date.now() + 2500;
    const results = await Promise.all([runAt(bed, at, 'team-b'), runAt(bed, at, 'team-b')]);
    expect(results.map((r) => r.code).sort()).toEqual([0, 4]);
    const loser = results.find((r) => r.code === 4);
    expect(loser?.stderr).toMatch(/Team B/);
    expect(loser?.stderr).toMatch(/pid \d+/);
    expect(bed.llm.callCount()).toBe(20);
  });
});
