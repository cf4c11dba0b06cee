/** Issue 14, item 1: a config lists several targets; each inherits what it does not set. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig, parsePortfolio, selectTargets, type Portfolio } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

const base = {
  sheets: { spreadsheet_id: '1AbC-dEf_123', sheet: 'Statuses' },
  columns: { id: 'Project', status: 'Status', comment: 'Comment', completion_date: 'Due date' },
  rules: { allowed_statuses: ['Planned', 'Done'], text: 'Say what is next and by when.' },
  llm: { providers: [{ name: 'primary', model: 'gpt-5-mini' }] },
};

const parse = (config: unknown): Portfolio => parsePortfolio(stringify(config), '/tmp/config.yaml', {});

function problemsOf(config: unknown): Array<{ path: string; message: string }> {
  try {
    parse(config);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
}

describe('targets in the config', () => {
  it('keeps a file without targets as it was: one target, named after its tab', () => {
    const { targets } = parse(base);
    expect(targets).toHaveLength(1);
    expect(targets[0]?.target).toEqual({ name: 'Statuses', index: undefined });
    expect(targets[0]?.sheets.sheet).toBe('Statuses');
    expect(parseConfig(stringify(base), '/tmp/config.yaml', {}).columns.status).toBe('Status');
  });

  it('resolves each target over the top level: its tab and spreadsheet, its own sections merged key by key, null removing a key', () => {
    const { targets } = parse({
      ...base,
      targets: [
        { name: 'programme-a', sheet: 'A' },
        { name: 'programme-b', spreadsheet_id: '2XyZ', sheet: 'Статусы', header_row: 3, columns: { status: 'Статус', completion_date: null }, rules: { text: 'Другие правила.' }, output: { columns: { verdict: 'Проверка' } } },
      ],
    });
    const [a, b] = targets;
    expect(a?.sheets).toMatchObject({ spreadsheet_id: '1AbC-dEf_123', sheet: 'A', header_row: 1 });
    expect(a?.columns).toEqual(base.columns);
    expect(b?.target).toEqual({ name: 'programme-b', index: 1 });
    expect(b?.sheets).toMatchObject({ spreadsheet_id: '2XyZ', sheet: 'Статусы', header_row: 3 });
    expect(b?.columns).toEqual({ id: 'Project', status: 'Статус', comment: 'Comment' });
    expect(b?.rules).toEqual({ allowed_statuses: ['Planned', 'Done'], text: 'Другие правила.' });
    expect(b?.output.columns).toMatchObject({ verdict: 'Проверка', issues: 'Issues' });
    // What the process shares is the same object for all.
    expect(b?.llm).toEqual(a?.llm);
    expect(b?.cache.path).toBe(a?.cache.path);
  });

  it('names the target of a problem in a key it sets, and a shared key once', () => {
    const problems = problemsOf({
      ...base,
      llm: { providers: [{ name: 'primary', model: 'gpt-5-mini' }], max_workers: 0 },
      targets: [
        { name: 'a', sheet: 'A', columns: { status: 7 } },
        { name: 'b', sheet: 'B', llm: { max_workers: 3 }, colums: {} },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'targets[0].columns.status', message: expect.stringMatching(/^\(target "a"\) expected a header text/) as unknown },
        { path: 'targets[1].llm', message: expect.stringContaining('shared by all targets') as unknown },
        { path: 'targets[1].colums', message: expect.stringContaining('did you mean "columns"') as unknown },
        { path: 'llm.max_workers', message: expect.stringContaining('expected a whole number from 1 to 500') as unknown },
      ]),
    );
    expect(problems.filter((p) => p.path === 'llm.max_workers')).toHaveLength(1);
  });

  it('says for which target an inherited key is wrong when only some targets are affected', () => {
    const { completion_date: _dropped, ...columns } = base.columns;
    const problems = problemsOf({ ...base, columns: { ...columns, id: undefined }, output: { sheet: 'Results' }, targets: [{ name: 'a', sheet: 'A' }, { name: 'b', sheet: 'B', columns: { id: 'Project' }, output: { sheet: 'Results B' } }] });
    expect(problems).toEqual([{ path: 'output.sheet', message: 'for target "a" (targets[0]): a results tab needs columns.id: results are matched to rows by their id' }]);
  });

  it('refuses duplicate names, two targets on one tab, and a target tab that is another target\'s results or Runs tab', () => {
    expect(problemsOf({ ...base, targets: [{ name: 'a', sheet: 'A' }, { name: 'A', sheet: 'B' }] })).toEqual([{ path: 'targets[1].name', message: expect.stringContaining('already used by targets[0]') as unknown }]);
    expect(problemsOf({ ...base, targets: [{ name: 'a', sheet: 'Tab' }, { name: 'b', sheet: ' TAB ' }] })).toEqual([{ path: 'targets[1].sheet', message: expect.stringContaining('the data tab of targets[0]') as unknown }]);
    expect(problemsOf({ ...base, targets: [{ name: 'a', sheet: 'A', output: { sheet: 'Results' } }, { name: 'b', sheet: 'results' }] })).toEqual([{ path: 'targets[1].sheet', message: expect.stringContaining('the results tab of targets[0]') as unknown }]);
    expect(problemsOf({ ...base, targets: [{ name: 'a', sheet: 'A', report: { runs_sheet: 'Runs' } }, { name: 'b', sheet: 'Runs' }] })).toEqual([{ path: 'targets[1].sheet', message: expect.stringContaining('the Runs tab of targets[0]') as unknown }]);
    // The same tab name in two spreadsheets is two tabs; one Runs tab for all targets of a spreadsheet is fine.
    expect(problemsOf({ ...base, report: { runs_sheet: 'Runs' }, targets: [{ name: 'a', sheet: 'Tab' }, { name: 'b', spreadsheet_id: 'other', sheet: 'Tab' }, { name: 'c', sheet: 'C' }] })).toEqual([]);
  });

  it('refuses an empty or malformed list, and a target without a name', () => {
    expect(problemsOf({ ...base, targets: [] })).toEqual([{ path: 'targets', message: expect.stringContaining('expected a list of targets') as unknown }]);
    expect(problemsOf({ ...base, targets: 'A' })).toEqual([{ path: 'targets', message: expect.stringContaining('expected a list of targets') as unknown }]);
    expect(problemsOf({ ...base, targets: [{ sheet: 'A' }] })).toEqual([{ path: 'targets[0].name', message: expect.stringContaining('expected a name for the target') as unknown }]);
  });

  it('picks one target by name (case aside), and lists the names when --target names none', () => {
    const portfolio = parse({ ...base, targets: [{ name: 'programme-a', sheet: 'A' }, { name: 'Москва', sheet: 'B' }] });
    expect(selectTargets(portfolio, 'москва').map((t) => t.target.name)).toEqual(['Москва']);
    expect(selectTargets(portfolio, undefined)).toHaveLength(2);
    expect(() => selectTargets(portfolio, 'nope')).toThrow(/"programme-a", "Москва"/);
    expect(() => parseConfig(stringify({ ...base, targets: [{ name: 'a', sheet: 'A' }, { name: 'b', sheet: 'B' }] }), '/tmp/c.yaml', {})).toThrow(ConfigError);
  });

  it('never throws anything but a ConfigError, whatever the targets list holds', () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }));
    const key = fc.constantFrom('name', 'sheet', 'spreadsheet_id', 'header_row', 'columns', 'rules', 'output', 'review', 'report', 'llm', 'x');
    const target = fc.oneof(fc.dictionary(key, value, { maxKeys: 6 }), value);
    fc.assert(
      fc.property(fc.oneof(fc.array(target, { maxLength: 5 }), value), (targets) => {
        try {
          const { targets: resolved } = parse({ ...base, targets });
          expect(resolved.length).toBeGreaterThan(0);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          expect(error.problems.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 400 },
    );
  });
});
