/**
 * Issue 23 item 6: what the bot does to a sheet, as a person sees it. A run over sample
 * rows with every verdict, a reviewer's verdicts and the dashboard; the emulator's page
 * of the tab and of the dashboard is photographed in headless Chromium, and the picture
 * itself is checked: each verdict's cells are filled with its own colour, the charts are
 * drawn. UPDATE_DOCS_SCREENSHOTS=1 also writes the PNGs the README shows (docs/).
 */
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { REPO_ROOT } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';
import { photograph } from '../support/screenshot.js';
import { VERDICT_LOOKS } from '../../src/sheets/index.js';
import { columnName } from '../support/sheets-emulator/index.js';

let bed: Bed | undefined;
let dir: string | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const CONFIG = {
  sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 },
  review: { recheck_column: 'Recheck', override_column: 'Reviewer verdict', min_confidence: 0.6 },
  report: { runs_sheet: 'Runs', dashboard_sheet: 'Dashboard' },
};

/** Channel by channel, within a rounding step: the screenshot's colours are the page's. */
function near(a: string, b: string): boolean {
  const parts = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  const [x, y] = [parts(a), parts(b)];
  return x.every((v, i) => Math.abs(v - (y[i] ?? -99)) <= 3);
}

describe('the sheet as a person sees it', () => {
  it('fills each verdict with its own colour and draws the dashboard charts, in one Chromium launch', async () => {
    bed = await startBed({ rows: sampleRows(12), config: CONFIG });
    bed.llm.setRespond((row) => {
      const comment = String(row.comment);
      const vague = /TBD|unclear/.test(comment);
      return { is_valid: !vague, issues: vague ? ['the comment does not say what is next'] : [], rewrite_suggestion: '', confidence: comment.includes('PRJ-0002') ? 0.3 : 0.95 };
    });
    bed.llm.injectFault({ kind: 'status', status: 400 }, { times: Infinity, match: (row) => String(row?.comment ?? '').includes('PRJ-0006') });
    expect((await bed.run()).code).toBe(3);
    const values = bed.values();
    const reviewer = col(values, 'Reviewer verdict') + 1;
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, reviewer, 'VALID: confirmed in the weekly call');
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 5, reviewer, 'INVALID');
    expect((await bed.run()).code).toBe(3);
    expect((await bed.run()).code).toBe(3);
    // A person ticks a box, to show both states.
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 9, col(bed.values(), 'Recheck') + 1, true);

    const shown = bed.values();
    const verdictColumn = col(shown, 'Validation');
    const cellOf = (text: string): string => {
      const row = shown.findIndex((r) => r[verdictColumn] === text);
      expect(row, `a row showing ${text}`).toBeGreaterThan(0);
      return `${TAB}!${columnName(verdictColumn)}${row + 1}`;
    };
    const cells = VERDICT_LOOKS.map((look) => cellOf(look.text));

    dir = mkdtempSync(path.join(tmpdir(), 'sv-picture-'));
    const started = Date.now();
    const [sheet, dashboard] = await photograph([
      { html: bed.sheets.picture(SPREADSHEET_ID, { tabs: [TAB], maxRows: 13 }), file: path.join(dir, 'sheet-look.png'), cells },
      { html: bed.sheets.picture(SPREADSHEET_ID, { tabs: ['Dashboard'], maxRows: 6 }), file: path.join(dir, 'dashboard.png'), width: 1700 },
    ]);
    const seconds = (Date.now() - started) / 1000;
    if (!sheet || !dashboard) throw new Error('two photos expected');

    // Each verdict's cell shows its palette fill, and no two verdicts share one.
    VERDICT_LOOKS.forEach((look, i) => expect(near(sheet.colours[cells[i] ?? ''] ?? '', look.fill.toLowerCase()), `${look.text}: ${sheet.colours[cells[i] ?? '']} vs ${look.fill}`).toBe(true));
    expect(new Set(Object.values(sheet.colours)).size).toBe(VERDICT_LOOKS.length);
    // Three charts, each with a good deal drawn on it.
    expect(dashboard.inkedChartPixels).toHaveLength(3);
    for (const inked of dashboard.inkedChartPixels) expect(inked).toBeGreaterThan(2000);
    expect(statSync(sheet.file).size).toBeGreaterThan(10_000);
    expect(seconds).toBeLessThan(30);

    if (process.env['UPDATE_DOCS_SCREENSHOTS'] === '1') {
      copyFileSync(sheet.file, path.join(REPO_ROOT, 'docs', 'sheet-look.png'));
      copyFileSync(dashboard.file, path.join(REPO_ROOT, 'docs', 'dashboard.png'));
    }
  });
});
