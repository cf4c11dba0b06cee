import { SheetsError, redact } from '../errors.js';
import { plural } from '../plural.js';

/** The spreadsheet a failed call was made to, and the secrets its message must never show. */
export interface FailedSheet {
  spreadsheetId: string;
  serviceAccountEmail: string;
  secrets: readonly string[];
}

/** A failed Sheets call as a SheetsError that says what happened and what to do (the key never shown). */
export function explainFailure(error: unknown, what: string, attempt: number, sheet: FailedSheet): SheetsError {
  const status = statusOf(error);
  const remote = redact(remoteMessage(error), sheet.secrets);
  const where = `spreadsheet ${sheet.spreadsheetId}`;
  const after = attempt > 0 ? ` (after ${plural(attempt, 'retry', 'retries')})` : '';
  const base = { status, cause: error };
  switch (status) {
    case 401:
      return new SheetsError(`Google rejected the service-account credentials while trying to ${what} (401: ${remote}).`, {
        ...base,
        hint: 'Check that the key file is current (keys can be revoked) and that the Sheets API is enabled for its project.',
      });
    case 403:
      return new SheetsError(`No permission to ${what} in ${where} (403: ${remote}).`, {
        ...base,
        hint: `Share the spreadsheet with ${sheet.serviceAccountEmail} as an Editor (Share button in the sheet), and make sure the Google Sheets API is enabled for the service account's project.`,
      });
    case 404:
      return new SheetsError(`The ${where} was not found while trying to ${what} (404).`, {
        ...base,
        hint: 'Check sheets.spreadsheet_id: it is the part of the sheet URL between /d/ and /edit.',
      });
    case 400:
      if (/Unable to parse range/i.test(remote)) {
        return new SheetsError(`Could not ${what}: the tab does not exist in ${where} (${remote}).`, {
          ...base,
          hint: 'Check sheets.sheet: it must match the tab name exactly.',
        });
      }
      return new SheetsError(`Sheets refused to ${what} in ${where} (400: ${remote}).`, base);
    case 414:
      return new SheetsError(`Google's front end refused the request to ${what} in ${where}: its URL is too long (414).`, {
        ...base,
        hint: 'Nothing was changed. This is a bug in status-validator (a read too large for one URL): please report it with the command you ran.',
      });
    case 429:
      return new SheetsError(`Sheets quota exhausted while trying to ${what}${after} (429: ${remote}).`, {
        ...base,
        hint: 'Lower sheets.read_quota_per_minute / write_quota_per_minute, or ask Google for a higher quota; nothing was lost, run again later.',
      });
    case undefined:
      return new SheetsError(`Could not reach the Sheets API to ${what}${after}: ${remote}.`, {
        ...base,
        hint: 'Check the network connection (and sheets.api_root, if set).',
      });
    default:
      return new SheetsError(`Sheets failed to ${what} in ${where}${after} (${status}: ${remote}).`, {
        ...base,
        hint: 'This is usually temporary at Google; run again in a few minutes.',
      });
  }
}

export function statusOf(error: unknown): number | undefined {
  const e = error as { status?: unknown; response?: { status?: unknown } };
  const status = e.status ?? e.response?.status;
  return typeof status === 'number' ? status : undefined;
}

/** gaxios brings its own Headers class: anything with a get() will do. */
export function headersOf(error: unknown): Headers | undefined {
  const headers = (error as { response?: { headers?: unknown } }).response?.headers;
  return headers && typeof (headers as Headers).get === 'function' ? (headers as Headers) : undefined;
}

function remoteMessage(error: unknown): string {
  const data = (error as { response?: { data?: { error?: { message?: unknown } } } }).response?.data;
  const message = data?.error?.message;
  if (typeof message === 'string') return message;
  return error instanceof Error ? error.message : String(error);
}
