import { SheetsError } from '../errors.js';
import { a1Range, wholeSheet } from './a1.js';
import type { SheetsClient } from './client.js';
import { mapHeaders, type Layout, type LayoutConfig } from './layout.js';
import { readEntries, type ReadResult } from './table.js';

export interface OpenedSheet extends ReadResult {
  layout: Layout;
  /** Output headers this call added to the header row. */
  addedHeaders: string[];
}

/**
 * Reads the tab in one call and maps its columns. Output columns missing from the
 * header row are added at its end (growing the grid first when the sheet has no
 * room), unless `readOnly`.
 */
export async function openSheet(client: SheetsClient, config: LayoutConfig, readOnly: boolean): Promise<OpenedSheet> {
  const values = await client.read(wholeSheet(config.sheet));
  const layout = mapHeaders(values[config.headerRow - 1] ?? [], config);
  const result = readEntries(values, layout);
  const addedHeaders = layout.missingOutputs.map((field) => config.outputs[field]);
  if (!readOnly && layout.missingOutputs.length > 0) await addOutputHeaders(client, layout, config);
  return { ...result, layout, addedHeaders: readOnly ? [] : addedHeaders };
}

async function addOutputHeaders(client: SheetsClient, layout: Layout, config: LayoutConfig): Promise<void> {
  const columns = layout.missingOutputs.map((field) => layout.outputs[field]);
  const rightmost = Math.max(...columns);
  const first = Math.min(...columns);
  // Missing outputs are planned on consecutive columns, so one range covers them.
  const headers = [
    {
      range: a1Range(config.sheet, { row: config.headerRow, column: first }, { row: config.headerRow, column: rightmost }),
      values: [layout.missingOutputs.map((field) => config.outputs[field])],
    },
  ];
  try {
    // Most tabs have room (new ones have 26 columns): try first, grow only when refused.
    await client.write(headers);
  } catch (error) {
    if (!(error instanceof SheetsError) || !/exceeds grid limits/i.test(error.message)) throw error;
    const meta = await client.metadata(config.sheet);
    if (meta.columnCount < rightmost) await client.appendColumns(meta.sheetId, rightmost - meta.columnCount);
    await client.write(headers);
  }
}
