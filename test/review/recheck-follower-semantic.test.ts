// Review of issue 18 item 1 (a), same mechanism as 4abb6d0 ("a row chosen to be asked again
// is asked, not given a neighbour's stored verdict, which unticked its Recheck box unasked").
// semanticPass now skips jobs marked `again`, but only LEADERS of dedup.fuzzy_threshold
// groups go through it: a ticked row that is the near-duplicate FOLLOWER of a new row (a
// cache miss, not `again`) gets that row's verdict, which the semantic cache took from a
// stored neighbour. The ticked row is unticked, nothing was asked, and its "fresh" verdict
// is a stored one about another comment. Only a fresh answer may untick a box.
import { afterEach, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const TEXT = 'Shipped the new invoicing flow to all EU customers; the finance team validates the first month of invoices by Friday';
const FIRST = ['C-1', 'Done', `${TEXT}.`, '2026-12-01'];
const TICKED = ['C-3', 'Done', `${TEXT}. Owner: finance.`, '2026-12-01'];
const NEW = ['C-2', 'Done', `${TEXT}!!`, '2026-12-01'];

it('a ticked row that follows a new near-duplicate is asked, not given the semantic cache’s stored verdict', async () => {
  bed = await startBed({ rows: [FIRST, TICKED], config: { cache: { semantic: true, semantic_threshold: 0.9 }, dedup: { fuzzy_threshold: 85 }, review: { recheck_column: 'Recheck' } } });
  const b = bed;
  expect((await b.run()).code).toBe(0);
  const first = b.llm.callCount();
  // The new row goes above the ticked one: it leads their near-duplicate group.
  b.sheets.insertRows(SPREADSHEET_ID, TAB, 2, [NEW]);
  const box = col(b.values(), 'Recheck') + 1;
  const ticked = b.values().findIndex((r) => r[0] === 'C-3') + 1;
  b.sheets.setCell(SPREADSHEET_ID, TAB, ticked, box, true);
  const result = await b.run('--json');
  expect(result.code, result.stderr).toBe(0);
  const unticked = b.sheets.getCell(SPREADSHEET_ID, TAB, ticked, box)?.value === false;
  const asked = b.llm.callCount() - first;
  // Unticked only if the model was asked this run (the new row may take its neighbour's verdict; the ticked one may not).
  expect({ unticked, askedAnything: asked > 0 }).toEqual({ unticked: true, askedAnything: true });
});
