import { afterEach, describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface AgreementJson {
  reviewed: number;
  compared: number;
  agreed: number;
  rate: number | null;
  matrix: Record<'VALID' | 'INVALID', Record<'VALID' | 'INVALID', number>>;
  disagreements: Array<{ row: number; reviewer: string; model: string }>;
  withoutModel: number[];
}

describe('eval', () => {
  it("measures agreement between reviewers and the model's verdicts, with the confusion matrix and the rows that differ", async () => {
    bed = await startBed({ rows: sampleRows(8), config: { review: { override_column: 'Reviewer verdict' } } });
    await bed.run();
    const values = bed.values();
    const verdictCol = col(values, 'Validation');
    const override = col(values, 'Reviewer verdict') + 1;
    // Rows 2..5: reviewers agree on two and flip two of the model's verdicts.
    const model = [2, 3, 4, 5].map((row) => values[row - 1]?.[verdictCol] ?? '');
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, override, model[0] ?? '');
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 3, override, model[1] ?? '');
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 4, override, model[2] === 'VALID' ? 'INVALID: no next step' : 'VALID');
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 5, override, model[3] === 'VALID' ? 'INVALID: vague' : 'VALID');
    const calls = bed.llm.callCount();

    const result = await bed.cli(['eval', '--config', bed.configPath, '--json']);
    expect(result.code).toBe(0);
    const a = JSON.parse(result.stdout) as AgreementJson;
    expect(a).toMatchObject({ reviewed: 4, compared: 4, agreed: 2, rate: 0.5, withoutModel: [] });
    expect(a.disagreements.map((d) => d.row)).toEqual([4, 5]);
    const total = a.matrix.VALID.VALID + a.matrix.VALID.INVALID + a.matrix.INVALID.VALID + a.matrix.INVALID.INVALID;
    expect(total).toBe(4);
    expect(a.matrix.VALID.INVALID + a.matrix.INVALID.VALID).toBe(2);
    expect(bed.llm.callCount()).toBe(calls);

    const text = await bed.cli(['eval', '--config', bed.configPath]);
    expect(text.stdout).toContain('agreement: 50.0% (2/4)');
    expect(text.stdout).toContain('Where they differ:');
  });

  it('does not compare rows the model never answered, and says so', async () => {
    bed = await startBed({ rows: sampleRows(2), config: { review: { override_column: 'Reviewer verdict' } }, header: ['Project', 'Status', 'Comment', 'Due date', 'Reviewer verdict'] });
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, 5, 'VALID');
    const result = await bed.cli(['eval', '--config', bed.configPath, '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({ reviewed: 1, compared: 0, rate: null, withoutModel: [2] });
  });

  it('needs an override column, and says how to add one', async () => {
    bed = await startBed({ rows: sampleRows(1) });
    const result = await bed.cli(['eval', '--config', bed.configPath]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('review.override_column');
  });
});

describe('rules publish', () => {
  it('writes the rules, the allowed statuses and the model to a tab of their own, replacing it each time', async () => {
    bed = await startBed({ rows: sampleRows(1), config: { rules: { text: 'Say what was done.\nSay what is next.' } } });
    const first = await bed.cli(['rules', 'publish', '--config', bed.configPath]);
    expect(first.code).toBe(0);
    const tab = bed.sheets.values(SPREADSHEET_ID, 'Rules');
    expect(tab[0]).toEqual(['Rules applied by status-validator']);
    expect(tab).toContainEqual(['Model', 'gpt-5-mini']);
    expect(tab).toContainEqual(['', 'In progress']);
    expect(tab).toContainEqual(['', 'Say what is next.']);

    bed.setConfig({ rules: { text: 'One rule only.' } });
    await bed.cli(['rules', 'publish', '--config', bed.configPath]);
    const again = bed.sheets.values(SPREADSHEET_ID, 'Rules');
    expect(again).toContainEqual(['', 'One rule only.']);
    expect(again).not.toContainEqual(['', 'Say what is next.']);
    // The data tab is untouched.
    expect(bed.values()[0]).toEqual(['Project', 'Status', 'Comment', 'Due date']);
  });

  it('refuses to publish over the data tab', async () => {
    bed = await startBed({ rows: sampleRows(1) });
    const result = await bed.cli(['rules', 'publish', '--config', bed.configPath, '--tab', TAB]);
    expect(result.code).toBe(2);
    expect(bed.values()).toHaveLength(2);
  });
});
