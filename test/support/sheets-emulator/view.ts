/**
 * A read-only HTML view of the emulated spreadsheets, for a person trying the CLI by hand
 * (`npm run emulators` prints its link): GET /view lists the spreadsheets, GET /view/ID
 * shows the tabs of one and the values of its first tab, GET /view/ID/TAB those of a tab.
 * Not part of the Sheets API (whose paths all start with /v4/): it needs no token, is not
 * recorded as an API call, counts against no quota, and changes nothing. Every cell,
 * tab name and id is escaped: a cell holds whatever a run or a person wrote into it.
 */
import { columnName } from './a1.js';
import { picturePage } from './picture.js';
import type { HttpRequest, HttpResponse } from './server.js';
import type { Spreadsheet } from './workbook.js';

const PREFIX = '/view';

/**
 * GET /picture/ID: the spreadsheet drawn as Sheets would show it (picture.ts: rule
 * formats, checkboxes, charts). Its one script is the page's own (Chart.js and the chart
 * data, every "<" of which is escaped): the CSP allows inline script and nothing else.
 */
function picture(req: HttpRequest, books: ReadonlyMap<string, Spreadsheet>): HttpResponse | undefined {
  if (!req.path.startsWith('/picture/')) return undefined;
  const book = books.get(decode(req.path.slice('/picture/'.length)));
  if (!book) return page(404, 'Not found', `<p>No such spreadsheet. <a href="${PREFIX}">All spreadsheets</a></p>`);
  return { status: 200, text: picturePage(book), headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'" } };
}

/** The page for a /view (or /picture) request, or undefined for any other path (the API's). */
export function viewPage(req: HttpRequest, books: ReadonlyMap<string, Spreadsheet>): HttpResponse | undefined {
  if (req.method === 'GET' && req.path.startsWith('/picture/')) return picture(req, books);
  if (req.path !== PREFIX && !req.path.startsWith(`${PREFIX}/`)) return undefined;
  if (req.method !== 'GET' && req.method !== 'HEAD') return page(405, 'Read-only', '<p>This view is read-only. To change a cell, see the README ("Try it without any account").</p>', { allow: 'GET, HEAD' });
  const [id, tab] = req.path.slice(PREFIX.length).split('/').filter((s) => s !== '').map(decode);
  if (id === undefined) {
    const items = [...books.keys()].map((b) => `<li><a href="${attr(`${PREFIX}/${encodeURIComponent(b)}`)}">${html(b)}</a></li>`).join('');
    return page(200, 'Spreadsheets', `<ul>${items || '<li>none</li>'}</ul>`);
  }
  const book = books.get(id);
  if (!book) return page(404, 'Not found', `<p>No spreadsheet ${html(JSON.stringify(id))}. <a href="${PREFIX}">All spreadsheets</a></p>`);
  const sheet = tab === undefined ? book.sheets[0] : book.sheets.find((s) => s.title === tab);
  const tabs = book.sheets
    .map((s) => (s === sheet ? `<li><b>${html(s.title)}</b></li>` : `<li><a href="${attr(`${PREFIX}/${encodeURIComponent(id)}/${encodeURIComponent(s.title)}`)}">${html(s.title)}</a></li>`))
    .join('');
  const nav = `<p>Spreadsheet <code>${html(id)}</code> (${html(book.title)}). Tabs:</p><ul>${tabs}</ul>`;
  if (!sheet) return page(404, 'Not found', `${nav}<p>No tab ${html(JSON.stringify(tab ?? ''))} in this spreadsheet.</p>`);
  const values = sheet.read({ r0: 0, c0: 0, r1: sheet.rowCount - 1, c1: sheet.columnCount - 1 }, 'FORMATTED_VALUE');
  const width = values.reduce((w, row) => Math.max(w, row.length), 0);
  const letters = Array.from({ length: width }, (_, c) => `<th>${columnName(c)}</th>`).join('');
  const rows = values
    .map((row, r) => `<tr><th>${r + 1}</th>${Array.from({ length: width }, (_, c) => `<td>${html(String(row[c] ?? ''))}</td>`).join('')}</tr>`)
    .join('\n');
  const grid = `<p>"${html(sheet.title)}": ${values.length} rows with values, grid ${sheet.rowCount} × ${sheet.columnCount}. Reload to see a run's writes.</p><table><thead><tr><th></th>${letters}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
  return page(200, `${sheet.title} — ${id}`, nav + grid);
}

function page(status: number, title: string, body: string, headers: Record<string, string> = {}): HttpResponse {
  const style = 'body{font:14px sans-serif;margin:1em}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 6px;vertical-align:top;white-space:pre-wrap;max-width:40em}th{background:#f3f3f3}';
  const text = `<!doctype html>\n<html><head><meta charset="utf-8"><title>${html(title)}</title><style>${style}</style></head><body><h1>${html(title)}</h1>${body}</body></html>\n`;
  // No script runs on this page, whatever the cells hold: a CSP says so to the browser too.
  return { status, text, headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'", ...headers } };
}

/** Text as HTML: the five characters that could open markup or close an attribute. */
export function html(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const attr = html;

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

