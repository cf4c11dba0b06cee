// Review of issue 18 item 1 (a), --force --dry-run over two targets. The board keeps a dry
// run's answers (nothing is committed) for the later askers, but answerShared asks
// `board.answered(key)` and then takes the verdict from the CACHE (lookup): in a dry run
// that is the old verdict, the very one --force was to replace. The second target's rows
// are reported with the stale verdict, as if asked: the dry run's "this run's answers"
// (what a person runs --dry-run to see) are wrong for every target but the first to ask.
import { afterEach, expect, it } from 'vitest';
import { HEADER, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface TargetSummary {
  target: string;
  verdicts: { valid: number; invalid: number; error: number };
}

it('--force --dry-run: a target that comes to a question another target asked this run reports that fresh answer, not the cached one', async () => {
  // Both tabs hold the same three questions (other ids): one cache key per pair of rows.
  const rows = sampleRows(3);
  bed = await startBed({ rows, moreTabs: [{ title: 'Team B', rows: [HEADER, ...rows.map((r) => [`${r[0] ?? ''}-B`, ...r.slice(1)])] }] });
  const b = bed;
  b.setConfig({ targets: [{ name: 'a', sheet: TAB }, { name: 'b', sheet: 'Team B' }] });
  expect((await b.run()).code).toBe(0);
  expect(b.llm.callCount()).toBe(3);

  // Team B is read late: its questions come after Statuses' answers, not while they are in flight.
  b.sheets.onResponse(async (call) => {
    if (call.op === 'values.get' && call.range === "'Team B'") await new Promise((resolve) => setTimeout(resolve, 1500));
  });
  // The model now finds every row INVALID: that is what --force --dry-run must show.
  b.llm.setRespond(() => ({ is_valid: false, issues: ['second look'], rewrite_suggestion: 'x', confidence: 0.9 }));
  const dry = await b.run('--force', '--dry-run', '--json');
  expect(dry.code, dry.stderr).toBe(0);
  expect(b.llm.callCount()).toBe(6); // asked once across the targets
  const { targets } = JSON.parse(dry.stdout) as { targets: TargetSummary[] };
  for (const t of targets) expect(t.verdicts, `target ${t.target}`).toMatchObject({ valid: 0, invalid: 3, error: 0 });
});
