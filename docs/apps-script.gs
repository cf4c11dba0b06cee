/**
 * "Status validator" menu: asks a status-validator server (`status-validator serve`)
 * to validate the sheet now, then reports how the run went.
 * Script properties: VALIDATOR_URL (https://...), VALIDATOR_TOKEN (the bearer token).
 */
function onOpen() {
  SpreadsheetApp.getUi()
    .createMenu('Status validator')
    .addItem('Validate now', 'validateNow')
    .addItem('Validate all rows again', 'validateAllAgain')
    .addToUi();
}

function validateNow() {
  startRun_({});
}

function validateAllAgain() {
  const ui = SpreadsheetApp.getUi();
  const answer = ui.alert('Ask the model about every row again?', 'This costs one model call per row.', ui.ButtonSet.OK_CANCEL);
  if (answer === ui.Button.OK) startRun_({ force: true });
}

function startRun_(body) {
  const props = PropertiesService.getScriptProperties();
  const url = props.getProperty('VALIDATOR_URL');
  const token = props.getProperty('VALIDATOR_TOKEN');
  if (!url || !token) {
    SpreadsheetApp.getUi().alert('Set VALIDATOR_URL and VALIDATOR_TOKEN in Project Settings → Script properties.');
    return;
  }
  const headers = { Authorization: 'Bearer ' + token };
  const started = UrlFetchApp.fetch(url + '/runs', {
    method: 'post',
    contentType: 'application/json',
    payload: JSON.stringify(body),
    headers: headers,
    muteHttpExceptions: true,
  });
  const code = started.getResponseCode();
  if (code === 409) {
    SpreadsheetApp.getActive().toast('A validation is already running; its verdicts will appear shortly.', 'Status validator');
    return;
  }
  if (code !== 202) {
    SpreadsheetApp.getUi().alert('The validator answered ' + code + ': ' + started.getContentText());
    return;
  }
  const run = JSON.parse(started.getContentText());
  SpreadsheetApp.getActive().toast('Validation started; verdicts appear as they come.', 'Status validator');
  // Follow the run for up to ~5 minutes (Apps Script limits a call to 6).
  for (let i = 0; i < 60; i++) {
    Utilities.sleep(5000);
    const view = JSON.parse(UrlFetchApp.fetch(url + run.url, { headers: headers, muteHttpExceptions: true }).getContentText());
    if (view.status === 'running') continue;
    if (view.status === 'finished') {
      const s = view.summary;
      SpreadsheetApp.getActive().toast(
        s.verdicts.valid + ' valid, ' + s.verdicts.invalid + ' invalid, ' + s.verdicts.error + ' errors; ' + s.rows.upToDate + ' rows unchanged.',
        'Validation finished',
        10,
      );
    } else {
      SpreadsheetApp.getUi().alert('Validation failed: ' + (view.error || (view.summary && view.summary.fatal && view.summary.fatal.message)));
    }
    return;
  }
}
