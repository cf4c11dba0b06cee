import { describe, expect, it } from 'vitest';
import { SheetsError } from '../../src/errors.js';
import { a1Range, columnLetter, quoteSheetName, wholeSheet } from '../../src/sheets/a1.js';
import { OUTPUT_FIELDS, mapHeaders, normalizeHeader, outputSegments, type Layout, type LayoutConfig } from '../../src/sheets/layout.js';
import { fingerprintOf, readEntries, rowFingerprint } from '../../src/sheets/table.js';

const OUTPUTS: LayoutConfig['outputs'] = {
  verdict: 'Validation',
  issues: 'Issues',
  suggestion: 'Suggested rewrite',
  checked_at: 'Checked at',
  model: 'Model',
};

function layoutConfig(overrides: Partial<LayoutConfig> = {}): LayoutConfig {
  return {
    sheet: 'Statuses',
    headerRow: 1,
    inputs: { id: 'Project', status: 'Status', comment: 'Comment', completion_date: 'Due date' },
    outputs: OUTPUTS,
    ...overrides,
  };
}

function thrown(fn: () => unknown): SheetsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SheetsError);
    return error as SheetsError;
  }
  throw new Error('expected a SheetsError, but nothing was thrown');
}

describe('columnLetter', () => {
  it('turns 1-based column numbers into letters across the Z boundaries', () => {
    expect(columnLetter(1)).toBe('A');
    expect(columnLetter(26)).toBe('Z');
    expect(columnLetter(27)).toBe('AA');
    expect(columnLetter(52)).toBe('AZ');
    expect(columnLetter(53)).toBe('BA');
    expect(columnLetter(702)).toBe('ZZ');
    expect(columnLetter(703)).toBe('AAA');
    expect(columnLetter(18278)).toBe('ZZZ');
  });

  it('rejects 0, negatives and fractions, naming the parameter', () => {
    expect(() => columnLetter(0)).toThrow(/column must be a whole number ≥ 1, got 0/);
    expect(() => columnLetter(-3)).toThrow(RangeError);
    expect(() => columnLetter(2.5)).toThrow(/got 2\.5/);
  });
});

describe('quoteSheetName', () => {
  it('quotes every tab name', () => {
    expect(quoteSheetName('Statuses')).toBe("'Statuses'");
  });

  it('keeps spaces inside the quotes', () => {
    expect(quoteSheetName('Q1 plan 2025')).toBe("'Q1 plan 2025'");
  });

  it('doubles an apostrophe inside the name', () => {
    expect(quoteSheetName("Bob's tab")).toBe("'Bob''s tab'");
    expect(quoteSheetName("''")).toBe("''''''");
  });

  it('keeps Cyrillic names as they are', () => {
    expect(quoteSheetName('Статусы проектов')).toBe("'Статусы проектов'");
  });

  it('quotes a whole tab the same way', () => {
    expect(wholeSheet("Bob's tab")).toBe("'Bob''s tab'");
  });
});

describe('a1Range', () => {
  it('writes a rectangle on a quoted tab', () => {
    expect(a1Range('Q1 plan', { row: 2, column: 2 }, { row: 2, column: 4 })).toBe("'Q1 plan'!B2:D2");
  });

  it('writes a single cell when no end is given', () => {
    expect(a1Range('Tab', { row: 1, column: 1 })).toBe("'Tab'!A1");
  });

  it('leaves the end row open when only an end column is given', () => {
    expect(a1Range('Tab', { row: 2, column: 1 }, { column: 28 })).toBe("'Tab'!A2:AB");
  });

  it("quotes an apostrophe and Cyrillic in the tab of a range", () => {
    expect(a1Range("Ольга's", { row: 10, column: 27 }, { row: 12, column: 30 })).toBe("'Ольга''s'!AA10:AD12");
  });
});

describe('normalizeHeader', () => {
  it('trims, folds inner spaces and case-folds any script', () => {
    expect(normalizeHeader('  Due   Date ')).toBe('due date');
    expect(normalizeHeader('СТАТУС')).toBe('статус');
    expect(normalizeHeader('Статус')).toBe(normalizeHeader(' статус\t'));
  });

  it('treats composed and decomposed accents as one header', () => {
    expect(normalizeHeader('Cafe\u0301')).toBe(normalizeHeader('Café'));
  });
});

describe('mapHeaders', () => {
  it('finds columns trimmed and case-insensitively, in Cyrillic too', () => {
    const headers = ['  Проект ', 'СТАТУС', 'Комментарий', 'Срок', 'Проверка'];
    const layout = mapHeaders(headers, {
      sheet: 'Статусы',
      headerRow: 1,
      inputs: { id: 'проект', status: 'Статус', comment: 'комментарий', completion_date: 'срок' },
      outputs: { ...OUTPUTS, verdict: 'проверка' },
    });
    expect(layout.inputs).toEqual({ id: 1, status: 2, comment: 3, completion_date: 4 });
    expect(layout.outputs.verdict).toBe(5);
    expect(layout.identitySpan).toEqual({ first: 1, last: 4 });
  });

  it('skips inputs that are not configured', () => {
    const layout = mapHeaders(['Comment', 'x', 'Status'], layoutConfig({ inputs: { status: 'Status', comment: 'Comment', id: undefined } }));
    expect(layout.inputs).toEqual({ status: 3, comment: 1 });
    expect(layout.identitySpan).toEqual({ first: 1, last: 3 });
  });

  it('lists the headers that exist when an input column is missing', () => {
    const error = thrown(() => mapHeaders(['Project', ' Status ', '', 'Notes'], layoutConfig()));
    expect(error.message).toContain('"Comment" (columns.comment)');
    expect(error.message).toContain('"Due date" (columns.completion_date)');
    expect(error.message).toContain('Headers found: "Project", "Status", "Notes"');
    expect(error.message).toContain('Row 1 of "Statuses"');
    expect(error.hint).toContain('header_row');
  });

  it('says the header row is empty when it is', () => {
    const error = thrown(() => mapHeaders(['', ' '], layoutConfig({ headerRow: 3 })));
    expect(error.message).toContain('Row 3 of "Statuses"');
    expect(error.message).toContain('none (the row is empty)');
  });

  it('refuses a header that appears twice, naming both columns', () => {
    const error = thrown(() => mapHeaders(['Project', 'Status', 'Comment', 'Due date', 'status '], layoutConfig()));
    expect(error.message).toContain('"Status" (columns.status) appears 2 times');
    expect(error.message).toContain('columns B, E');
    expect(error.hint).toContain('unique');
  });

  it('refuses a duplicated output header too', () => {
    const headers = ['Project', 'Status', 'Comment', 'Due date', 'Model', 'model'];
    expect(thrown(() => mapHeaders(headers, layoutConfig())).message).toContain('(output.columns.model) appears 2 times');
  });

  it('plans missing output columns after the last used header, in field order', () => {
    const headers = ['Project', 'Status', '', 'Comment', 'Due date', 'Validation', '', ''];
    const layout = mapHeaders(headers, layoutConfig());
    expect(layout.outputs.verdict).toBe(6);
    expect(layout.missingOutputs).toEqual(['issues', 'suggestion', 'checked_at', 'model']);
    expect([layout.outputs.issues, layout.outputs.suggestion, layout.outputs.checked_at, layout.outputs.model]).toEqual([7, 8, 9, 10]);
  });

  it('plans every output column when none exists', () => {
    const layout = mapHeaders(['Project', 'Status', 'Comment', 'Due date'], layoutConfig());
    expect(layout.missingOutputs).toEqual([...OUTPUT_FIELDS]);
    expect(OUTPUT_FIELDS.map((f) => layout.outputs[f])).toEqual([5, 6, 7, 8, 9]);
  });

  it('plans missing outputs after existing outputs that sit to the right of a gap', () => {
    const headers = ['Project', 'Status', 'Comment', 'Due date', '', '', 'Checked at'];
    const layout = mapHeaders(headers, layoutConfig());
    expect(layout.outputs.checked_at).toBe(7);
    expect(layout.outputs.verdict).toBe(8);
    expect(layout.outputs.model).toBe(11);
  });
});

describe('outputSegments', () => {
  function layoutWith(outputs: Layout['outputs']): Layout {
    return { sheet: 'T', headerRow: 1, inputs: { status: 1, comment: 2 }, extras: [], outputs, missingOutputs: [], outputsInPlace: true, review: {}, missingHeaders: [], identitySpan: { first: 1, last: 2 }, config: layoutConfig() };
  }

  it('groups contiguous output columns into one segment', () => {
    expect(outputSegments(layoutWith({ verdict: 5, issues: 6, suggestion: 7, checked_at: 8, model: 9 }))).toEqual([
      { first: 5, fields: ['verdict', 'issues', 'suggestion', 'checked_at', 'model'] },
    ]);
  });

  it('splits at a gap and orders segments by column, not by field', () => {
    expect(outputSegments(layoutWith({ verdict: 9, issues: 10, suggestion: 3, checked_at: 4, model: 12 }))).toEqual([
      { first: 3, fields: ['suggestion', 'checked_at'] },
      { first: 9, fields: ['verdict', 'issues'] },
      { first: 12, fields: ['model'] },
    ]);
  });

  it('orders fields inside a segment by their column', () => {
    expect(outputSegments(layoutWith({ verdict: 7, issues: 6, suggestion: 5, checked_at: 8, model: 9 }))).toEqual([
      { first: 5, fields: ['suggestion', 'issues', 'verdict', 'checked_at', 'model'] },
    ]);
  });
});

describe('readEntries', () => {
  // Project | Status | Comment | Due date | Validation | Issues | Suggested rewrite | Checked at | Model
  const layout = mapHeaders(
    ['Project', 'Status', 'Comment', 'Due date', ...Object.values(OUTPUTS)],
    layoutConfig(),
  );

  it('turns each filled row into an entry with its sheet row number, inputs trimmed', () => {
    const values = [
      ['Project', 'Status', 'Comment', 'Due date'],
      ['P-1', ' Done ', ' Shipped. ', '2025-01-31', 'VALID', '', '', '2025-02-01T00:00:00Z', 'gpt-5-mini'],
      ['P-2', 'Planned', 'Start in May'],
    ];
    const { entries, incomplete } = readEntries(values, layout);
    expect(incomplete).toEqual([]);
    expect(entries.map((e) => e.row)).toEqual([2, 3]);
    expect(entries[0]).toMatchObject({
      id: 'P-1',
      inputs: { status: 'Done', comment: 'Shipped.', completion_date: '2025-01-31' },
      outputs: { verdict: 'VALID', issues: '', suggestion: '', checked_at: '2025-02-01T00:00:00Z', model: 'gpt-5-mini' },
    });
    expect(entries[1]?.inputs).toEqual({ status: 'Planned', comment: 'Start in May', completion_date: '' });
    expect(entries[1]?.outputs).toEqual({ verdict: '', issues: '', suggestion: '', checked_at: '', model: '' });
  });

  it('skips blank rows, including rows of spaces and rows with only old outputs', () => {
    const values = [
      ['Project', 'Status', 'Comment'],
      [],
      ['  ', ' ', '   '],
      ['', '', '', '', 'VALID', 'old issue'],
      ['P-9', 'Done', 'Closed'],
    ];
    const { entries, incomplete } = readEntries(values, layout);
    expect(entries.map((e) => e.row)).toEqual([5]);
    expect(incomplete).toEqual([]);
  });

  it('reports rows with only an id or only a date as incomplete, not as entries', () => {
    const values = [['Project', 'Status', 'Comment', 'Due date'], ['P-1'], ['', '', '', '2025-05-01'], ['P-3', 'Done', '']];
    const { entries, incomplete } = readEntries(values, layout);
    expect(incomplete).toEqual([2, 3]);
    expect(entries.map((e) => e.row)).toEqual([4]);
  });

  it('starts reading below the configured header row', () => {
    const titled = mapHeaders(['Project', 'Status', 'Comment', 'Due date'], layoutConfig({ headerRow: 2 }));
    const values = [['Quarterly statuses'], ['Project', 'Status', 'Comment', 'Due date'], ['P-1', 'Done', 'Closed']];
    const { entries } = readEntries(values, titled);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.row).toBe(3);
  });

  it('changes the fingerprint when any input or the id changes, and not when outputs do', () => {
    const base = ['P-1', 'Done', 'Closed', '2025-01-31'];
    const fingerprintOfRow = (cells: string[]) => {
      const entry = readEntries([['h'], cells], layout).entries[0];
      return entry && fingerprintOf(entry.id, entry.inputs);
    };
    const original = fingerprintOfRow(base);
    const variants = [
      ['P-2', 'Done', 'Closed', '2025-01-31'],
      ['P-1', 'Planned', 'Closed', '2025-01-31'],
      ['P-1', 'Done', 'Closed!', '2025-01-31'],
      ['P-1', 'Done', 'Closed', '2025-02-01'],
    ];
    const fingerprints = variants.map(fingerprintOfRow);
    expect(new Set([original, ...fingerprints]).size).toBe(5);
    expect(fingerprintOfRow([...base, 'INVALID', 'an issue'])).toBe(original);
    expect(fingerprintOfRow([' P-1 ', 'Done ', ' Closed', '2025-01-31'])).toBe(original);
  });

  it('keeps fields apart in the fingerprint, so text moving between columns is a change', () => {
    const a = fingerprintOf('P-1', { status: 'Done', comment: 'x', completion_date: '' });
    const b = fingerprintOf('P-1', { status: 'Don', comment: 'ex', completion_date: '' });
    expect(a).not.toBe(b);
  });

  it('computes the same fingerprint from the identity span alone as from the whole row', () => {
    const shifted = mapHeaders(['#', 'Project', 'Status', 'Comment', 'Due date', 'Validation'], layoutConfig());
    expect(shifted.identitySpan).toEqual({ first: 2, last: 5 });
    const cells = ['7', 'P-1', 'Done', 'Closed', '2025-01-31', 'VALID'];
    const entry = readEntries([['h'], cells], shifted).entries[0];
    if (!entry) throw new Error('no entry read');
    const fingerprint = fingerprintOf(entry.id, entry.inputs);
    const span = cells.slice(shifted.identitySpan.first - 1, shifted.identitySpan.last);
    expect(rowFingerprint(cells, shifted)).toBe(fingerprint);
    expect(rowFingerprint(span, shifted, shifted.identitySpan.first)).toBe(fingerprint);
  });
});
