/**
 * The demo (`npm run demo`): a complete run against the bundled emulators, no accounts
 * needed: two tabs of one spreadsheet (project statuses, and a risk register with its own columns and
 * rulebook) as the targets of one config. Runs, lets a reviewer disagree on a few rows and
 * measures the agreement (`eval`), runs again to show that the second run costs nothing,
 * and prints part of each tab. Its configs live in a temporary folder removed at the end:
 * `npm run emulators` writes ones that stay, to try the commands by hand.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../src/cli/main.js';
import { DEMO_MODEL, DEMO_REVIEW_HEADER, DEMO_RISK_TAB, DEMO_SPREADSHEET, DEMO_TAB, startDemo, type DemoEnvironment } from './demo-env.js';
import { plural } from '../src/plural.js';
import { clip } from './text.js';

const CONFIG = 'demo-portfolio-config.yaml';
/** Where the demo leaves its picture of the sheet (beside what `npm run emulators` keeps). */
export const PICTURE = path.resolve('.status-validator', 'demo-sheet.html');

export interface DemoOutput {
  /** The demo's own lines (and the CLI's stdout). */
  stdout: { write(text: string): unknown };
  /** The CLI's progress lines and errors. */
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/** The first rows of a tab, a few columns of each, cut to fit a terminal (a cut ends in "…"). */
function show(say: (line: string) => void, env: DemoEnvironment, tab: string, columns: readonly string[]): void {
  const values = env.sheets.values(DEMO_SPREADSHEET, tab);
  const header = values[0] ?? [];
  const pick = columns.map((h) => header.indexOf(h));
  const last = pick.length - 1;
  for (const row of values.slice(0, 7)) say('  ' + pick.map((i, k) => clip((row[i] ?? '').replace(/\n/g, ' / '), k === last ? 60 : 12).padEnd(k === last ? 0 : 13)).join(''));
}

/** A reviewer fills the reviewers' column of a few rows the model has answered, as a person would in the sheet. */
function review(say: (line: string) => void, env: DemoEnvironment, verdicts: ReadonlyArray<[id: string, verdict: string]>): void {
  const values = env.sheets.values(DEMO_SPREADSHEET, DEMO_TAB);
  const column = (values[0] ?? []).indexOf(DEMO_REVIEW_HEADER) + 1;
  for (const [id, verdict] of verdicts) {
    const row = values.findIndex((r) => r[0] === id) + 1;
    if (row === 0) continue;
    env.sheets.setCell(DEMO_SPREADSHEET, DEMO_TAB, row, column, verdict);
    say(`  ${id}: ${verdict}`);
  }
}

/** Runs the demo on `rows`-row tabs, in a temporary folder it removes; returns the exit code. */
export async function runDemo(out: DemoOutput, options: { rows: number; latencyMs?: number; pictureFile?: string }): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'status-validator-demo-'));
  const demo = await startDemo({ dir, rows: options.rows, dashboard: true, ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }) });
  const io = { stdout: out.stdout, stderr: out.stderr, env: demo.env };
  const say = (line: string) => out.stdout.write(`${line}\n`);
  try {
    say(`status-validator demo: a spreadsheet with two ${options.rows}-row tabs on a local Sheets emulator, a local OpenAI-compatible model.`);
    say('"Statuses" holds project status updates; "Risks" is a risk register with its own columns (Owner, Likelihood, Impact) and rulebook.');
    say(`The model is simulated: it answers by simple rules, as ${DEMO_MODEL} would be asked, and the costs shown are what those tokens would cost at ${DEMO_MODEL}'s list price. Nothing is paid.\n`);
    say(`$ status-validator run --config ${CONFIG}    (the demo's config, in a temporary folder removed at the end)`);
    const first = await main(['run', '--config', path.join(dir, CONFIG)], io);
    say(`(exit code ${first}; the costs above are simulated)\n`);

    say(`"${DEMO_TAB}" now (first 6 rows):`);
    show(say, demo, DEMO_TAB, ['Project', 'Status', 'Validation', 'Issues']);
    say(`\n"${DEMO_RISK_TAB}" now (first 6 rows):`);
    show(say, demo, DEMO_RISK_TAB, ['Risk ID', 'Risk level', 'Owner', 'Validation', 'Issues']);

    const verdicts: Array<[string, string]> = [
      ['PRJ-0003', 'VALID'],
      ['PRJ-0004', 'VALID the team explained it in the weekly call'],
      ['PRJ-0012', 'INVALID'],
    ];
    say(`\nA reviewer writes ${plural(verdicts.length, 'verdict')} into "${DEMO_REVIEW_HEADER}" (it always wins over the model's):`);
    review(say, demo, verdicts);
    say(`\nHow often does the model agree with the reviewers?\n$ status-validator eval --config ${CONFIG}`);
    const agreement = await main(['eval', '--config', path.join(dir, CONFIG)], io);
    say(`(exit code ${agreement})\n`);

    say(`Again: unchanged rows cost nothing, the reviewers' verdicts are written without asking the model:\n$ status-validator run --config ${CONFIG}`);
    const second = await main(['run', '--config', path.join(dir, CONFIG)], io);
    say(`(exit code ${second})`);
    // The sheet as a person would see it in Sheets: kept after the demo (the emulated sheet is not).
    const picture = options.pictureFile ?? PICTURE;
    mkdirSync(path.dirname(picture), { recursive: true });
    writeFileSync(picture, demo.sheets.picture(DEMO_SPREADSHEET, { tabs: [DEMO_TAB, DEMO_RISK_TAB, 'Dashboard', 'Runs'], maxRows: 25 }));
    say(`\nThe sheet as a person sees it (verdict colours, checkboxes, the reviewers' list, the Dashboard tab's charts): open ${path.relative(process.cwd(), picture) || picture} in a browser.`);
    say('\nTo try every command by hand on a sheet that stays: npm run emulators (see README, "Try it without any account").');
    return first === 0 || first === 3 ? second : first;
  } finally {
    await demo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
