import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { ConfigError, SheetsError } from '../../src/errors.js';
import { layoutConfigOf } from '../../src/pipeline/index.js';
import { locateColumns, mapHeaders, type LayoutConfig } from '../../src/sheets/layout.js';
import { fingerprintOf, readEntries, rowFingerprint } from '../../src/sheets/table.js';

const OUTPUTS: LayoutConfig['outputs'] = { verdict: 'Validation', issues: 'Issues', suggestion: 'Suggested rewrite', checked_at: 'Checked at', model: 'Model' };
const EXTRAS = [
  { key: 'owner', header: 'Owner' },
  { key: 'budget', header: 'Budget (k€)' },
];
const CONFIG: LayoutConfig = { sheet: 'Statuses', headerRow: 1, inputs: { id: 'Project', status: 'Status', comment: 'Comment' }, extras: EXTRAS, outputs: OUTPUTS };
const HEADER = ['Project', 'Budget (k€)', 'Status', 'Comment', 'Notes', ' owner '];

describe('extra inputs in the layout', () => {
  it('finds each extra input by its header (folded like the others), in config order, inside the identity span', () => {
    const layout = mapHeaders(HEADER, CONFIG);
    expect(layout.extras).toEqual([6, 2]);
    expect(layout.identitySpan).toEqual({ first: 1, last: 6 });
    // The outputs go after the last used column, never over the extra input.
    expect(layout.outputs.verdict).toBe(7);
  });

  it('stops the run naming columns.inputs.<key> when an extra header is missing', () => {
    let error: unknown;
    try {
      mapHeaders(['Project', 'Status', 'Comment', 'Owner'], CONFIG);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SheetsError);
    expect((error as SheetsError).message).toContain('"Budget (k€)" (columns.inputs.budget)');
    expect((error as SheetsError).message).toContain('Headers found: "Project", "Status", "Comment", "Owner"');
  });

  it('names the extra input when its header vanishes or doubles mid-run (writes to the tab stop)', () => {
    const full = [...HEADER, ...Object.values(OUTPUTS)];
    const gone = locateColumns(full.map((h) => (h === ' owner ' ? 'Owner (old)' : h)), CONFIG);
    expect('lost' in gone && gone.lost).toMatchObject({ header: 'Owner', key: 'columns.inputs.owner' });
    const twice = locateColumns([...full, 'OWNER'], CONFIG);
    expect('lost' in twice && twice.lost.reason).toContain('appears 2 times');
    const found = locateColumns(full, CONFIG);
    expect('columns' in found && found.columns.extras).toEqual([6, 2]);
  });

  it('reads the extras into RowInputs.extra; a row is blank only when status, comment and every extra are empty', () => {
    const layout = mapHeaders(HEADER, CONFIG);
    const values = [HEADER, ['P-1', ' 12 ', 'Done', 'Shipped', 'x', 'Ana'], ['P-2', '', '', '', 'note', 'Ana'], ['P-3', '', '', '', 'note', ''], ['', '', '', '', '', '']];
    const { entries, incomplete } = readEntries(values, layout);
    expect(entries.map((e) => [e.row, e.inputs.extra])).toEqual([
      [2, ['Ana', '12']],
      [3, ['Ana', '']],
    ]);
    expect(incomplete).toEqual([4]);
  });

  it('gives rows of a config without extras no extra field at all (nothing allocated, hashed as before)', () => {
    const layout = mapHeaders(['Project', 'Status', 'Comment', 'Owner'], { ...CONFIG, extras: [] });
    const { entries } = readEntries([['Project', 'Status', 'Comment', 'Owner'], ['P-1', 'Done', 'Shipped', 'Ana']], layout);
    expect(entries[0] && 'extra' in entries[0].inputs).toBe(false);
    expect(layout.extras).toBe(mapHeaders(['Status', 'Comment'], { ...CONFIG, inputs: { status: 'Status', comment: 'Comment' }, extras: [] }).extras);
  });

  it('makes an extra input part of the row identity (fingerprintOf agrees with rowFingerprint)', () => {
    const layout = mapHeaders(HEADER, CONFIG);
    const row = ['P-1', '12', 'Done', 'Shipped', 'x', 'Ana'];
    const [entry] = readEntries([HEADER, row], layout).entries;
    if (!entry) throw new Error('no entry');
    expect(rowFingerprint(row, layout)).toBe(fingerprintOf(entry.id, entry.inputs));
    expect(rowFingerprint(row.map((c) => (c === 'Ana' ? 'Bo' : c)), layout)).not.toBe(rowFingerprint(row, layout));
    // A column of someone's notes is not part of it.
    expect(rowFingerprint(row.map((c) => (c === 'x' ? 'y' : c)), layout)).toBe(rowFingerprint(row, layout));
  });

  it('never throws anything but a SheetsError on random header rows and cells with extras', () => {
    const cell = fc.oneof(fc.constantFrom(...HEADER, 'Owner', 'BUDGET (K€)', '', ' ', 'Validation'), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(cell, { maxLength: 14 }), fc.array(fc.array(cell, { maxLength: 14 }), { maxLength: 6 }), (header, rows) => {
        const located = locateColumns(header, CONFIG);
        if ('columns' in located) for (const r of rows) expect(rowFingerprint(r, located.columns)).toMatch(/^[\w-]{22}$/);
        try {
          const layout = mapHeaders(header, CONFIG);
          const { entries } = readEntries([header, ...rows], layout);
          for (const e of entries) expect(e.inputs.extra).toHaveLength(2);
        } catch (error) {
          expect(error).toBeInstanceOf(SheetsError);
        }
      }),
    );
  });
});

function minimal(columns: unknown, rules: Record<string, unknown> = { allowed_statuses: ['Planned', 'Done'], text: 'Rules.' }) {
  return stringify({ sheets: { spreadsheet_id: '1AbC', sheet: 'Statuses' }, columns, rules, llm: { providers: [{ name: 'p', model: 'gpt-5-mini' }] } });
}

function problems(source: string): ReadonlyArray<{ path: string; message: string }> {
  try {
    parseConfig(source, '/tmp/c.yaml', {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return [];
}

describe('columns.inputs in the config', () => {
  it('accepts a map of key → header, kept in order, into the layout config', () => {
    const config = parseConfig(minimal({ status: 'Status', comment: 'Comment', inputs: { owner: ' Owner ', budget: 'Budget (k€)' } }), '/tmp/c.yaml', {});
    expect(config.columns.inputs).toEqual({ owner: 'Owner', budget: 'Budget (k€)' });
    expect(layoutConfigOf(config).extras).toEqual(EXTRAS);
  });

  it('accepts a risk register without a comment, and a sheet with only extra inputs and no allowed statuses', () => {
    expect(parseConfig(minimal({ status: 'Risk level', inputs: { owner: 'Owner' } }), '/tmp/c.yaml', {}).columns.comment).toBeUndefined();
    const bare = parseConfig(minimal({ inputs: { owner: 'Owner' } }, { text: 'Owner must be set.' }), '/tmp/c.yaml', {});
    expect(bare.rules.allowed_statuses).toBeUndefined();
  });

  it('names both keys when an extra header clashes with another column', () => {
    const found = problems(minimal({ status: 'Status', comment: 'Comment', inputs: { owner: 'Owner', again: ' STATUS ' } }));
    expect(found).toEqual([{ path: 'columns.inputs.again', message: 'header " STATUS " is already used by columns.status; each column needs its own header' }]);
    const output = problems(minimal({ status: 'Status', comment: 'Comment', inputs: { verdict: 'Validation' } }));
    expect(output.map((p) => p.path)).toEqual(['output.columns.verdict']);
    expect(output[0]?.message).toContain('columns.inputs.verdict');
  });

  it('needs at least one of status, comment or inputs, naming columns', () => {
    const found = problems(minimal({ id: 'Project', inputs: {} }, { text: 'x' }));
    expect(found.map((p) => p.path)).toEqual(['columns']);
    expect(found[0]?.message).toContain('columns.status, columns.comment or columns.inputs');
  });

  it('refuses allowed statuses without a status column', () => {
    const found = problems(minimal({ comment: 'Comment' }));
    expect(found.map((p) => p.path)).toEqual(['rules.allowed_statuses']);
    expect(found[0]?.message).toContain('need a status column');
  });

  it('says what a key and a header must be', () => {
    const found = problems(minimal({ status: 'Status', inputs: { 'the owner': 'Owner', budget: '  ', impact: 3 } }));
    expect(found.map((p) => p.path).sort()).toEqual(['columns.inputs.budget', 'columns.inputs.impact', 'columns.inputs.the owner']);
    expect(found.find((p) => p.path === 'columns.inputs.the owner')?.message).toContain('expected an identifier as the key');
    const list = problems(minimal({ status: 'Status', inputs: ['Owner'] }));
    expect(list.map((p) => p.path)).toEqual(['columns.inputs']);
    expect(list[0]?.message).toContain('expected a map of key → header text');
  });

  it('turns any columns.inputs value into ConfigError problems or a valid config, never another exception', () => {
    const value = fc.oneof(
      fc.dictionary(fc.oneof(fc.constantFrom('owner', 'budget', 'status', '1x', 'a b', '__proto__', 'constructor'), fc.string({ maxLength: 5 })), fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('Status', 'Owner', 'Validation'), fc.integer(), fc.constant(null))),
      fc.anything(),
    );
    fc.assert(
      fc.property(value, fc.boolean(), fc.boolean(), (inputs, withStatus, withComment) => {
        const columns = { ...(withStatus ? { status: 'Status' } : {}), ...(withComment ? { comment: 'Comment' } : {}), inputs };
        const source = minimal(columns, withStatus ? undefined : { text: 'Rules.' });
        try {
          const config = parseConfig(source, '/tmp/c.yaml', {});
          for (const header of Object.values(config.columns.inputs ?? {})) expect(header.trim()).not.toBe('');
          expect(layoutConfigOf(config).extras?.length ?? 0).toBe(Object.keys(config.columns.inputs ?? {}).length);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as ConfigError).problems.length).toBeGreaterThan(0);
        }
      }),
    );
  });
});
