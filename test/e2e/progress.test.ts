/** Issue 19, item 4: the progress a person sees, in a log (not a terminal) and on a terminal (a pseudo-TTY). */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/commands/context.js';
import { REPO_ROOT } from '../support/inspect.js';
import { HEADER, TAB, startBed, type Bed } from '../support/bed.js';
import { targetRows } from '../support/sample-data.js';

const TEAM_B = 'Team B';
let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

async function twoTargets(): Promise<Bed> {
  const b = await startBed({ rows: targetRows('A', 12, 0), moreTabs: [{ title: TEAM_B, rows: [HEADER, ...targetRows('B', 6, 20)] }], config: { sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 } } });
  b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B }] });
  return b;
}

/** A clock whose every reading is 3 s after the last: a short run logs as a long one would. */
function hastyClock(): Clock {
  let t = Date.parse('2026-12-04T10:00:00Z');
  return { now: () => new Date((t += 3000)), sleep: () => Promise.resolve() };
}

const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

describe('progress in a log (stderr not a terminal)', () => {
  it('logs timestamped lines per target with answered and errors apart, rate, ETA, elapsed and cost so far', async () => {
    bed = await twoTargets();
    bed.llm.injectFault({ kind: 'status', status: 400 }, { times: Infinity, match: (row) => String(row?.comment ?? '').includes('PRJ-0003') });
    const result = await bed.cli(['run', '--config', bed.configPath], { clock: hastyClock() });
    expect(result.code).toBe(3);
    const lines = result.stderr.split('\n').filter((l) => STAMP.test(l));
    expect(lines.length).toBeGreaterThan(6);
    for (const target of ['programme-a', 'team-b']) {
      const own = lines.filter((l) => l.includes(`[${target}] `));
      const total = target === 'programme-a' ? 12 : 6;
      expect(own[0]).toMatch(/\[\S+\] reading the sheet…$/);
      expect(own.some((l) => new RegExp(`validating: 0/${total} questions \\(0%\\): 0 answered, 0 errors \\| –/min \\| ETA unknown \\| `).test(l))).toBe(true);
      // Mid-run lines (the clock moves 3 s a reading, past the 10 s between lines): a rate and an ETA.
      expect(own.some((l) => new RegExp(`validating: \\d+/${total} questions \\(\\d+%\\): \\d+ answered, \\d+ errors? \\| [\\d.]+/min \\| ETA \\d+ (s|min \\d\\d s) \\| \\d+ retr(y|ies) \\| elapsed \\d+ (s|min \\d\\d s) \\| \\$0\\.\\d+ so far \\| \\d+ rows? written$`).test(l))).toBe(true);
      const done = own.find((l) => l.includes('] done: '));
      expect(done).toBeDefined();
      const errors = target === 'programme-a' ? 1 : 0;
      // programme-a holds PRJ-0003 (its third row), team-b starts at PRJ-0021: only the first has an error.
      expect(done).toMatch(new RegExp(`done: ${total - errors} answered, ${errors} errors? of ${total} questions \\| \\d+ retr(y|ies) \\| elapsed .* \\| \\$0\\.\\d*[1-9]\\d* so far \\| ${total} rows written$`));
    }
    // Percentages never pass 100, never show 100 before the end.
    for (const l of lines) {
      const m = /validating: (\d+)\/(\d+) questions \((\d+)%\)/.exec(l);
      if (m) expect(Number(m[3])).toBe(Math.floor((Number(m[1]) * 100) / Number(m[2])));
    }
  });
});

/** Runs the CLI under `script`, which gives it a pseudo-terminal: what a person at a terminal sees. */
function underPty(b: Bed, args: string[]): Promise<{ code: number | null; out: string }> {
  const command = [process.execPath, '--import', 'tsx', 'test/support/cli-at.ts', '0', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // A pseudo-terminal starts 0 columns wide (cli-progress then assumes 80 and cuts longer lines): give it room.
  const proc = spawn('script', ['-qec', `stty cols 200 rows 50; ${command}`, '/dev/null'], { cwd: REPO_ROOT, env: { ...b.env, PATH: process.env.PATH ?? '', COLUMNS: '200', TERM: 'xterm' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, out })));
}

describe('progress on a terminal', () => {
  it('draws a bar per target (cli-progress), then the summary; no timestamped progress lines', { timeout: 60_000 }, async () => {
    bed = await twoTargets();
    // Slow enough answers that a frame is drawn while asking (5 frames a second), even on a loaded machine.
    bed.llm.setLatency(500);
    const { code, out } = await underPty(bed, ['run', '--config', bed.configPath]);
    expect(code, out).toBe(0);
    expect(out).toMatch(/\[programme-a\] [█░]{20} \d+% \| \d+\/12 done, \d+ errors? \| ETA (unknown|\d+ s) \| ([\d.]+|–)\/min/);
    expect(out).toMatch(/\[team-b\] {6}█{20} done: 6 answered, 0 errors, 6 rows written \| \$0\.\d+ so far \| elapsed \d+ s/);
    expect(out).toContain('Run over 2 targets');
    expect(out.indexOf('Run over 2 targets')).toBeGreaterThan(out.lastIndexOf('[team-b]'));
    expect(out).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[/);
  });
});
