/** Issue 19, item 3: `batch results` says on stdout what it applied and what it cost; `batch wait` tells what it waits for. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/commands/context.js';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { shownVerdicts as verdicts } from '../support/inspect.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const submit = async (b: Bed) => /submitted (batch_\S+):/.exec((await b.cli(['batch', 'submit', '--config', b.configPath])).stdout)?.[1] ?? '';

describe('batch results and batch wait', () => {
  it('prints the verdicts and the batch cost it applied on stdout, and what the sheet shows after; --json carries them in `batch`', async () => {
    bed = await startBed({ rows: sampleRows(6) });
    const id = await submit(bed);
    expect(id).not.toBe('');
    await bed.llm.advanceBatch(id, 'completed');
    const applied = await bed.cli(['batch', 'results', '--config', bed.configPath]);
    expect(applied.code).toBe(0);
    const shown = verdicts(bed);
    const valid = shown.filter((v) => v === 'VALID').length;
    const invalid = shown.filter((v) => v === 'INVALID').length;
    expect(valid + invalid).toBe(6);
    const line = applied.stdout.split('\n').find((l) => l.startsWith(id)) ?? '';
    expect(line).toMatch(new RegExp(`^${id} \\(completed\\): 6 answers saved, 0 failed; verdicts ${valid} VALID, ${invalid} INVALID; [1-9]\\d* prompt and [1-9]\\d* answer tokens, \\$0\\.\\d*[1-9]\\d* at the batch price$`));
    expect(applied.stdout).toMatch(new RegExp(`the sheet now shows\\s+${valid} VALID, ${invalid} INVALID \\(6 rows\\)`));
    expect(applied.stderr).not.toContain('answers saved');

    // A second `batch results` has nothing to apply, and still says what the sheet shows.
    const json = await bed.cli(['batch', 'results', '--config', bed.configPath, '--json']);
    const again = JSON.parse(json.stdout) as { batch: unknown[]; verdicts: { valid: number }; sheetShows: { valid: number; invalid: number } };
    expect(again.batch).toEqual([]);
    expect(again.verdicts.valid).toBe(0);
    expect(again.sheetShows).toMatchObject({ valid, invalid });
  });

  it('--json puts each applied job (verdicts, tokens, cost) in `batch`, the human line on stderr', async () => {
    bed = await startBed({ rows: sampleRows(3) });
    const id = await submit(bed);
    await bed.llm.advanceBatch(id, 'completed');
    const applied = await bed.cli(['batch', 'results', '--config', bed.configPath, '--json']);
    const out = JSON.parse(applied.stdout) as { batch: Array<{ id: string; answered: number; valid: number; invalid: number; costUsd: number }> };
    expect(out.batch).toHaveLength(1);
    expect(out.batch[0]).toMatchObject({ id, answered: 3, failed: 0 });
    expect((out.batch[0]?.valid ?? 0) + (out.batch[0]?.invalid ?? 0)).toBe(3);
    expect(out.batch[0]?.costUsd).toBeGreaterThan(0);
    expect(applied.stderr).toContain(`${id} (completed): 3 answers saved`);
  });

  it('batch wait says what it waits for, then a line per poll with the status, the counts and the time waited', async () => {
    // The test moves the batch, step by step at each poll (advanceBatch): its phases last an
    // hour of real time, so a slow machine never lets the emulator's own clock run it ahead
    // of the virtual one (it reached "finalizing, 4/4" before the first poll under load).
    const HOUR = 3_600_000;
    bed = await startBed({ rows: sampleRows(4), llm: { batch: { validatingMs: HOUR, inProgressMs: HOUR, finalizingMs: HOUR } } });
    const id = await submit(bed);
    const b = bed;
    let t = Date.parse('2026-12-04T10:00:00Z');
    let polls = 0;
    const clock: Clock = {
      now: () => new Date(t),
      sleep: async (ms) => {
        t += ms;
        polls++;
        await b.llm.advanceBatch(id, polls === 1 ? 'in_progress' : 'completed', polls === 1 ? { lines: 2 } : {});
      },
    };
    const waited = await b.cli(['batch', 'wait', '--config', b.configPath, '--every', '1m'], { clock });
    expect(waited.code).toBe(0);
    const lines = waited.stderr.split('\n').filter(Boolean);
    expect(lines[0]).toBe(`2026-12-04T10:00:00.000Z waiting for 1 batch job (${id}): a line per job every 1 min 00 s; Ctrl-C stops waiting, not the jobs (batch results applies them later)`);
    // Nothing moves the batch before the first poll: it is still validating.
    expect(lines[1]).toBe(`2026-12-04T10:00:00.000Z ${id}: validating, no request counted yet; waited 0 s`);
    expect(lines[2]).toBe(`2026-12-04T10:01:00.000Z ${id}: in_progress, 2/4 done (50%), 0 failed; waited 1 min 00 s`);
    expect(lines[3]).toBe(`2026-12-04T10:02:00.000Z ${id}: completed, 4/4 done (100%), 0 failed; waited 2 min 00 s`);

    // Nothing left to wait for: said, not silence.
    const none = await b.cli(['batch', 'wait', id, '--config', b.configPath], { clock });
    expect(none.stderr).toContain(`${id}: completed already; batch results applies it`);
  });
});
