/** The README's first command runs the demo: its configs must stay valid and its runs work. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { DEMO_REVIEWS, DEMO_RISK_TAB, DEMO_SERVE_TOKEN, DEMO_SPREADSHEET, DEMO_TAB, startDemo, type DemoEnvironment } from '../../scripts/demo-env.js';
import { PICTURE, runDemo } from '../../scripts/demo-run.js';

let demo: DemoEnvironment | undefined;
let dir: string | undefined;
afterEach(async () => {
  await demo?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  demo = undefined;
});

interface CliOptions {
  stop?: AbortSignal;
  stderr?: (s: string) => void;
}

async function cli(env: NodeJS.ProcessEnv, args: string[], options: CliOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => ((stderr += s), options.stderr?.(s)) },
    env,
    ...(options.stop ? { stop: options.stop } : {}),
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

async function started(rows = 12): Promise<DemoEnvironment> {
  dir = mkdtempSync(path.join(tmpdir(), 'sv-demo-'));
  demo = await startDemo({ dir, rows, latencyMs: 1 });
  return demo;
}

describe('the demo', () => {
  it('checks both tabs in one run of its portfolio config, and a second run costs nothing', async () => {
    const d = await started();
    for (const config of [d.configPath, d.riskConfigPath, d.portfolioConfigPath]) {
      expect((await cli(d.env, ['check-config', '--config', config])).code, config).toBe(0);
    }
    const first = await cli(d.env, ['run', '--config', d.portfolioConfigPath]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/statuses .* ok .*\n.*risks .* ok/);
    // The rows a reviewer already decided are not asked.
    const reviewed = [...DEMO_REVIEWS.keys()].filter((i) => i < 12).length;
    expect(reviewed).toBeGreaterThan(0);
    expect(d.llm.callCount()).toBe(24 - reviewed);
    for (const tab of [DEMO_TAB, DEMO_RISK_TAB]) {
      const values = d.sheets.values(DEMO_SPREADSHEET, tab);
      const verdict = (values[0] ?? []).indexOf('Validation');
      expect(values.slice(1, 13).map((row) => row[verdict]).every((v) => /^(VALID|INVALID)\b/.test(v ?? '')), tab).toBe(true);
    }
    // Each target's last progress line is its done line with its final count of rows written,
    // and they add up to the table's total (not "0 rows written").
    const lines = first.stderr.trim().split('\n');
    const written = ['statuses', 'risks'].map((name) => {
      const last = lines.filter((l) => l.includes(`[${name}] `)).at(-1) ?? '';
      expect(last, name).toMatch(/\] done: .*\b\d+ rows? written$/);
      return Number(/(\d+) rows? written$/.exec(last)?.[1]);
    });
    expect(written[0]! + written[1]!).toBe(24);
    expect(first.stdout).toMatch(/total \(2\)\s.*\s24\s+\$/);
    const second = await cli(d.env, ['run', '--config', d.portfolioConfigPath]);
    expect(second.code).toBe(0);
    expect(d.llm.callCount()).toBe(24 - reviewed);
  });

  it('has a reviewers\' column, so eval compares the model with the reviewers on every demo config', async () => {
    const d = await started();
    expect((await cli(d.env, ['run', '--config', d.portfolioConfigPath])).code).toBe(0);
    expect((await cli(d.env, ['run', '--config', d.configPath])).code).toBe(0);
    // A reviewer decides a row the model answered (row 4 of the sheet is sample row 2).
    const header = d.sheets.values(DEMO_SPREADSHEET, DEMO_TAB)[0] ?? [];
    d.sheets.setCell(DEMO_SPREADSHEET, DEMO_TAB, 4, header.indexOf('Reviewer verdict') + 1, 'INVALID the date slipped');
    for (const config of [d.configPath, d.portfolioConfigPath]) {
      const evaluated = await cli(d.env, ['eval', '--config', config]);
      expect(evaluated.code, evaluated.stderr).toBe(0);
      expect(evaluated.stdout).toMatch(/Reviewed rows: 4; compared with the model: 1; agreement: 0\.0% \(0\/1\)/);
      expect(evaluated.stdout).toContain('reviewer INVALID — the date slipped; model VALID');
    }
  });

  it('serves the HTTP trigger on its config with the machine token it documents', async () => {
    const d = await started(4);
    const stop = new AbortController();
    let log = '';
    const served = cli(d.env, ['serve', '--config', d.portfolioConfigPath, '--port', '0'], { stop: stop.signal, stderr: (s) => (log += s) });
    for (let i = 0; i < 200 && !/listening on (\S+)/.test(log); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    const base = /listening on (\S+)/.exec(log)?.[1];
    expect(base, log).toBeDefined();
    const health = await fetch(`${base}/health`, { headers: { authorization: `Bearer ${DEMO_SERVE_TOKEN}` } });
    expect(health.status).toBe(200);
    stop.abort();
    expect((await served).code).toBe(0);
  });

  it('says its costs are simulated, prints no path it deletes, ends cut cells with "…", and shows eval', async () => {
    let stdout = '';
    let stderr = '';
    const code = await runDemo({ stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } }, { rows: 12, latencyMs: 1 });
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/The model is simulated.*Nothing is paid/);
    expect(stdout).toContain('the costs above are simulated');
    // The configs live in a folder removed at the end: no path into it is printed.
    expect(stdout).not.toContain(tmpdir());
    expect(stdout).not.toContain('status-validator-demo-');
    // The reviewer's verdict "VALID (reviewer)…" is longer than the 12 columns shown.
    const shown = stdout.split('\n').filter((l) => /^ {2}(PRJ|R)-\d+ {2,}/.test(l));
    expect(shown.length).toBe(12);
    expect(shown.filter((l) => /\S… /.test(l)).length).toBeGreaterThan(0);
    for (const line of shown) expect(line.length).toBeLessThanOrEqual(2 + 13 * 4 + 60);
    expect(stdout).toMatch(/Reviewed rows: \d+; compared with the model: 3;/);
    // The page of the sheet as a person sees it: where it is, and the bot's colours, boxes and charts in it.
    expect(stdout).toContain(`open ${path.relative(process.cwd(), PICTURE)} in a browser`);
    const page = readFileSync(PICTURE, 'utf8');
    expect(page).toContain('<section data-tab="Dashboard">');
    expect(page.match(/<canvas [^>]*data-chart=/g)?.length).toBe(6);
    expect(page).toMatch(/data-cell="Statuses![A-Z]+\d+" style="background:#009e73/);
    expect(page).toContain('role="checkbox"');
  });
});
