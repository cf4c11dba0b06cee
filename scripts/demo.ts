/**
 * `npm run demo`: a complete run against the bundled emulators, no accounts needed: two
 * tabs of one spreadsheet (project statuses, and a risk register with its own columns and
 * rulebook) as the targets of one config. Runs twice to show that the second run costs
 * nothing, then prints part of each tab.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../src/cli/main.js';
import { DEMO_RISK_TAB, DEMO_SPREADSHEET, DEMO_TAB, startDemo, type DemoEnvironment } from './demo-env.js';

const dir = mkdtempSync(path.join(tmpdir(), 'status-validator-demo-'));
const demo = await startDemo({ dir, rows: 40 });
const io = { stdout: process.stdout, stderr: process.stderr, env: demo.env };

/** The first rows of a tab, a few columns of each, cut to fit a terminal. */
function show(env: DemoEnvironment, tab: string, columns: readonly string[]): void {
  const values = env.sheets.values(DEMO_SPREADSHEET, tab);
  const header = values[0] ?? [];
  const pick = columns.map((h) => header.indexOf(h));
  const last = pick.length - 1;
  for (const row of values.slice(0, 7)) console.log('  ' + pick.map((i, k) => (row[i] ?? '').replace(/\n/g, ' / ').slice(0, k === last ? 60 : 12).padEnd(k === last ? 0 : 13)).join(''));
}

try {
  console.log('status-validator demo: a spreadsheet with two 40-row tabs on a local Sheets emulator, a local OpenAI-compatible model.');
  console.log('"Statuses" holds project status updates; "Risks" is a risk register with its own columns (Owner, Likelihood, Impact) and rulebook.\n');
  console.log(`$ status-validator run --config ${demo.portfolioConfigPath}`);
  const first = await main(['run', '--config', demo.portfolioConfigPath], io);
  console.log(`(exit code ${first})\n`);

  console.log(`"${DEMO_TAB}" now (first 6 rows):`);
  show(demo, DEMO_TAB, ['Project', 'Status', 'Validation', 'Issues']);
  console.log(`\n"${DEMO_RISK_TAB}" now (first 6 rows):`);
  show(demo, DEMO_RISK_TAB, ['Risk ID', 'Risk level', 'Owner', 'Validation', 'Issues']);

  console.log(`\nAgain, unchanged rows cost nothing:\n$ status-validator run --config ${demo.portfolioConfigPath}`);
  const second = await main(['run', '--config', demo.portfolioConfigPath], io);
  console.log(`(exit code ${second})`);
  process.exitCode = first === 0 || first === 3 ? second : first;
} finally {
  await demo.close();
  rmSync(dir, { recursive: true, force: true });
}
