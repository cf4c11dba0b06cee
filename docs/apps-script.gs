/**
 * "Status validator" menu: asks a status-validator server (`status-validator serve`) to
 * validate the sheet, or just the selected rows, as the person using the menu.
 *
 * Each request carries that person's Google ID token (ScriptApp.getIdentityToken(): the
 * manifest docs/appsscript.json grants the openid and email scopes); the server checks
 * it and who may do what (serve.allow, serve.admins). There is no secret in this script.
 *
 * Each request also names the spreadsheet and the tab it comes from ("spreadsheet_id",
 * "sheet"): a server checking several tabs (config targets:) runs the one you are on,
 * and refuses, naming this spreadsheet's checked tabs, when you are on another one.
 *
 * Script properties (Project Settings → Script properties):
 *   VALIDATOR_URL   the server's HTTPS address, e.g. https://validator.example.com
 *   ID_HEADER       optional: the id column's header text (config columns.id), default "Project";
 *                   several, comma-separated, when the tabs differ (e.g. "Project, Проект").
 *                   Matched as the bot matches headers: trimmed, inner spaces and line breaks
 *                   folded to one space, case-insensitively ("Project\nID" is "Project ID").
 *   HEADER_ROW      optional: the row the headers are in (config sheets.header_row). Unset, each
 *                   tab's header row is the first of its first 20 rows holding ID_HEADER, so tabs
 *                   whose targets set different header rows all work; set, it is every tab's.
 *   MAX_ROWS        optional: the most rows "Recheck selected rows" sends at once (the config's
 *                   serve.max_rows), default 200; a larger selection is refused here, before sending.
 *
 * The ids go as the sheet shows them (getDisplayValues): the bot reads and matches the
 * displayed text, so an id formatted "0042" is "0042", not the number 42.
 */
function onOpen() {
  SpreadsheetApp.getUi()
    .createMenu('Status validator')
    .addItem('Validate now', 'validateNow')
    .addItem('Recheck selected rows', 'recheckSelected')
    .addItem('Last run', 'lastRun')
    .addToUi();
}

function validateNow() {
  startRun_(here_({}));
}

function recheckSelected() {
  const selected = selectedIds_();
  if (!selected) return;
  const ids = selected.ids;
  const left = selected.blank.length > 0 ? rowList_(selected.blank) + ' of the selection ' + (selected.blank.length === 1 ? 'has' : 'have') + ' no id in the "' + selected.header + '" column (the config\'s columns.id)' : '';
  if (ids.length === 0) {
    SpreadsheetApp.getUi().alert(left ? 'Nothing to recheck: ' + left + '. The validator finds rows by their id: give them one, or use "Validate now".' : 'Select the rows to recheck first (any cells of them, below the headers).');
    return;
  }
  const most = maxRows_();
  if (ids.length > most) {
    SpreadsheetApp.getUi().alert('You selected ' + ids.length + ' rows; the validator rechecks at most ' + most + ' at a time (serve.max_rows): select fewer rows and recheck them in parts.');
    return;
  }
  startRun_(here_({ rows: ids }), left ? ' Left out: ' + left + '.' : '');
}

/** "row 4" or "rows 4, 7, 9" (the first 20, then how many more). */
function rowList_(rows) {
  if (rows.length === 1) return 'row ' + rows[0];
  const shown = rows.slice(0, 20).join(', ');
  return 'rows ' + shown + (rows.length > 20 ? ' and ' + (rows.length - 20) + ' more' : '');
}

/** MAX_ROWS (the config's serve.max_rows), default 200, as the server's own default. */
function maxRows_() {
  const property = (PropertiesService.getScriptProperties().getProperty('MAX_ROWS') || '').trim();
  return /^[1-9][0-9]{0,6}$/.test(property) ? Number(property) : 200;
}

/** The body with the spreadsheet and the tab the menu was used in: the server maps them to its target. */
function here_(body) {
  body.spreadsheet_id = SpreadsheetApp.getActive().getId();
  body.sheet = SpreadsheetApp.getActiveSheet().getName();
  return body;
}

function lastRun() {
  const id = PropertiesService.getUserProperties().getProperty('LAST_RUN_URL');
  if (!id) {
    SpreadsheetApp.getUi().alert('You have not started a run from this sheet yet.');
    return;
  }
  const view = call_('get', id, undefined);
  if (!view) return;
  SpreadsheetApp.getUi().alert('Last run: ' + describe_(view.json));
}

/** A header as the bot compares it (src/sheets/layout.ts, normalizeHeader): NFC, trimmed, inner whitespace folded, case-insensitive. */
function foldHeader_(text) {
  return String(text).normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase();
}

/** How many rows from the top the header row is looked for in, when HEADER_ROW is not set. */
const HEADER_SCAN_ROWS = 20;

/**
 * The ids (column config columns.id) of the rows under the current selection, as
 * { ids, blank: row numbers selected without an id, header }; undefined (and an alert)
 * when the id column cannot be found. The header row and the rows above it are left out.
 */
function selectedIds_() {
  const sheet = SpreadsheetApp.getActiveSheet();
  const property = PropertiesService.getScriptProperties().getProperty('ID_HEADER') || 'Project';
  const names = property.split(',').map(function (h) { return h.trim(); }).filter(function (h) { return h !== ''; });
  const wanted = names.map(foldHeader_);
  const found = idColumn_(sheet, wanted);
  if (!found) return undefined;
  const headerRow = found.row;
  const ids = [];
  const blank = [];
  const ranges = sheet.getActiveRangeList() ? sheet.getActiveRangeList().getRanges() : [];
  ranges.forEach(function (range) {
    const first = Math.max(range.getRow(), headerRow + 1);
    const last = range.getLastRow();
    if (last < first) return;
    sheet.getRange(first, found.column + 1, last - first + 1, 1).getDisplayValues().forEach(function (row, i) {
      const id = String(row[0]).trim();
      if (id === '') {
        if (blank.indexOf(first + i) < 0) blank.push(first + i);
      } else if (ids.indexOf(id) < 0) ids.push(id);
    });
  });
  blank.sort(function (a, b) { return a - b; });
  return { ids: ids, blank: blank, header: found.header };
}

/**
 * The id column and the header row: HEADER_ROW when set, else the first of the top
 * HEADER_SCAN_ROWS rows holding one of the id headers (targets may set header_row per
 * tab). Undefined, and an alert saying what to set, when there is none.
 */
function idColumn_(sheet, wanted) {
  const property = (PropertiesService.getScriptProperties().getProperty('HEADER_ROW') || '').trim();
  if (property !== '' && !/^[1-9][0-9]{0,6}$/.test(property)) {
    SpreadsheetApp.getUi().alert('HEADER_ROW must be the row number of the headers (the config\'s sheets.header_row), e.g. 1, or unset; it is "' + property + '".');
    return undefined;
  }
  const first = property === '' ? 1 : Number(property);
  const count = property === '' ? HEADER_SCAN_ROWS : 1;
  const rows = sheet.getRange(first, 1, count, Math.max(1, sheet.getLastColumn())).getDisplayValues();
  for (let r = 0; r < rows.length; r++) {
    const column = rows[r].findIndex(function (h) { return wanted.indexOf(foldHeader_(h)) >= 0; });
    if (column >= 0) return { row: first + r, column: column, header: String(rows[r][column]).replace(/\s+/g, ' ').trim() };
  }
  const names = PropertiesService.getScriptProperties().getProperty('ID_HEADER') || 'Project';
  const where = property === '' ? 'the first ' + HEADER_SCAN_ROWS + ' rows' : 'row ' + first;
  SpreadsheetApp.getUi().alert('No column "' + names.split(',').map(function (h) { return h.trim(); }).join('" or "') + '" in ' + where + ' of "' + sheet.getName() + '": set ID_HEADER (the config\'s columns.id) in the script properties, and HEADER_ROW (sheets.header_row) if the headers are further down.');
  return undefined;
}

function startRun_(body, note) {
  const started = call_('post', '/runs', body);
  if (!started) return;
  const json = started.json;
  if (started.code === 409) {
    SpreadsheetApp.getActive().toast('A validation of this tab is already running; its verdicts will appear shortly.', 'Status validator');
    return;
  }
  if (started.code !== 202) {
    SpreadsheetApp.getUi().alert('The validator refused (' + started.code + '): ' + json.error);
    return;
  }
  // The run's view shows a person what concerns the tab they name: this one.
  const here = here_({});
  PropertiesService.getUserProperties().setProperty('LAST_RUN_URL', json.url + '?spreadsheet_id=' + encodeURIComponent(here.spreadsheet_id) + '&sheet=' + encodeURIComponent(here.sheet));
  const unknown = json.unknownRows && json.unknownRows.length > 0 ? ' Not in the sheet: ' + json.unknownRows.join(', ') + '.' : '';
  SpreadsheetApp.getActive().toast('Validation started for ' + json.rows + ' rows; verdicts appear as they come.' + unknown + (note || ''), 'Status validator');
}

/** One request to the server as the current user; undefined (and an alert) when it is unreachable or unconfigured. */
function call_(method, path, body) {
  const url = PropertiesService.getScriptProperties().getProperty('VALIDATOR_URL');
  if (!url) {
    SpreadsheetApp.getUi().alert('Set VALIDATOR_URL (the https address of the validator) in Project Settings → Script properties.');
    return undefined;
  }
  const token = ScriptApp.getIdentityToken();
  if (!token) {
    SpreadsheetApp.getUi().alert('No identity token: the manifest (appsscript.json) must list the openid and userinfo.email scopes.');
    return undefined;
  }
  const options = { method: method, headers: { Authorization: 'Bearer ' + token }, muteHttpExceptions: true };
  if (body !== undefined) {
    options.contentType = 'application/json';
    options.payload = JSON.stringify(body);
  }
  let response;
  try {
    response = UrlFetchApp.fetch(url.replace(/\/+$/, '') + path, options);
  } catch (error) {
    SpreadsheetApp.getUi().alert('Could not reach the validator at ' + url + ': ' + error);
    return undefined;
  }
  let json;
  try {
    json = JSON.parse(response.getContentText());
  } catch (error) {
    json = { error: 'an answer that is not JSON (is VALIDATOR_URL the validator?)' };
  }
  return { code: response.getResponseCode(), json: json };
}

function describe_(view) {
  if (view.error && !view.status) return view.error;
  if (view.status !== 'finished') return view.status + (view.error ? ': ' + view.error : '');
  const s = view.summary;
  // A run started before the script named its tab in LAST_RUN_URL: the server shows its status only.
  if (!s) return 'finished.';
  // The run's answers are only the rows it asked about; the sheet's counts say what every row shows now.
  const shown = s.sheetShows;
  const sheet = shown ? ' The sheet shows ' + shown.valid + ' VALID, ' + shown.invalid + ' INVALID, ' + shown.needsReview + ' NEEDS REVIEW, ' + shown.error + ' ERROR, ' + (shown.reviewerValid + shown.reviewerInvalid) + ' by a reviewer (' + shown.rows + ' rows).' : '';
  return s.verdicts.valid + ' valid, ' + s.verdicts.invalid + ' invalid, ' + s.verdicts.error + ' errors; ' + s.rows.upToDate + ' rows unchanged.' + sheet;
}
