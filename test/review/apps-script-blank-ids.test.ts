// Review 3 (of the issue 18 fixes), finding: "Recheck selected rows" loses selected rows that have
// no id without a word, and misleads when they all lack one.
//
// docs/apps-script.gs (selectedIds_) drops every selected row whose id cell is blank. Selected
// alone, the person is told "Select the rows to recheck first", though they did: nothing says that
// those rows lack an id (the config's columns.id) nor what to do. Selected with others, the toast
// says "Validation started for 2 rows" and the third row is silently not rechecked. Issue 18 item 6
// (rows without an id: "refuse them clearly; never lose one") and the project rule that every
// failure a user can meet says what happened, names the row, and what to do.
import { describe, expect, it } from 'vitest';
import { recheckSelected } from '../support/apps-script.js';

describe('docs/apps-script.gs, Recheck selected rows without an id', () => {
  const grid = [['Project', 'Status', 'Comment'], ['P-0001', 'Done', 'a'], ['P-0002', 'Done', 'b'], ['', 'Done', 'no id yet']];

  it('says the selected row has no id (naming the id column), rather than to select rows', () => {
    const { payload, alerts } = recheckSelected(grid, [[4, 4]], {});
    expect(payload).toBeUndefined();
    expect(alerts.join(' ')).not.toContain('Select the rows to recheck first');
    expect(alerts.join(' ')).toContain('Project');
  });

  it('tells the person which selected row it left out for having no id', () => {
    const { payload, alerts, toasts } = recheckSelected(grid, [[2, 4]], {});
    expect(payload).toMatchObject({ rows: ['P-0001', 'P-0002'] });
    expect([...alerts, ...toasts].join(' ')).toMatch(/row 4\b/);
  });
});
