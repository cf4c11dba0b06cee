/**
 * The emulator's conditional formats, data validation, charts and column metadata: what
 * Sheets accepts and refuses (400 INVALID_ARGUMENT, one bad request applying nothing),
 * what spreadsheets.get returns under a fields mask, how the pieces follow inserted,
 * deleted and moved columns; and random batchUpdate bodies and masks never crash it.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { startSheetsEmulator, type SheetsEmulator } from '../support/sheets-emulator/index.js';
import { parseMask, applyMask } from '../support/sheets-emulator/get.js';
import { shiftInterval } from '../support/sheets-emulator/decor.js';

const ID = 'book';
let emu: SheetsEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function start(): Promise<SheetsEmulator> {
  emu = await startSheetsEmulator({ requireAuth: false, recordBodies: false });
  emu.addSpreadsheet(ID, [{ title: 'Tab', rows: [['Name', 'Verdict', 'Box'], ['a', 'VALID', ''], ['b', 'INVALID', '']], rowCount: 100, columnCount: 6 }, { title: 'Other', sheetId: 9 }]);
  return emu;
}

async function post(e: SheetsEmulator, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${e.url}v4/spreadsheets/${ID}:batchUpdate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function get(e: SheetsEmulator, query: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${e.url}v4/spreadsheets/${ID}?${query}`);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const messageOf = (json: Record<string, unknown>): string => String((json['error'] as { message?: string } | undefined)?.message);
const RULE = (column: number, text = 'VALID') => ({
  ranges: [{ sheetId: 0, startRowIndex: 1, startColumnIndex: column, endColumnIndex: column + 1 }],
  booleanRule: { condition: { type: 'TEXT_EQ', values: [{ userEnteredValue: text }] }, format: { backgroundColor: { green: 0.6 }, textFormat: { bold: true } } },
});

describe('sheets emulator: conditional formats, validation, charts', () => {
  it('adds, lists under a fields mask, and deletes conditional format rules', async () => {
    const e = await start();
    expect((await post(e, { requests: [{ addConditionalFormatRule: { rule: RULE(1), index: 0 } }, { addConditionalFormatRule: { rule: RULE(1, 'INVALID'), index: 1 } }] })).status).toBe(200);
    const listed = await get(e, 'fields=sheets(properties(title),conditionalFormats)');
    expect(listed.json).toEqual({
      sheets: [
        {
          properties: { title: 'Tab' },
          conditionalFormats: [
            { ranges: [{ sheetId: 0, startRowIndex: 1, startColumnIndex: 1, endColumnIndex: 2 }], booleanRule: { ...RULE(1).booleanRule, format: { backgroundColor: { green: 0.6 }, backgroundColorStyle: { rgbColor: { green: 0.6 } }, textFormat: { bold: true } } } },
            { ranges: [{ sheetId: 0, startRowIndex: 1, startColumnIndex: 1, endColumnIndex: 2 }], booleanRule: { ...RULE(1, 'INVALID').booleanRule, format: { backgroundColor: { green: 0.6 }, backgroundColorStyle: { rgbColor: { green: 0.6 } }, textFormat: { bold: true } } } },
          ],
        },
        { properties: { title: 'Other' } },
      ],
    });
    const deleted = await post(e, { requests: [{ deleteConditionalFormatRule: { sheetId: 0, index: 0 } }] });
    const removed = (deleted.json['replies'] as Array<{ deleteConditionalFormatRule: { rule: { booleanRule: { condition: unknown } } } }>)[0];
    expect(removed?.deleteConditionalFormatRule.rule.booleanRule.condition).toEqual(RULE(1).booleanRule.condition);
    expect(e.decor(ID, 'Tab').conditionalFormats).toHaveLength(1);
  });

  it('refuses what Sheets refuses with a 400 that names the request, and applies nothing of the batch', async () => {
    const e = await start();
    const cases: Array<[unknown, RegExp]> = [
      [{ addConditionalFormatRule: { rule: { ...RULE(1), ranges: [{ sheetId: 5 }] } } }, /Invalid requests\[1\]\.addConditionalFormatRule: No grid with id: 5/],
      [{ addConditionalFormatRule: { rule: { ...RULE(1), booleanRule: { condition: { type: 'ONE_OF_LIST', values: [{ userEnteredValue: 'x' }] }, format: {} } } } }, /Invalid ConditionType ONE_OF_LIST for conditional formatting/],
      [{ addConditionalFormatRule: { rule: { ...RULE(1), booleanRule: { condition: { type: 'TEXT_EQ' }, format: {} } } } }, /TEXT_EQ condition for conditional formatting takes 1 ConditionValue, got 0/],
      [{ addConditionalFormatRule: { rule: { ...RULE(1), booleanRule: { ...RULE(1).booleanRule, format: { textFormat: { fontSize: 20 } } } } } }, /can only set bold, italic, strikethrough, foreground color and background color, not format\.textFormat\.fontSize/],
      [{ addConditionalFormatRule: { rule: { ...RULE(1), ranges: [{ sheetId: 0, startRowIndex: 0, endRowIndex: 101 }] } } }, /exceeds grid limits\. Max rows: 100, max columns: 6/],
      [{ setDataValidation: { range: { sheetId: 0, startColumnIndex: 2, endColumnIndex: 3 }, rule: { condition: { type: 'TEXT_STARTS_WITH', values: [{ userEnteredValue: 'a' }] } } } }, /Invalid ConditionType TEXT_STARTS_WITH for data validation/],
      [{ deleteConditionalFormatRule: { sheetId: 0, index: 3 } }, /Invalid index: 3/],
      // relativeDate: only DATE_BEFORE/AFTER/ON_OR_BEFORE/ON_OR_AFTER, in conditional formatting only, and only the RelativeDate enum.
      [{ addConditionalFormatRule: { rule: { ...RULE(1), booleanRule: { ...RULE(1).booleanRule, condition: { type: 'TEXT_EQ', values: [{ relativeDate: 'TODAY' }] } } } } }, /a relativeDate is valid only for DATE_BEFORE/],
      [{ addConditionalFormatRule: { rule: { ...RULE(1), booleanRule: { ...RULE(1).booleanRule, condition: { type: 'DATE_BEFORE', values: [{ relativeDate: 'LAST_CENTURY' }] } } } } }, /RelativeDate\), "LAST_CENTURY"/],
      [{ setDataValidation: { range: { sheetId: 0, startColumnIndex: 2, endColumnIndex: 3 }, rule: { condition: { type: 'DATE_AFTER', values: [{ relativeDate: 'TODAY' }] } } } }, /relative dates are not supported in data validation/],
      [{ addChart: { chart: { spec: { basicChart: { chartType: 'COLUMN', series: [{ series: { sourceRange: { sources: [{ sheetId: 0, startColumnIndex: 0, endColumnIndex: 2 }] } } }] } }, position: { sheetId: 9 } } } }, /exactly one dimension must have a length of 1/],
      [{ updateChartSpec: { chartId: 42, spec: { basicChart: { chartType: 'LINE' } } } }, /No chart with id: 42/],
      [{ createDeveloperMetadata: { developerMetadata: { metadataKey: 'k', visibility: 'DOCUMENT', location: { dimensionRange: { sheetId: 0, dimension: 'COLUMNS', startIndex: 0, endIndex: 2 } } } } }, /must represent a single row or column/],
      [{ updateCells: { range: { sheetId: 0, startRowIndex: 0, endRowIndex: 1, startColumnIndex: 0, endColumnIndex: 1 }, rows: [{ values: [{ userEnteredValue: { numberValue: 'x' } }] }], fields: 'userEnteredValue' } }, /Invalid value at .*numberValue' \(TYPE_DOUBLE\)/],
    ];
    for (const [bad, message] of cases) {
      // A good request first: the bad one after it must undo it.
      const { status, json } = await post(e, { requests: [{ addConditionalFormatRule: { rule: RULE(1) } }, bad, { setDataValidation: { range: { sheetId: 0, startRowIndex: 1, startColumnIndex: 2, endColumnIndex: 3 }, rule: { condition: { type: 'BOOLEAN' } } } }] });
      expect(status, JSON.stringify(bad)).toBe(400);
      expect((json['error'] as { status: string }).status).toBe('INVALID_ARGUMENT');
      expect(messageOf(json)).toMatch(message);
      expect(e.decor(ID, 'Tab')).toEqual({ conditionalFormats: [], validations: [], charts: [] });
      expect(e.developerMetadata(ID)).toEqual([]);
    }
  });

  it('moves rules, validation, chart ranges and column metadata with inserted, moved and deleted columns, as Sheets does', async () => {
    const e = await start();
    const chart = { title: 't', basicChart: { chartType: 'COLUMN', domains: [{ domain: { sourceRange: { sources: [{ sheetId: 0, startRowIndex: 0, startColumnIndex: 0, endColumnIndex: 1 }] } } }], series: [{ series: { sourceRange: { sources: [{ sheetId: 0, startRowIndex: 0, startColumnIndex: 1, endColumnIndex: 2 }] } } }] } };
    const setup = await post(e, {
      requests: [
        { addConditionalFormatRule: { rule: RULE(1) } },
        { setDataValidation: { range: { sheetId: 0, startRowIndex: 1, endRowIndex: 50, startColumnIndex: 2, endColumnIndex: 3 }, rule: { condition: { type: 'BOOLEAN' } } } },
        { createDeveloperMetadata: { developerMetadata: { metadataKey: 'mark', visibility: 'DOCUMENT', location: { dimensionRange: { sheetId: 0, dimension: 'COLUMNS', startIndex: 2, endIndex: 3 } } } } },
        { addChart: { chart: { chartId: 5, spec: chart, position: { sheetId: 9 } } } },
      ],
    });
    expect(setup.status).toBe(200);
    e.insertColumns(ID, 'Tab', 1, 2); // two columns before A
    let d = e.decor(ID, 'Tab');
    expect(d.conditionalFormats[0]?.['ranges']).toEqual([{ sheetId: 0, startRowIndex: 1, startColumnIndex: 3, endColumnIndex: 4 }]);
    expect(d.validations.map((v) => v.range)).toEqual([{ sheetId: 0, startRowIndex: 1, endRowIndex: 50, startColumnIndex: 4, endColumnIndex: 5 }]);
    expect(e.developerMetadata(ID)[0]?.location).toEqual({ locationType: 'COLUMN', dimensionRange: { sheetId: 0, dimension: 'COLUMNS', startIndex: 4, endIndex: 5 } });
    expect(JSON.stringify(e.decor(ID, 'Other').charts[0]?.['spec'])).toContain('"startColumnIndex":3,"endColumnIndex":4');
    // Through the API too: the Verdict column (D) moved to the front.
    expect((await post(e, { requests: [{ moveDimension: { source: { sheetId: 0, dimension: 'COLUMNS', startIndex: 3, endIndex: 4 }, destinationIndex: 0 } }] })).status).toBe(200);
    d = e.decor(ID, 'Tab');
    expect(d.conditionalFormats[0]?.['ranges']).toEqual([{ sheetId: 0, startRowIndex: 1, endColumnIndex: 1 }]);
    // Deleting its column takes the rule with it; the validation's column and its metadata go too.
    expect((await post(e, { requests: [{ deleteDimension: { range: { sheetId: 0, dimension: 'COLUMNS', startIndex: 0, endIndex: 1 } } }, { deleteDimension: { range: { sheetId: 0, dimension: 'COLUMNS', startIndex: 3, endIndex: 4 } } }] })).status).toBe(200);
    d = e.decor(ID, 'Tab');
    expect(d.conditionalFormats).toEqual([]);
    expect(d.validations).toEqual([]);
    expect(e.developerMetadata(ID)).toEqual([]);
  });

  it('returns grid data (values, validation, column metadata) for the ranges asked, only for their tabs', async () => {
    const e = await start();
    await post(e, {
      requests: [
        { setDataValidation: { range: { sheetId: 0, startRowIndex: 1, startColumnIndex: 2, endColumnIndex: 3 }, rule: { condition: { type: 'BOOLEAN' } } } },
        { createDeveloperMetadata: { developerMetadata: { metadataKey: 'mark', metadataValue: 'box', visibility: 'DOCUMENT', location: { dimensionRange: { sheetId: 0, dimension: 'COLUMNS', startIndex: 2, endIndex: 3 } } } } },
      ],
    });
    const { status, json } = await get(e, `ranges=${encodeURIComponent('Tab!1:2')}&fields=${encodeURIComponent('sheets(properties(title),data(rowData(values(formattedValue,dataValidation)),columnMetadata(developerMetadata(metadataKey,metadataValue))))')}`);
    expect(status).toBe(200);
    const sheets = json['sheets'] as Array<{ properties: unknown; data: Array<{ rowData: unknown[]; columnMetadata: Array<Record<string, unknown>> }> }>;
    expect(sheets.map((s) => s.properties)).toEqual([{ title: 'Tab' }]);
    expect(sheets[0]?.data[0]?.rowData).toEqual([{ values: [{ formattedValue: 'Name' }, { formattedValue: 'Verdict' }, { formattedValue: 'Box' }] }, { values: [{ formattedValue: 'a' }, { formattedValue: 'VALID' }, { dataValidation: { condition: { type: 'BOOLEAN' } } }] }]);
    expect(sheets[0]?.data[0]?.columnMetadata[2]).toEqual({ developerMetadata: [{ metadataKey: 'mark', metadataValue: 'box' }] });
    expect(sheets[0]?.data[0]?.columnMetadata[1]).toEqual({});
  });

  it('draws the sheet as a page (GET /picture/ID): rule colours on the cells, no cell text as markup or script', async () => {
    const e = await start();
    e.setCell(ID, 'Tab', 3, 1, '</script><script>alert(1)</script>');
    await post(e, {
      requests: [
        { addConditionalFormatRule: { rule: RULE(1) } },
        { addChart: { chart: { spec: { title: '</script><b>x', basicChart: { chartType: 'LINE', series: [{ series: { sourceRange: { sources: [{ sheetId: 0, startColumnIndex: 0, endColumnIndex: 1 }] } } }] } }, position: { sheetId: 9 } } } },
      ],
    });
    const res = await fetch(`${e.url}picture/${ID}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'");
    const page = await res.text();
    expect(page).toContain('<td data-cell="Tab!B2" style="background:#009900;font-weight:bold">VALID</td>');
    expect(page).toContain('<td data-cell="Tab!B3" style="">INVALID</td>');
    expect(page).not.toContain('<script>alert(1)');
    expect(page).not.toContain('</script><b>x');
    expect(page.match(/<script>/g)).toHaveLength(1);
  });

  it('shifts intervals as Sheets shifts ranges', () => {
    expect(shiftInterval(2, 5, { kind: 'insert', dim: 'COLUMNS', at: 2, count: 1 })).toEqual([3, 6]);
    expect(shiftInterval(2, 5, { kind: 'insert', dim: 'COLUMNS', at: 3, count: 2 })).toEqual([2, 7]);
    expect(shiftInterval(2, undefined, { kind: 'insert', dim: 'ROWS', at: 9, count: 2 })).toEqual([2, undefined]);
    expect(shiftInterval(2, 5, { kind: 'delete', dim: 'COLUMNS', at: 0, count: 3 })).toEqual([0, 2]);
    expect(shiftInterval(2, 3, { kind: 'delete', dim: 'COLUMNS', at: 2, count: 1 })).toBeUndefined();
    expect(shiftInterval(4, 5, { kind: 'move', dim: 'COLUMNS', start: 4, end: 5, destination: 0 })).toEqual([0, 1]);
    expect(shiftInterval(0, 1, { kind: 'move', dim: 'COLUMNS', start: 4, end: 5, destination: 0 })).toEqual([1, 2]);
  });
});

describe('sheets emulator: random input', () => {
  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer({ min: -3, max: 2000 }), fc.double(), fc.string({ maxLength: 8 }), fc.constantFrom('TEXT_EQ', 'BOOLEAN', 'ONE_OF_LIST', 'COLUMN', 'COLUMNS', 'ROWS', 'userEnteredValue', '*'), tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 3 }),
    object: fc.dictionary(
      fc.constantFrom('sheetId', 'startRowIndex', 'endRowIndex', 'startColumnIndex', 'endColumnIndex', 'ranges', 'booleanRule', 'gradientRule', 'condition', 'type', 'values', 'format', 'textFormat', 'rule', 'range', 'index', 'newIndex', 'spec', 'basicChart', 'chartType', 'domains', 'series', 'sourceRange', 'sources', 'position', 'chartId', 'objectId', 'developerMetadata', 'metadataKey', 'location', 'dimensionRange', 'dimension', 'startIndex', 'endIndex', 'visibility', 'rows', 'fields', 'start', 'chart', 'x'),
      tie('value'),
      { maxKeys: 5 },
    ),
  })).object;
  const kinds = fc.constantFrom('addConditionalFormatRule', 'updateConditionalFormatRule', 'deleteConditionalFormatRule', 'setDataValidation', 'addChart', 'updateChartSpec', 'deleteEmbeddedObject', 'createDeveloperMetadata', 'deleteDeveloperMetadata', 'updateCells', 'insertDimension', 'deleteDimension', 'moveDimension');

  it('answers random batchUpdate bodies with 200 or a 400 INVALID_ARGUMENT, never a crash', async () => {
    const e = await start();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(kinds, json), { minLength: 1, maxLength: 4 }), async (requests) => {
        const { status, json: body } = await post(e, { requests: requests.map(([kind, req]) => ({ [kind]: req })) });
        expect([200, 400]).toContain(status);
        if (status === 400) expect((body['error'] as { status: string }).status).toBe('INVALID_ARGUMENT');
      }),
      { numRuns: 150 },
    );
    // Whatever was accepted, the sheet still reads.
    expect((await get(e, 'fields=sheets(properties,conditionalFormats,charts)')).status).toBe(200);
  });

  it('answers random fields masks with 200 or 400, and a parsed mask keeps only what it names', async () => {
    const e = await start();
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom('a', 's', '.', ',', '(', ')', '/', '*', ' ', 'sheets', 'properties', 'title', 'data'), maxLength: 12 }), async (mask) => {
        const { status } = await get(e, `fields=${encodeURIComponent(mask)}`);
        expect([200, 400]).toContain(status);
      }),
      { numRuns: 100 },
    );
    expect(applyMask({ a: 1, b: { c: 2, d: 3 }, e: [{ c: 4, f: 5 }] }, parseMask('b.c,e(c)'))).toEqual({ b: { c: 2 }, e: [{ c: 4 }] });
    expect(() => parseMask('a(b')).toThrow(/Invalid field selection a\(b/);
  });
});
