/** Issue 10, item 5: the data tab, the results tab and the Runs tab never collide. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

const base = {
  sheets: { spreadsheet_id: '1AbC-dEf_123', sheet: 'Statuses' },
  columns: { id: 'Project', status: 'Status', comment: 'Comment' },
  rules: { allowed_statuses: ['Planned', 'Done'], text: 'Say what is next and by when.' },
  llm: { providers: [{ name: 'primary', model: 'gpt-5-mini' }] },
};

function problemsOf(config: unknown): Array<{ path: string; message: string }> {
  try {
    parseConfig(stringify(config), '/tmp/config.yaml', {});
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
}

describe('tab collisions in the config', () => {
  it.each([
    ['the Runs tab is the data tab', { report: { runs_sheet: 'Statuses' } }, 'report.runs_sheet', 'sheets.sheet'],
    ['the Runs tab is the results tab, in other case', { output: { sheet: 'Review' }, report: { runs_sheet: ' REVIEW ' } }, 'report.runs_sheet', 'output.sheet'],
    ['the results tab is the data tab', { output: { sheet: 'statuses' } }, 'output.sheet', 'sheets.sheet'],
  ])('refuses a config where %s, naming both keys', (_what, patch, key, other) => {
    const problems = problemsOf({ ...base, ...patch });
    expect(problems).toEqual([expect.objectContaining({ path: key, message: expect.stringContaining(other) as unknown })]);
  });

  it('accepts three distinct tabs', () => {
    expect(problemsOf({ ...base, output: { sheet: 'Review' }, report: { runs_sheet: 'Runs' } })).toEqual([]);
  });

  it('for any tab names, flags exactly the pairs Sheets would take for one tab, and never throws anything else', () => {
    const name = fc.oneof(fc.constantFrom('Statuses', 'statuses', 'Runs', 'RUNS', 'Review', 'Ünïcode', 'ünïcode'), fc.string({ minLength: 1, maxLength: 12 }));
    fc.assert(
      fc.property(name, name, name, (data, results, runs) => {
        const problems = problemsOf({ ...base, sheets: { ...base.sheets, sheet: data }, output: { sheet: results }, report: { runs_sheet: runs } });
        const fold = (s: string) => s.trim().toLocaleLowerCase();
        const blank = [data, results, runs].some((s) => s.trim() === '');
        const collisions = problems.filter((p) => p.message.includes('is the same tab as'));
        if (blank) return;
        const expected = (fold(results) === fold(data) ? 1 : 0) + (fold(runs) === fold(data) || fold(runs) === fold(results) ? 1 : 0);
        expect(collisions).toHaveLength(expected);
      }),
    );
  });
});
