/**
 * Review of issue 14: "`run`, `watch`, `schedule`, `estimate`, `batch submit` and `serve`
 * work over every target (or `--target NAME` for one)". watch and schedule are tried here
 * through the CLI against a two-target config.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { virtualClock } from '../support/virtual-clock.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

async function twoTargets(): Promise<Bed> {
  const b = await startBed({ rows: sampleRows(3), moreTabs: [{ title: 'Team B', rows: [HEADER, ...sampleRows(2)] }] });
  b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: 'Team B' }] });
  return b;
}

function verdicts(b: Bed, tab: string): string[] {
  const values = b.sheets.values(SPREADSHEET_ID, tab);
  const at = col(values, 'Validation');
  return values.slice(1).map((row) => row[at] ?? '');
}

describe('watch and schedule over a portfolio config', () => {
  it('watch --polls 1 validates every target of the config', async () => {
    bed = await twoTargets();
    const result = await bed.cli(['watch', '--config', bed.configPath, '--every', '60s', '--polls', '1'], { clock: virtualClock('2026-11-21T09:00:00Z') });
    expect(result.stderr).not.toMatch(/works on one at a time/);
    expect(result.code).toBe(0);
    expect(verdicts(bed, TAB).every((v) => v !== '')).toBe(true);
    expect(verdicts(bed, 'Team B').every((v) => v !== '')).toBe(true);
  });

  it('watch accepts --target, as its own error message tells the user to pass', async () => {
    bed = await twoTargets();
    const result = await bed.cli(['watch', '--config', bed.configPath, '--target', 'team-b', '--every', '60s', '--polls', '1'], { clock: virtualClock('2026-11-21T09:00:00Z') });
    expect(result.stderr).not.toMatch(/unknown option/);
    expect(result.code).toBe(0);
    expect(verdicts(bed, 'Team B').every((v) => v !== '')).toBe(true);
    // The other target was not run: its tab did not even get the output columns.
    expect(bed.sheets.values(SPREADSHEET_ID, TAB)[0]).not.toContain('Validation');
  });

  it('schedule --runs 1 validates every target of the config', async () => {
    bed = await twoTargets();
    const result = await bed.cli(['schedule', '--config', bed.configPath, '--cron', '0 7 * * *', '--tz', 'UTC', '--runs', '1'], { clock: virtualClock('2026-11-20T06:59:00Z') });
    expect(result.stderr).not.toMatch(/works on one at a time/);
    expect(result.code).toBe(0);
    expect(verdicts(bed, TAB).every((v) => v !== '')).toBe(true);
    expect(verdicts(bed, 'Team B').every((v) => v !== '')).toBe(true);
  });

  it('schedule accepts --target', async () => {
    bed = await twoTargets();
    const result = await bed.cli(['schedule', '--config', bed.configPath, '--target', 'team-b', '--cron', '0 7 * * *', '--tz', 'UTC', '--runs', '1'], { clock: virtualClock('2026-11-20T06:59:00Z') });
    expect(result.stderr).not.toMatch(/unknown option/);
    expect(result.code).toBe(0);
  });

  it('serve starts on a portfolio config (all targets), and accepts --target', async () => {
    bed = await twoTargets();
    bed.env.STATUS_VALIDATOR_TOKEN = 'a-machine-token-0123456789';
    // Stopped before it starts: it listens on a free port, then closes at once.
    const stop = AbortSignal.abort();
    const all = await bed.cli(['serve', '--config', bed.configPath, '--port', '0'], { stop });
    expect(all.stderr).not.toMatch(/works on one at a time/);
    expect(all.code).toBe(0);
    const one = await bed.cli(['serve', '--config', bed.configPath, '--target', 'team-b', '--port', '0'], { stop });
    expect(one.stderr).not.toMatch(/unknown option/);
    expect(one.code).toBe(0);
  });
});
