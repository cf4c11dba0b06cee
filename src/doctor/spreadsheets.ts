import { closest, type Config, type Secrets } from '../config/index.js';
import { SheetsError } from '../errors.js';
import { SheetsClient, probeWrite, processPacers, quoteSheetName, sameTab, type CellValues } from '../sheets/index.js';
import { finding, type Finding } from './findings.js';
import { checkHeaders } from './headers.js';

/** A check must answer in seconds: one retry, short waits, a short timeout. */
const CHECK_CLIENT = { maxRetries: 1, backoff: { baseMs: 300, capMs: 1_000 }, timeoutMs: 15_000 } as const;

/** How a target is named in the findings: by its name when the file lists targets, else by its tab. */
export function targetScope(config: Config): string {
  return config.target.index === undefined ? `tab "${config.sheets.sheet}"` : `target "${config.target.name}" (tab "${config.sheets.sheet}")`;
}

/**
 * Checks one spreadsheet and the targets on it, reading as little as it can: the list of
 * tabs (one read), the header rows of every target's tab (one values.batchGet), then one
 * write that changes nothing a person sees (probeWrite).
 */
export async function checkSpreadsheet(targets: readonly Config[], secrets: Secrets, signal?: AbortSignal): Promise<Finding[]> {
  const first = targets[0];
  if (!first) return [];
  const id = first.sheets.spreadsheet_id;
  const scope = `spreadsheet ${id}`;
  const account = secrets.serviceAccount.client_email;
  const client = new SheetsClient({
    // The process's pacers for this account: many spreadsheets together stay within the quota too.
    pacers: processPacers.forAccount({
      account,
      project: secrets.serviceAccount.project_id ?? `(project of ${account})`,
      apiRoot: first.sheets.api_root,
      readsPerMinute: first.sheets.read_quota_per_minute,
      writesPerMinute: first.sheets.write_quota_per_minute,
    }),
    spreadsheetId: id,
    key: secrets.serviceAccount,
    apiRoot: first.sheets.api_root,
    readsPerMinute: first.sheets.read_quota_per_minute,
    writesPerMinute: first.sheets.write_quota_per_minute,
    ...CHECK_CLIENT,
    ...(signal ? { signal } : {}),
  });
  let tabs: Array<{ title: string; rowCount: number }>;
  try {
    tabs = await client.sheetsMetadata();
  } catch (error) {
    return [accessFinding(error, scope, account, targets)];
  }
  const findings: Finding[] = [finding('ok', scope, `readable by the service account ${account} (${tabs.length} tab${tabs.length === 1 ? '' : 's'})`)];
  const titles = tabs.map((t) => t.title);
  const present: Array<{ config: Config; range: string }> = [];
  for (const config of targets) {
    const tab = tabs.find((t) => sameTab(t.title, config.sheets.sheet));
    if (!tab) {
      const near = closest(config.sheets.sheet, titles);
      findings.push(
        finding('problem', targetScope(config), `no tab "${config.sheets.sheet}" in spreadsheet ${id}${near ? ` (did you mean "${near}"?)` : ''}; its tabs: ${titles.map((t) => `"${t}"`).join(', ') || 'none'}`, {
          field: config.target.index === undefined ? 'sheets.sheet' : `targets[${config.target.index}].sheet`,
          fix: near ? `Set the tab name to "${near}".` : 'Set the tab name to one of those, exactly as shown on the tab.',
        }),
      );
      continue;
    }
    const row = config.sheets.header_row;
    if (row > tab.rowCount) {
      // Asking for it would fail the whole batchGet (a range past the grid is a 400).
      findings.push(
        finding('problem', targetScope(config), `header row ${row} is below the last row of tab "${tab.title}" (it has ${tab.rowCount} rows)`, {
          field: config.target.index === undefined ? 'sheets.header_row' : `targets[${config.target.index}].header_row`,
          fix: 'Set header_row to the row that holds the headers (1 for the first row).',
        }),
      );
      continue;
    }
    present.push({ config, range: `${quoteSheetName(tab.title)}!${row}:${row}` });
    findings.push(...ownTabs(config, titles));
  }
  findings.push(...(await headerFindings(client, present)));
  findings.push(await writeFinding(client, scope, account));
  return findings;
}

/** The header rows of every present tab in one read, each matched against its target's headers. */
async function headerFindings(client: SheetsClient, present: ReadonlyArray<{ config: Config; range: string }>): Promise<Finding[]> {
  if (present.length === 0) return [];
  let rows: CellValues[];
  try {
    rows = await client.readMany(present.map((p) => p.range));
  } catch (error) {
    return present.map(({ config }) => finding('unchecked', targetScope(config), `could not read the header row: ${messageOf(error)}`, { fix: hintOf(error) }));
  }
  return present.flatMap(({ config }, i) => checkHeaders(config, targetScope(config), rows[i]?.[0] ?? []));
}

/** The tabs the bot keeps for itself (results, runs): there, or made by the first run. */
function ownTabs(config: Config, titles: readonly string[]): Finding[] {
  const out: Finding[] = [];
  const own: Array<[string, string | undefined]> = [
    ['output.sheet', config.output.sheet],
    ['report.runs_sheet', config.report.runs_sheet],
    ['report.dashboard_sheet', config.report.dashboard_sheet],
  ];
  for (const [key, tab] of own) {
    if (tab === undefined) continue;
    const there = titles.some((t) => sameTab(t, tab));
    out.push(finding('info', targetScope(config), there ? `the tab "${tab}" is there` : `the tab "${tab}" is not there yet: the first run adds it`, { field: key }));
  }
  return out;
}

async function writeFinding(client: SheetsClient, scope: string, account: string): Promise<Finding> {
  try {
    await probeWrite(client);
    return finding('ok', scope, `writable by ${account} (shared as Editor)`);
  } catch (error) {
    if (error instanceof SheetsError && error.status === 403) {
      return finding('problem', scope, `${account} may read this spreadsheet but not write to it (403 on a write: it is shared as Viewer or Commenter), so no verdict could be written`, {
        fix: `In the sheet, Share → change ${account} to Editor.`,
      });
    }
    return finding('unchecked', scope, `could not check write access: ${messageOf(error)}`, { fix: hintOf(error) });
  }
}

/** What the first read's failure says about the spreadsheet and its sharing. */
function accessFinding(error: unknown, scope: string, account: string, targets: readonly Config[]): Finding {
  const users = targets.length > 1 || targets[0]?.target.index !== undefined ? ` (used by ${targets.map((t) => `target "${t.target.name}"`).join(', ')})` : '';
  const status = error instanceof SheetsError ? error.status : undefined;
  if (status === 404) {
    return finding('problem', scope, `no spreadsheet with this id (404)${users}`, {
      field: 'sheets.spreadsheet_id',
      fix: 'Copy the id from the sheet URL: the part between /d/ and /edit.',
    });
  }
  if (status === 403 && /has not been used|is disabled|SERVICE_DISABLED|API has not been/i.test(messageOf(error))) {
    return finding('problem', scope, `the Google Sheets API is not enabled for the service account's project (403)${users}`, {
      fix: "Enable the Google Sheets API in the Google Cloud console (APIs & Services → Library) for the key's project, then wait a few minutes.",
    });
  }
  if (status === 403) {
    return finding('problem', scope, `the spreadsheet is not shared with the service account ${account} (403)${users}`, {
      fix: `In the sheet, Share → add ${account} as an Editor.`,
    });
  }
  if (status === 401) {
    return finding('problem', scope, `Google rejected the service-account key (401)${users}`, { field: 'sheets.credentials_file', fix: hintOf(error) });
  }
  if (status === 400) return finding('problem', scope, `${messageOf(error)}${users}`, { field: 'sheets.spreadsheet_id', fix: hintOf(error) });
  return finding('unchecked', scope, `could not reach the Sheets API: ${messageOf(error)}${users}`, { fix: hintOf(error) ?? 'Check the network connection (and sheets.api_root, if set), then check again.' });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function hintOf(error: unknown): string | undefined {
  return error instanceof SheetsError ? error.hint : undefined;
}
