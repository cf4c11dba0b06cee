import { SheetsError } from '../errors.js';
import { quoteSheetName } from './a1.js';
import type { SheetsClient } from './client.js';

/**
 * Appends rows to a tab the bot owns (run history, published rules), creating the tab
 * with its header row the first time.
 */
export async function appendToOwnTab(client: SheetsClient, tab: string, header: string[], rows: string[][]): Promise<void> {
  try {
    await client.append(quoteSheetName(tab), rows);
  } catch (error) {
    if (!(error instanceof SheetsError) || !/Unable to parse range|tab does not exist/i.test(error.message)) throw error;
    await client.addTab(tab);
    await client.append(quoteSheetName(tab), [header, ...rows]);
  }
}

/**
 * Replaces the whole content of a tab the bot owns (published rules), creating it
 * the first time. Never used on a tab people edit.
 */
export async function replaceOwnTab(client: SheetsClient, tab: string, rows: string[][]): Promise<void> {
  try {
    await client.clear(quoteSheetName(tab));
  } catch (error) {
    if (!(error instanceof SheetsError) || !/Unable to parse range|tab does not exist/i.test(error.message)) throw error;
    await client.addTab(tab);
  }
  const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
  await client.write([{ range: `${quoteSheetName(tab)}!A1`, values: rows.map((r) => [...r, ...Array<string>(width - r.length).fill('')]) }]);
}
