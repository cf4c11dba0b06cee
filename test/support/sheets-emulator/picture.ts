/**
 * The emulated spreadsheet as a person would see it in Sheets, as one self-contained HTML
 * page: each tab's values, the formats its conditional format rules imply (first
 * matching rule wins, as in Sheets), checkboxes where a BOOLEAN validation is, a dropdown
 * mark where a list is, and each chart drawn from its spec with Chart.js (read from
 * node_modules and inlined, so the page works offline). Used by the screenshot test and
 * the demo; not part of the Sheets API. Every text from a cell is escaped (view.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { columnName } from './a1.js';
import { decorOf, validationAt, type CfRule, type Chart } from './decor.js';
import type { Sheet } from './grid.js';
import { obj, shown } from './grid-range.js';
import { html } from './view.js';
import type { Spreadsheet } from './workbook.js';

type Json = Record<string, unknown>;

export interface PictureOptions {
  /** Tabs to show, in order; all by default. */
  tabs?: readonly string[];
  /** Rows shown per tab (header included); 30 by default. */
  maxRows?: number;
  /** Widest a cell is drawn, in CSS pixels (longer text is cut with an ellipsis). */
  cellWidth?: number;
}

let chartJs: string | undefined;

function chartScript(): string {
  // The UMD build sits beside the package's entry point (its "exports" do not list it).
  chartJs ??= readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  return chartJs;
}

function hex(color: unknown): string | undefined {
  const c = obj(color);
  if (Object.keys(c).length === 0) return undefined;
  const part = (k: string): string => Math.round((typeof c[k] === 'number' ? c[k] : 0) * 255).toString(16).padStart(2, '0');
  return `#${part('red')}${part('green')}${part('blue')}`;
}

/** Whether a rule's boolean condition holds for a cell's displayed text (the types the bot and people commonly use). */
function holds(condition: Json, text: string): boolean {
  const values = (Array.isArray(condition['values']) ? condition['values'] : []).map((v) => shown(obj(v)['userEnteredValue'] ?? ''));
  const [a = '', b = ''] = values;
  const n = Number(text);
  const num = text.trim() !== '' && Number.isFinite(n);
  switch (condition['type']) {
    case 'TEXT_EQ':
      return text.toLowerCase() === a.toLowerCase();
    case 'TEXT_CONTAINS':
      return text.toLowerCase().includes(a.toLowerCase());
    case 'TEXT_NOT_CONTAINS':
      return !text.toLowerCase().includes(a.toLowerCase());
    case 'TEXT_STARTS_WITH':
      return text.toLowerCase().startsWith(a.toLowerCase());
    case 'TEXT_ENDS_WITH':
      return text.toLowerCase().endsWith(a.toLowerCase());
    case 'BLANK':
      return text === '';
    case 'NOT_BLANK':
      return text !== '';
    case 'NUMBER_GREATER':
      return num && n > Number(a);
    case 'NUMBER_LESS':
      return num && n < Number(a);
    case 'NUMBER_EQ':
      return num && n === Number(a);
    case 'NUMBER_BETWEEN':
      return num && n >= Number(a) && n <= Number(b);
    default:
      return false;
  }
}

/** The CSS the first matching rule gives a cell. */
function ruleStyle(rules: readonly CfRule[], r: number, c: number, text: string): string {
  for (const rule of rules) {
    if (!rule.ranges.some((s) => r >= s.r0 && (s.r1 === undefined || r < s.r1) && c >= s.c0 && (s.c1 === undefined || c < s.c1))) continue;
    const boolean = obj(rule.body['booleanRule']);
    if (!holds(obj(boolean['condition']), text)) continue;
    const format = obj(boolean['format']);
    const tf = obj(format['textFormat']);
    const css: string[] = [];
    const fill = hex(format['backgroundColor'] ?? obj(format['backgroundColorStyle'])['rgbColor']);
    const ink = hex(tf['foregroundColor'] ?? obj(tf['foregroundColorStyle'])['rgbColor']);
    if (fill) css.push(`background:${fill}`);
    if (ink) css.push(`color:${ink}`);
    if (tf['bold'] === true) css.push('font-weight:bold');
    if (tf['italic'] === true) css.push('font-style:italic');
    if (tf['strikethrough'] === true) css.push('text-decoration:line-through');
    return css.join(';');
  }
  return '';
}

function cellHtml(book: Spreadsheet, sheet: Sheet, rules: readonly CfRule[], r: number, c: number): string {
  const stored = sheet.get(r, c);
  const value = stored?.value;
  const text = value === undefined ? '' : typeof value === 'boolean' ? (value ? 'TRUE' : 'FALSE') : String(value);
  const validation = validationAt(book, sheet.sheetId, r, c);
  const type = obj(validation?.['condition'])['type'];
  const where = `${sheet.title}!${columnName(c)}${r + 1}`;
  let inner = html(text);
  if (type === 'BOOLEAN') {
    const ticked = value === true || text.toUpperCase() === 'TRUE';
    inner = `<span class="box${ticked ? ' on' : ''}" role="checkbox" aria-checked="${ticked}"></span>`;
  } else if (type === 'ONE_OF_LIST' && validation?.['showCustomUi'] === true) {
    inner = `<span class="pick">${html(text)}</span><span class="arrow">▾</span>`;
  }
  return `<td data-cell="${html(where)}" style="${ruleStyle(rules, r, c, text)}">${inner}</td>`;
}

function tableHtml(book: Spreadsheet, sheet: Sheet, maxRows: number, firstCol = 0): string {
  const rules = decorOf(book).rules.filter((rule) => rule.sheetId === sheet.sheetId);
  const lastRow = Math.min(sheet.lastDataRow(), maxRows - 1);
  let lastCol = firstCol;
  for (let r = 0; r <= lastRow; r++) lastCol = Math.max(lastCol, (sheet.rows[r]?.v.length ?? 0) - 1);
  const cols = Array.from({ length: lastCol - firstCol + 1 }, (_, i) => firstCol + i);
  const head = `<tr><th></th>${cols.map((c) => `<th>${columnName(c)}</th>`).join('')}</tr>`;
  const body = Array.from({ length: lastRow + 1 }, (_, r) => `<tr><th>${r + 1}</th>${cols.map((c) => cellHtml(book, sheet, rules, r, c)).join('')}</tr>`).join('\n');
  return `<table>${head}\n${body}</table>`;
}

/** A chart's spec as a Chart.js config: its sources read from the grid, the header rows as series names. */
function chartConfig(book: Spreadsheet, chart: Chart): Json | undefined {
  const basic = obj(chart.spec['basicChart']);
  const headerCount = typeof basic['headerCount'] === 'number' ? basic['headerCount'] : 0;
  const read = (data: unknown): { name: string; values: Array<string | number | null> } => {
    const source = obj((obj(obj(data)['sourceRange'])['sources'] as unknown[] | undefined)?.[0]);
    const sheet = book.sheetById(source['sheetId']);
    if (!sheet) return { name: '', values: [] };
    const c = typeof source['startColumnIndex'] === 'number' ? source['startColumnIndex'] : 0;
    const r0 = typeof source['startRowIndex'] === 'number' ? source['startRowIndex'] : 0;
    const r1 = typeof source['endRowIndex'] === 'number' ? source['endRowIndex'] : sheet.lastDataRow() + 1;
    const cells = Array.from({ length: Math.max(0, r1 - r0) }, (_, i) => sheet.get(r0 + i, c)?.value ?? null);
    return { name: cells.slice(0, headerCount).join(' '), values: cells.slice(headerCount).map((v) => (typeof v === 'boolean' ? String(v) : v)) };
  };
  const domains = Array.isArray(basic['domains']) ? basic['domains'] : [];
  const labels = domains.length > 0 ? read(obj(domains[0])['domain']).values.map((v) => String(v ?? '').replace('T', ' ').slice(0, 16)) : [];
  const series = (Array.isArray(basic['series']) ? basic['series'] : []).map((s) => {
    const { name, values } = read(obj(s)['series']);
    const colour = hex(obj(obj(s)['colorStyle'])['rgbColor'] ?? obj(s)['color']) ?? '#555555';
    return { label: name, data: values, backgroundColor: colour, borderColor: colour, borderWidth: 2 };
  });
  const stacked = basic['stackedType'] === 'STACKED';
  const type = basic['chartType'] === 'LINE' ? 'line' : 'bar';
  return {
    type,
    data: { labels, datasets: series },
    options: {
      animation: false,
      responsive: false,
      indexAxis: basic['chartType'] === 'BAR' ? 'y' : 'x',
      plugins: { title: { display: true, text: shown(chart.spec['title'] ?? '') }, legend: { position: 'bottom' } },
      scales: { x: { stacked }, y: { stacked, beginAtZero: true } },
    },
  };
}

/** The page: every tab (or the ones asked for), charts first on a tab that has them. */
export function picturePage(book: Spreadsheet, options: PictureOptions = {}): string {
  const maxRows = options.maxRows ?? 30;
  const width = options.cellWidth ?? 180;
  const decor = decorOf(book);
  const tabs = options.tabs ? options.tabs.flatMap((t) => book.sheetByTitle(t) ?? []) : book.sheets;
  const configs: Json[] = [];
  const sections = tabs.map((sheet) => {
    const charts = decor.charts.filter((c) => c.sheetId === sheet.sheetId);
    const canvases = charts
      .map((chart) => {
        const config = chartConfig(book, chart);
        if (!config) return '';
        configs.push(config);
        return `<canvas width="520" height="300" data-chart="${chart.chartId}" data-chart-index="${configs.length - 1}"></canvas>`;
      })
      .join('');
    // A tab with charts: the charts, then the cells they read (the bot's blocks start far right).
    const firstCol = charts.length > 0 ? Math.min(...charts.flatMap((c) => [...JSON.stringify(c.spec).matchAll(/"startColumnIndex":(\d+)/g)].map((m) => Number(m[1])))) : 0;
    return `<section data-tab="${html(sheet.title)}"><h2>${html(sheet.title)}</h2>${canvases ? `<div class="charts">${canvases}</div>` : ''}${tableHtml(book, sheet, maxRows, Number.isFinite(firstCol) ? firstCol : 0)}</section>`;
  });
  const style = [
    'body{font:13px Arial,sans-serif;margin:12px;background:#fff;color:#202124}',
    'h2{font-size:15px;margin:16px 0 6px}',
    'table{border-collapse:collapse}',
    `td,th{border:1px solid #e2e3e3;padding:3px 6px;max-width:${width}px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;height:18px}`,
    'th{background:#f8f9fa;color:#5f6368;font-weight:normal}',
    '.box{display:inline-block;width:12px;height:12px;border:2px solid #5f6368;border-radius:2px;vertical-align:middle}',
    '.box.on{background:#1a73e8;border-color:#1a73e8}',
    '.arrow{float:right;color:#5f6368;margin-left:6px}',
    '.charts{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:12px}',
    'canvas{border:1px solid #dadce0}',
  ].join('\n');
  // JSON inside a script: "<" escaped so that no cell text can close the script element.
  const data = JSON.stringify(configs).replace(/</g, '\\u003c');
  const script = `${chartScript()}\nconst configs = ${data};\nfor (const canvas of document.querySelectorAll('canvas[data-chart-index]')) new Chart(canvas, configs[Number(canvas.dataset.chartIndex)]);\ndocument.body.dataset.ready = 'yes';`;
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${html(book.title)}</title><style>${style}</style></head><body>${sections.join('\n')}<script>${script}</script></body></html>\n`;
}
