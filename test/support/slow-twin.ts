/**
 * A tab for the overlap of chunks (issue 25: the next chunk is asked while the previous
 * one's last answers are in flight): read in chunks of about 15 sample rows
 * (readInChunksOf(3000)), the question of row index SLOW is slow to answer, and row index
 * TWIN, in the next chunk, asks exactly what it asks.
 */
import type { Answer, RespondFn } from './openai-emulator/types.js';
import { defaultVerdict } from './openai-emulator/responder.js';
import { sampleRows } from './sample-data.js';

export const SLOW = 12;
export const TWIN = 20;
/** How long the slow question takes: long enough for the next chunk to be selected and asked meanwhile. */
export const SLOW_MS = 800;

/** `count` sample rows, TWIN a copy of SLOW under another id; and the slow question's comment. */
export function slowTwinRows(count = 40): { rows: string[][]; slowComment: string } {
  const rows = sampleRows(count);
  rows[TWIN] = [...(rows[SLOW] ?? [])];
  rows[TWIN][0] = 'PRJ-TWIN';
  return { rows, slowComment: rows[SLOW]?.[2] ?? '' };
}

/** The emulator's answers (`answer`, by default its usual verdict), the one about `slowComment` SLOW_MS late. */
export function slowResponder(slowComment: string, answer: (row: Parameters<RespondFn>[0]) => Answer = defaultVerdict): RespondFn {
  return async (row) => {
    if (row.comment === slowComment) await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
    return answer(row);
  };
}
