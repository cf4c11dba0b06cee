import type { Config, Secrets } from '../config/index.js';
import { checkCaches } from './cache.js';
import type { Finding } from './findings.js';
import { checkProviders } from './providers.js';
import { checkSpreadsheet } from './spreadsheets.js';

export { tally, type Finding, type Level, type Tally } from './findings.js';
export { renderFindings, verdictLine } from './render.js';
export { networkCause } from './providers.js';
export { checkHeaders, wantedHeaders } from './headers.js';

/**
 * `check-config --online`: every spreadsheet of the targets (its access, its tabs, the
 * header rows, write access) and every provider (key, endpoint, models) and the PostgreSQL cache (cache.url), all at once.
 * Reads a spreadsheet twice (its tabs, then every header row in one call) and writes
 * nothing a person sees.
 */
export async function checkOnline(targets: readonly Config[], secrets: Secrets, signal?: AbortSignal): Promise<Finding[]> {
  const bySpreadsheet = new Map<string, Config[]>();
  for (const target of targets) {
    const list = bySpreadsheet.get(target.sheets.spreadsheet_id);
    if (list) list.push(target);
    else bySpreadsheet.set(target.sheets.spreadsheet_id, [target]);
  }
  const first = targets[0];
  const [sheets, providers, caches] = await Promise.all([
    Promise.all([...bySpreadsheet.values()].map((group) => checkSpreadsheet(group, secrets, signal))),
    first ? checkProviders(first, secrets, signal) : Promise.resolve([]),
    checkCaches(targets),
  ]);
  return [...sheets.flat(), ...providers, ...caches];
}
