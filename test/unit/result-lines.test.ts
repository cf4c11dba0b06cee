import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineIndex, parseSourceLink, sourceLink } from '../../src/sheets/index.js';

describe('results-tab lines (LineIndex)', () => {
  it('reads back the data tab and row of a link the bot wrote', () => {
    expect(parseSourceLink(sourceLink('abc', 17, 42))).toEqual({ gid: 17, row: 42 });
    expect(parseSourceLink('see row 4')).toBeUndefined();
  });

  it("keeps one line per data tab for the same id, and one per row for rows without an id or with a shared one", () => {
    const index = new LineIndex(7, new Set(['DUP']));
    index.add(2, 'P-1', sourceLink('s', 3, 2));
    index.add(3, 'P-1', sourceLink('s', 7, 9));
    index.add(4, '', sourceLink('s', 7, 5));
    index.add(5, 'DUP', sourceLink('s', 7, 6));
    expect(index.find('P-1', 2)).toBe(3); // its own tab's line, wherever the row is now
    expect(index.find('', 5)).toBe(4);
    expect(index.find('', 6)).toBeUndefined(); // another id-less row: a line of its own
    expect(index.find('DUP', 6)).toBe(5);
    expect(index.find('DUP', 8)).toBeUndefined();
    index.assign('', 6, 6);
    expect(index.find('', 6)).toBe(6);
  });

  it('matches a line whose link a person edited by its id alone', () => {
    const index = new LineIndex(1);
    index.add(2, 'P-9', 'hand-written');
    expect(index.find('P-9', 30)).toBe(2);
  });

  it('never throws on any cells', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.array(fc.tuple(fc.string(), fc.oneof(fc.string(), fc.constant('#gid=1&range=2:2'))), { maxLength: 20 }), fc.string(), fc.integer({ min: 1, max: 1e6 }), (gid, lines, id, row) => {
        const index = new LineIndex(gid, new Set([id]));
        lines.forEach(([lineId, link], i) => index.add(i + 2, lineId, link));
        const found = index.find(id, row);
        expect(found === undefined || (found >= 2 && found < lines.length + 2)).toBe(true);
        parseSourceLink(id);
      }),
    );
  });
});
