/**
 * `npm run demo`: a complete run against the bundled emulators, no accounts needed.
 * Runs twice to show that the second run costs nothing, then prints part of the sheet.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../src/cli/main.js';
import { DEMO_SPREADSHEET, DEMO_TAB, startDemo } from './demo-env.js';

const dir = mkdtempSync(path.join(tmpdir(), 'status-validator-demo-'));
const demo = await startDemo({ dir, rows: 40 });
const io = { stdout: process.stdout, stderr: process.stderr, env: demo.env };
try {
  console.log('status-validator demo: a 40-row sheet on a local Sheets emulator, a local OpenAI-compatible model.\n');
  console.log(`$ status-validator run --config ${demo.configPath}`);
  const first = await main(['run', '--config', demo.configPath], io);
  console.log(`(exit code ${first})\n`);

  console.log('The sheet now (first 8 rows):');
  const values = demo.sheets.values(DEMO_SPREADSHEET, DEMO_TAB);
  const header = values[0] ?? [];
  const pick = ['Project', 'Status', 'Validation', 'Issues'].map((h) => header.indexOf(h));
  for (const row of values.slice(0, 9)) console.log('  ' + pick.map((i, k) => (row[i] ?? '').replace(/\n/g, ' / ').slice(0, k === 3 ? 60 : 12).padEnd(k === 3 ? 0 : 13)).join(''));

  console.log(`\nAgain, unchanged rows cost nothing:\n$ status-validator run --config ${demo.configPath}`);
  const second = await main(['run', '--config', demo.configPath], io);
  console.log(`(exit code ${second})`);
  process.exitCode = first === 0 || first === 3 ? second : first;
} finally {
  await demo.close();
  rmSync(dir, { recursive: true, force: true });
}
