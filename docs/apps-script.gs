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
 *                   several, comma-separated, when the tabs differ (e.g. "Project, Проект")
 *   HEADER_ROW      optional: the row the headers are in (config sheets.header_row), default 1
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
  const ids = selectedIds_();
  if (ids.length === 0) {
    SpreadsheetApp.getUi().alert('Select the rows to recheck first (any cells of them).');
    return;
  }
  startRun_(here_({ rows: ids }));
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

/** The ids (column config columns.id) of the rows under the current selection, header and blanks left out. */
function selectedIds_() {
  const sheet = SpreadsheetApp.getActiveSheet();
  const headerRow = headerRow_();
  if (!headerRow) return [];
  const header = sheet.getRange(headerRow, 1, 1, sheet.getLastColumn()).getDisplayValues()[0];
  const property = PropertiesService.getScriptProperties().getProperty('ID_HEADER') || 'Project';
  const wanted = property.split(',').map(function (h) { return h.trim().toLowerCase(); }).filter(function (h) { return h !== ''; });
  const column = header.findIndex(function (h) { return wanted.indexOf(String(h).trim().toLowerCase()) >= 0; });
  if (column < 0) {
    const where = headerRow === 1 ? 'the first row' : 'row ' + headerRow;
    SpreadsheetApp.getUi().alert('No column "' + wanted.join('" or "') + '" in ' + where + ' of "' + sheet.getName() + '": set ID_HEADER (and HEADER_ROW, the config\'s sheets.header_row) in the script properties.');
    return [];
  }
  const ids = [];
  const ranges = sheet.getActiveRangeList() ? sheet.getActiveRangeList().getRanges() : [];
  ranges.forEach(function (range) {
    const first = Math.max(range.getRow(), headerRow + 1);
    const last = range.getLastRow();
    if (last < first) return;
    sheet.getRange(first, column + 1, last - first + 1, 1).getDisplayValues().forEach(function (row) {
      const id = String(row[0]).trim();
      if (id !== '' && ids.indexOf(id) < 0) ids.push(id);
    });
  });
  return ids;
}

/** The header row (script property HEADER_ROW, the config's sheets.header_row), default 1; undefined (and an alert) when it is no row number. */
function headerRow_() {
  const property = (PropertiesService.getScriptProperties().getProperty('HEADER_ROW') || '1').trim();
  if (!/^[1-9][0-9]{0,6}$/.test(property)) {
    SpreadsheetApp.getUi().alert('HEADER_ROW must be the row number of the headers (the config\'s sheets.header_row), e.g. 1; it is "' + property + '".');
    return undefined;
  }
  return Number(property);
}

function startRun_(body) {
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
  SpreadsheetApp.getActive().toast('Validation started for ' + json.rows + ' rows; verdicts appear as they come.' + unknown, 'Status validator');
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
