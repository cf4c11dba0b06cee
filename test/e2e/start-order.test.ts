/**
 * What a run does before its first question, and in which order (issue 25, bench B1: every
 * worker waits behind the first question, the probe). On a tab the bot has not written to,
 * the write check leaves before the rows are sorted and is answered before anything is asked;
 * the rest of the tab is read once the first question is out, while the model thinks. The
 * CLI runs in-process through the real googleapis and openai clients against the emulators.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readInChunksOf } from '../support/read-chunk-bytes.js';
import { FAST_SHEETS, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, type Bed } from '../support/bed.js';
import { readsRows } from '../support/row-reads.js';
import { isWriteCheck } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';
import type { PendingCall } from '../support/sheets-emulator/index.js';

/** Two sample rows in the first chunk, then more: the tabs below are read in several. */
readInChunksOf(3000);

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});


describe('a run, before its first question', () => {
  it('on a fresh tab: the write check is answered before anything is asked, and the rest of the tab is read only once the first question is out', async () => {
    // One worker: the first chunk's second question waits for the first answer, so only the
    // first question going out may start the next read before that answer.
    bed = await startBed({ rows: sampleRows(8), header: [...HEADER], config: { sheets: FAST_SHEETS, llm: { max_workers: 1 } }, llm: { latencyMs: 300 } });
    const b = bed;
    // Each Sheets call as it arrives, and when the write check was answered (it is slow here: Google's take 100-300 ms).
    const seen: Array<{ call: PendingCall; questions: number; answered: number; afterCheck: boolean }> = [];
    let checked = false;
    b.sheets.onRequest(async (call) => {
      const chats = b.llm.requests.filter((r) => r.path === '/v1/chat/completions');
      seen.push({ call, questions: chats.length, answered: chats.filter((r) => r.endedAt !== undefined).length, afterCheck: checked });
      if (!isWriteCheck(call)) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
      checked = true;
    });
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(seen.filter(({ call }) => isWriteCheck(call)).map(({ questions }) => questions)).toEqual([0]);
    const reads = seen.filter(({ call }) => readsRows(call));
    expect(reads.length).toBeGreaterThan(2);
    // The first read; the second neither during the write check (it would have held the check's
    // answer, and the first question, back) nor after the first answer (the first question is out meanwhile).
    expect(reads.slice(0, 2).map(({ afterCheck, answered }) => ({ afterCheck, answered }))).toEqual([
      { afterCheck: false, answered: 0 },
      { afterCheck: true, answered: 0 },
    ]);
  });

  it('on a tab the bot already writes to: no write check', async () => {
    bed = await startBed({ rows: sampleRows(8), header: [...HEADER, ...OUTPUT_HEADERS], config: { sheets: FAST_SHEETS, llm: { max_workers: 1 } } });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(8);
    expect(bed.sheets.calls.filter(isWriteCheck)).toEqual([]);
  });

  it('a tab whose rows all have an answer in the cache, its output headers gone: the write check still comes first, and a read-only share fails the run before any write', async () => {
    bed = await startBed({ rows: sampleRows(20), header: [...HEADER], config: { sheets: FAST_SHEETS, llm: { max_workers: 4 } } });
    const first = await bed.run('--json');
    expect(first.code, first.stderr).toBe(0);
    // A person deletes the bot's columns, and the share is made read-only by mistake.
    bed.sheets.deleteColumns(SPREADSHEET_ID, TAB, HEADER.length + 1, OUTPUT_HEADERS.length + 2);
    bed.llm.reset();
    const before = bed.values();
    bed.sheets.injectFault({ status: 403, message: 'The caller does not have permission' }, { kind: 'write', times: Infinity });
    const second = await bed.run('--json');
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/Share the spreadsheet with \S+ as an Editor/);
    expect(bed.llm.callCount()).toBe(0);
    expect(bed.values()).toEqual(before);
  });
});
