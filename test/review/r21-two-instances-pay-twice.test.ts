/**
 * Review of issue 21 against invariant 9: "A question is never paid for twice: ... not by two
 * targets of one run, not by two instances sharing one cache.url." Two targets whose tabs hold
 * the same rows (the same questions: same rules, same model, same cells) are run as two
 * instances on two hosts sharing one cache.url (a GitHub Actions matrix or two Cloud Run Jobs,
 * one per target, as the README's PostgreSQL section suggests). Within one process the
 * QuestionBoard makes the second target wait for the first one's answer; across instances
 * nothing does: each instance finds the question missing from the database and asks it, so
 * every shared question is paid twice. (The tab locks are per tab, so both run at once.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, TAB, type Bed } from '../support/bed.js';
import type { Child } from '../support/inspect.js';
import { postgresBed, spawnCli, stopAll } from '../support/instances.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
const children: Child[] = [];
afterEach(async () => {
  await stopAll(children);
  await bed?.close();
  bed = undefined;
});

describe('two instances on one cache.url, two tabs asking the same questions', () => {
  it('pay each question once', { timeout: 180_000 }, async () => {
    const rows = sampleRows(8);
    const made = await postgresBed({
      rows,
      moreTabs: [{ title: 'Copy', rows: [HEADER, ...rows] }],
      llm: { latencyMs: 400 },
      config: { llm: { max_workers: 2 }, sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 } },
    });
    bed = made.bed;
    const b = bed;
    b.setConfig({ targets: [{ name: 'original', sheet: TAB }, { name: 'copy', sheet: 'Copy' }] });

    // Both instances start from an empty database; within one process (`run` over both targets) the same rows cost 8 calls.
    const one = spawnCli(['run', '--config', b.configPath, '--target', 'original'], { env: b.env, host: 'host-a' });
    const two = spawnCli(['run', '--config', b.configPath, '--target', 'copy'], { env: b.env, host: 'host-b' });
    children.push(one, two);
    const [a, c] = await Promise.all([one.exited, two.exited]);
    expect(a.code, one.stderr()).toBe(0);
    expect(c.code, two.stderr()).toBe(0);
    expect(b.llm.callCount(), 'the shared questions were paid for by both instances').toBe(rows.length);
  });
});
