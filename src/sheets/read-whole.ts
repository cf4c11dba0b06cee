import { SheetsError } from '../errors.js';
import { ChunkSizer, chunkTargetBytes, readChunks, readRows } from './chunks.js';
import type { CellValues, SheetsClient } from './client.js';

/** One read of a tab's rows: `values[i]` is sheet row `firstRow + i`; `whole` when it is the whole tab (its grid ends within it). */
export interface TabRead {
  firstRow: number;
  values: CellValues;
  whole: boolean;
}

/**
 * Reads a tab chunk by chunk as `run` does (issue 25: Google times out a request it
 * processes for more than 180 s, https://developers.google.com/sheets/api/limits): the
 * header rows and the first rows under them, then the rest in chunks the sizer sizes
 * (src/sheets/chunks.ts). A tab that fits the first read comes in one read, `whole`:
 * a caller may hand it to the run (a preread) instead of letting the run read it again.
 * A missing tab is a 400 naming the tabs that exist.
 */
export async function* readTabChunks(client: SheetsClient, tab: string, headerRow: number): AsyncGenerator<TabRead> {
  const sizer = new ChunkSizer(chunkTargetBytes());
  const asked = headerRow + sizer.next();
  const { values, gridEnd } = await readFirstRows(client, tab, asked);
  sizer.observe(asked, values);
  yield { firstRow: 1, values, whole: gridEnd !== undefined };
  if (gridEnd !== undefined) return;
  for await (const chunk of readChunks(client, tab, asked + 1, undefined, sizer)) yield { firstRow: chunk.firstRow, values: chunk.values, whole: false };
}

/** The first rows of a tab; when it does not exist, says which tabs do (one more read, on failure only), still as a 400: the tab is missing, not the service. */
export async function readFirstRows(client: SheetsClient, tab: string, rows: number): ReturnType<typeof readRows> {
  try {
    return await readRows(client, tab, 1, rows);
  } catch (error) {
    if (!(error instanceof SheetsError) || error.status !== 400 || !/tab does not exist|unable to parse range/i.test(error.message)) throw error;
    try {
      await client.metadata(tab);
    } catch (listed) {
      if (listed instanceof SheetsError && listed.status === undefined) throw new SheetsError(listed.message, { status: 400, cause: error, ...(listed.hint ? { hint: listed.hint } : {}) });
      throw listed;
    }
    throw error;
  }
}
