/**
 * Issue 4, item 7 (end to end): broken configs through the CLI, and awkward rows: blanks,
 * ids alone, merged-looking gaps, 50,000-character comments and Unicode of every kind.
 * (test/unit/config.test.ts covers the config rules one by one; here the CLI must turn
 * them into exit 2 and a message with the key and the fix, before contacting anything.)
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { expectedCells, rowOf } from '../support/inspect.js';
import { defaultVerdict, messageText, type ChatRequest } from '../support/openai-emulator/index.js';
import type { Cell } from '../support/sheets-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const cacheOf = (b: Bed) => String((b.config.cache as { path: string }).path);
const chatBodies = (b: Bed) => b.llm.requests.map((r) => r.body as ChatRequest).filter((body) => Array.isArray(body?.messages));
const userText = (body: ChatRequest) =>
  body.messages
    .filter((m) => m.role === 'user')
    .map(messageText)
    .join('\n');

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

type Breakage = (b: Bed) => void;
const BROKEN: Array<[string, Breakage, string, RegExp]> = [
  ['a spreadsheet id written as a number', (b) => b.setConfig({ sheets: { spreadsheet_id: 1234567890 } }), 'sheets.spreadsheet_id', /put the id in quotes/],
  ['a tab name written as a number', (b) => b.setConfig({ sheets: { sheet: 2024 } }), 'sheets.sheet', /expected the tab name \(a text\).*got 2024/],
  ['an empty providers list', (b) => b.setConfig({ llm: { providers: [] } }), 'llm.providers', /list at least one provider/],
  ['max_workers 0', (b) => b.setConfig({ llm: { max_workers: 0 } }), 'llm.max_workers', /whole number from 1 to 500.*got 0/],
  ['max_retries as a word', (b) => b.setConfig({ llm: { max_retries: 'three' } }), 'llm.max_retries', /whole number from 0 to 20.*got "three"/],
  // columns.comment is optional since issue 14 (rows of any shape); the rulebook is not.
  ['a missing required key', (b) => b.setConfig({ rules: { text: undefined } }), 'rules.text', /missing/],
  ['no input column at all', (b) => b.setConfig({ columns: { status: undefined, comment: undefined }, rules: { allowed_statuses: undefined } }), 'columns', /at least one column to check/],
  [
    'a credentials file that does not exist',
    (b) => b.setConfig({ sheets: { credentials_file: path.join(b.dir, 'no-such-key.json') } }),
    'sheets.credentials_file',
    /no-such-key\.json does not exist; download a JSON key for the service account/,
  ],
  [
    'a credentials file that is a user credential, not a service-account key',
    (b) => writeFileSync(path.join(b.dir, 'credentials.json'), JSON.stringify({ type: 'authorized_user', client_id: 'x', client_secret: 'y', refresh_token: 'z' })),
    'sheets.credentials_file',
    /"authorized_user" credential; expected a JSON key with "type": "service_account"/,
  ],
  [
    'a credentials file that is an OAuth client secret',
    (b) => writeFileSync(path.join(b.dir, 'credentials.json'), JSON.stringify({ installed: { client_id: 'x', client_secret: 'y' } })),
    'sheets.credentials_file',
    /not a service-account key; expected a JSON key with "type": "service_account"/,
  ],
  [
    'an API key variable that is not set',
    (b) => {
      delete b.env.TEST_OPENAI_KEY;
    },
    'llm.providers[0].api_key_env',
    /TEST_OPENAI_KEY is not set; export it/,
  ],
];

describe('broken configs through the CLI', () => {
  it.each(BROKEN)('rejects %s with exit 2, naming the key and the fix, before contacting anything', async (_what, breakIt, key, fix) => {
    bed = await startBed({ rows: sampleRows(2) });
    breakIt(bed);
    const result = await bed.run();
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`${key}: `);
    expect(result.stderr).toMatch(fix);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(bed.sheets.calls).toHaveLength(0);
    expect(bed.llm.callCount()).toBe(0);
    expect(existsSync(cacheOf(bed))).toBe(false);
  });
});

describe('awkward rows', () => {
  it('skips blank rows, reports rows with only an id or a date, and judges a row whose status is blank under a merged-looking cell', async () => {
    const rows: Cell[][] = [
      ['PRJ-A', 'Done', 'Shipped the importer and closed the epic; nothing further planned.', '2026-12-01'],
      [null, null, null, null],
      ['PRJ-B', null, null, null],
      ['   ', ' ', '  ', ''],
      [null, null, null, '2026-12-05'],
      ['PRJ-C', null, 'Continued from the row above: load test passed, go-live next Monday.', null],
      ['PRJ-D', 'Planned', 'Kickoff booked for Monday; plan and owners due on Friday.', '2026-12-09'],
    ];
    bed = await startBed({ rows });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(3);
    const summary = JSON.parse(result.stdout) as { rows: { read: number; incomplete: number }; warnings: string[] };
    expect(summary.rows.incomplete).toBe(2);
    expect(summary.warnings.join('\n')).toMatch(/2 rows have neither status nor comment.*rows 4, 6/);
    const values = bed.values();
    const verdictCol = col(values, 'Validation');
    expect(values.map((r) => r[verdictCol] ?? '')).toEqual(['Validation', 'VALID', '', '', '', '', 'INVALID', 'VALID']);
    expect(values[6]?.[col(values, 'Issues')]).toContain('The status is empty');
    // The skipped rows got nothing written at all.
    for (const index of [2, 3, 4, 5]) expect(values[index]?.slice(4).every((c) => c === '')).toBe(true);
  });

  it('sends at most llm.max_comment_chars of a 50,000-character comment with a note saying so, and writes its verdict', async () => {
    const long = `Migration status, long form. ${'Moved one more table and checked the row counts. '.repeat(1020)}`.slice(0, 50_000);
    expect(long).toHaveLength(50_000);
    const rows = [['PRJ-LONG', 'In progress', long, '2026-12-01'], ...sampleRows(2)];
    bed = await startBed({ rows, config: { llm: { max_comment_chars: 1000 } } });
    const result = await bed.run();
    expect(result.code, result.stderr).toBe(0);

    const body = chatBodies(bed).find((b) => String(rowOf(b)?.comment).startsWith('Migration status'));
    if (!body) throw new Error('the long row was never asked');
    const sent = String(rowOf(body)?.comment);
    expect(sent).toBe(long.slice(0, 1000));
    expect(userText(body)).toMatch(/the comment was 50,?000 characters long; only the first 1,?000 are shown/);
    expect(JSON.stringify(body).length).toBeLessThan(1000 + 6000);

    const values = bed.values();
    expect(values[1]?.[2]).toBe(long); // the cell itself is untouched
    expect(values[1]?.[col(values, 'Validation')]).toMatch(/^(VALID|INVALID)$/);
    expect(values[1]?.[col(values, 'Suggested rewrite')]).toBe(`Rewrite: ${long.slice(0, 1000)}`);

    // The cut is stable: the next run finds the row cached.
    const calls = bed.llm.callCount();
    expect((await bed.run()).code).toBe(0);
    expect(bed.llm.callCount()).toBe(calls);
  });

  it('cuts a long comment on a character boundary, never through an emoji', async () => {
    const emoji = `x${'😀'.repeat(24_999)}`; // 49,999 UTF-16 units: unit 1000 is the first half of an emoji
    bed = await startBed({ rows: [['PRJ-EMOJI', 'Done', emoji, '']], config: { llm: { max_comment_chars: 1000 } } });
    expect((await bed.run()).code).toBe(0);
    const [body] = chatBodies(bed);
    const sent = String(rowOf(body ?? { messages: [] })?.comment);
    expect(sent.length).toBeGreaterThanOrEqual(999);
    expect(sent.length).toBeLessThanOrEqual(1000);
    expect(sent, 'the prompt holds half an emoji (a lone surrogate)').not.toMatch(LONE_SURROGATE);
  });

  it('round-trips Unicode of every kind into the right rows, byte for byte', async () => {
    const comments = [
      'Завершили миграцию данных; следующий шаг — нагрузочный тест к пятнице.',
      '数据迁移已完成；下一步在周五之前完成负载测试，负责人已确认。',
      'データ移行が完了しました。次は金曜日までに負荷試験を行います。',
      '데이터 마이그레이션 완료; 다음 단계는 금요일까지 부하 테스트입니다.',
      '👩🏽‍💻 Deployed the new build 🚀; next: load test 🧪 by Friday 🗓️, flag 🇺🇦 raised.',
      'أكملنا ترحيل البيانات؛ الخطوة التالية هي اختبار الحمل يوم الجمعة.',
      'סיימנו את ההגירה; next step: בדיקת עומס ביום שישי (v2.3).',
      'Mixed \u202Bمضمن\u202C direction \u2067עברית\u2069 markers; review booked for Friday.',
      'Cafe\u0301 menu updated; Z\u0351\u0300a\u0336l\u0334g\u0335o\u0337 text cleaned; review on Friday.',
      'Café menu updated; Z\u0351\u0300a\u0336l\u0334g\u0335o\u0337 text cleaned; review on Friday.',
      '\u200BZero\u200Bwidth\u200Cnon-joiner\u200Djoiner\u2060word-joiner; next step: review on Friday.',
      'Tab\there, line\nbreak, and "quotes" \\ backslashes; next step: review on Friday.',
    ];
    const rows = comments.map((comment, i) => [`ПРОЕКТ-${i + 1} 项目`, 'In progress', comment, '2026-12-01']);
    bed = await startBed({ rows });
    const result = await bed.run();
    expect(result.code, result.stderr).toBe(0);
    // Every row is its own question (the composed and decomposed "Café" rows differ), sent unchanged.
    expect(bed.llm.callCount()).toBe(comments.length);
    const sent = chatBodies(bed).map((body) => String(rowOf(body)?.comment));
    expect(sent.sort()).toEqual([...comments].sort());
    const values = bed.values();
    rows.forEach((row, i) => {
      const cells = values[i + 1] ?? [];
      expect(cells.slice(0, 4), `row ${i + 2}`).toEqual(row);
      expect(cells[col(values, 'Suggested rewrite')], `row ${i + 2}`).toBe(`Rewrite: ${row[2] ?? ''}`);
      expect(cells[col(values, 'Validation')], `row ${i + 2}`).toBe(expectedCells(row).verdict);
    });
  });

  it('works on a tab and headers named in another script, with an apostrophe and an emoji in the tab name', async () => {
    const tab = "Статус'ы 2025 📊";
    const rows = [
      ['П-1', 'Готово', 'Отчёт отправлен заказчику; дальнейших шагов не запланировано.', '2026-12-01'],
      ['П-2', 'В работе', 'TBD', '2026-12-02'],
      ['П-3', 'Отложено', 'Ждём бюджет; решение комитета ожидается в пятницу.', ''],
    ];
    bed = await startBed({ rows: sampleRows(1) });
    bed.sheets.addSpreadsheet('sheet-unicode', [{ title: 'Другая', rows: [['x']] }, { title: tab, rows: [['Проект', 'Статус', 'Комментарий', 'Срок'], ...rows], columnCount: 12 }]);
    bed.setConfig({
      sheets: { spreadsheet_id: 'sheet-unicode', sheet: tab },
      columns: { id: 'проект', status: 'СТАТУС', comment: ' Комментарий ', completion_date: 'Срок' },
      rules: { allowed_statuses: ['Запланировано', 'В работе', 'Готово'] },
    });
    const result = await bed.run();
    expect(result.code, result.stderr).toBe(0);
    const values = bed.sheets.values('sheet-unicode', tab);
    expect(values[0]?.slice(4, 9)).toEqual(['Validation', 'Issues', 'Suggested rewrite', 'Checked at', 'Model']);
    rows.forEach((row, i) => {
      const cells = values[i + 1] ?? [];
      const allowed = row[1] !== 'Отложено';
      expect(cells[col(values, 'Validation')], row[0]).toBe(defaultVerdict({ comment: row[2] ?? '' }).is_valid && allowed ? 'VALID' : 'INVALID');
      expect(cells[col(values, 'Suggested rewrite')], row[0]).toBe(`Rewrite: ${row[2]}`);
    });
    // The bed's own sheet was not touched.
    expect(bed.sheets.values(SPREADSHEET_ID, TAB)[0]).toHaveLength(4);
  });
});
