// Review 3 (of the issue 18 fixes), finding: docs/apps-script.gs finds the id column by a header
// match the bot does not use, so "Recheck selected rows" fails on a tab the bot reads fine.
//
// The bot matches header texts "trimmed, with inner spaces folded, case-insensitively", after NFC
// (src/sheets/layout.ts, normalizeHeader; DESIGN Contracts: "header texts, matched trimmed and
// case-insensitively"). The script compares `trim().toLowerCase()` only. A header wrapped onto two
// lines in the cell (Alt+Enter: "Project\nID"), or typed with two spaces, is the bot's columns.id
// "Project ID", yet the script, with ID_HEADER set to that same text as docs/apps-script.md says,
// alerts "No column ..." and sends nothing. Issue 18 item 8: the script must send what the bot
// matches; the same holds for the column it reads the ids from.
import { describe, expect, it } from 'vitest';
import { recheckSelected } from '../support/apps-script.js';

describe('docs/apps-script.gs, the id column', () => {
  it.each([
    ['wrapped onto two lines in its cell', 'Project\nID'],
    ['typed with two spaces', 'Project  ID'],
  ])('is found as the bot finds it: a header %s', (_how, header) => {
    const grid = [[header, 'Status', 'Comment'], ['P-0001', 'Done', 'a'], ['P-0002', 'Done', 'b']];
    const { payload, alerts } = recheckSelected(grid, [[2, 3]], { ID_HEADER: 'Project ID' });
    expect(alerts).toEqual([]);
    expect(payload).toMatchObject({ rows: ['P-0001', 'P-0002'] });
  });
});
