/**
 * r25c review (commit d7f71df, chunks overlap): with --force (or a ticked recheck box), a twin
 * of a question still in flight in the previous chunk is written with the PREVIOUS run's
 * verdict, not the answer this run is paying for.
 *
 * The defect: ChunkSelector.select(chunk, answering=true) holds a row back (`later`) only when
 * its key was asked this run and `lookup(key) === undefined`: "no verdict yet". On a forced
 * question (--force, a ticked box, an old verdict) the store still holds the verdict of the
 * run before, so the twin is not held back; selectWork then treats the known verdict under a
 * key this run asked as this run's answer (askedThisRun: "it stands for --force and a ticked
 * box") and writes it — the old one — to the twin, and unticks the twin's box with it. Before
 * d7f71df the previous chunk had ended (its answer committed) before the next was selected,
 * so the twin got the new verdict. Now the original row shows the new answer and its twin,
 * asking exactly the same question, the stale one; the sheet contradicts the cache.
 *
 * The invariant broken: invariant 1 (a verdict is written only to the row it was computed
 * for: the old verdict is not what this run computed for those inputs, which it was told to
 * ask again) and the promise of --force / the recheck box ("ask again"); and issue 25's
 * "every guarantee of the whole-tab read across chunks": in one chunk both twins get the new
 * answer.
 *
 * Expected: both rows asking the forced question show the answer this run got (the model
 * answers differently the second time here), whatever the chunk size.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readInChunksOf } from '../support/read-chunk-bytes.js';
import { col, FAST_SHEETS, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { defaultVerdict } from '../support/openai-emulator/responder.js';
import { SLOW, slowResponder, slowTwinRows, TWIN } from '../support/slow-twin.js';

/** About 15 sample rows a chunk (as test/e2e/streamed-read.test.ts): index 12 and index 20 fall in consecutive chunks. */
readInChunksOf(3000);

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});


async function twinBed(copy = false): Promise<{ b: Bed; flip: () => void; rows: string[][] }> {
  const { rows, slowComment } = slowTwinRows();
  let flipped = false;
  const b = await startBed({
    rows,
    header: [...HEADER, ...OUTPUT_HEADERS, 'Recheck'],
    // A second tab with the same rows: a portfolio's second target (one cache, one QuestionBoard).
    ...(copy ? { moreTabs: [{ title: 'Copy', rows: [[...HEADER, ...OUTPUT_HEADERS, 'Recheck'], ...rows] }] } : {}),
    config: { sheets: FAST_SHEETS, llm: { max_workers: 3 }, review: { recheck_column: 'Recheck' } },
    llm: {
      latencyMs: 10,
      // The question is slow: the next chunk is selected while it is in flight. Asked again, the model changes its mind (what asking again is for).
      respond: slowResponder(slowComment, (row) => {
        const verdict = defaultVerdict(row);
        return flipped && row.comment === slowComment ? { ...verdict, is_valid: !verdict.is_valid, issues: verdict.is_valid ? ['The next step has no date (second opinion).'] : [] } : verdict;
      }),
    },
  });
  return { b, flip: () => (flipped = true), rows };
}

function verdictsOf(b: Bed, tab = TAB): { original: string | undefined; twin: string | undefined } {
  const values = b.sheets.values(SPREADSHEET_ID, tab);
  const verdict = col(values, 'Validation');
  return { original: values[SLOW + 1]?.[verdict], twin: values[TWIN + 1]?.[verdict] };
}

describe('r25c: a question asked again, its twin in the next chunk', () => {
  it('--force: the twin shows the answer this run paid for, as its original does', async () => {
    const { b, flip } = await twinBed();
    bed = b;
    expect((await b.run()).code).toBe(0);
    const before = verdictsOf(b);
    expect(before.twin).toBe(before.original);
    flip();
    b.llm.reset();
    const forced = await b.run('--json', '--force');
    expect(forced.code, forced.stderr).toBe(0);
    // One question for the two rows (invariant 9 holds), and its new answer on both.
    expect(b.llm.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(39);
    const after = verdictsOf(b);
    expect(after.original).not.toBe(before.original);
    expect(after).toEqual({ original: after.original, twin: after.original });
  }, 60_000);

  it('a ticked box on both rows: the twin is answered (and unticked) with the new answer, not the old one', async () => {
    const { b, flip } = await twinBed();
    bed = b;
    expect((await b.run()).code).toBe(0);
    const before = verdictsOf(b);
    // Both boxes ticked (column K, the 11th): the tab's rows SLOW + 2 and TWIN + 2.
    b.sheets.setCell(SPREADSHEET_ID, TAB, SLOW + 2, 10, true);
    b.sheets.setCell(SPREADSHEET_ID, TAB, TWIN + 2, 10, true);
    flip();
    b.llm.reset();
    const rerun = await b.run('--json');
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(b.llm.callCount()).toBe(1);
    const after = verdictsOf(b);
    expect(after.original).not.toBe(before.original);
    expect(after).toEqual({ original: after.original, twin: after.original });
  }, 60_000);

  it('--force over a portfolio of two targets with the same rows: each target\'s twin shows the new answer', async () => {
    const { b, flip } = await twinBed(true);
    bed = b;
    b.setConfig({ targets: [{ name: 'first', sheet: TAB }, { name: 'copy', sheet: 'Copy' }] });
    expect((await b.run()).code).toBe(0);
    const before = verdictsOf(b);
    flip();
    b.llm.reset();
    const forced = await b.run('--json', '--force');
    expect(forced.code, forced.stderr).toBe(0);
    // One question per distinct row for both targets (invariant 9 holds across targets).
    expect(b.llm.callCount()).toBe(39);
    const first = verdictsOf(b);
    const copy = verdictsOf(b, 'Copy');
    expect(first.original).not.toBe(before.original);
    expect({ first, copy }).toEqual({ first: { original: first.original, twin: first.original }, copy: { original: first.original, twin: first.original } });
  }, 60_000);
});
