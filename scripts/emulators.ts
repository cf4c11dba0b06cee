/**
 * `npm run emulators`: both emulators on fixed ports with a sample sheet, until Ctrl-C,
 * to try the CLI by hand without any account. DEMO_ROWS sets the rows of each tab.
 */
import path from 'node:path';
import { DEMO_KEY, DEMO_KEY_ENV, DEMO_MODEL, DEMO_REVIEW_HEADER, DEMO_SERVE_TOKEN, DEMO_SERVE_TOKEN_ENV, DEMO_SPREADSHEET, DEMO_TAB, startDemo } from './demo-env.js';

/** A port or a row count from the environment: a whole number in range, else a message and exit 2. */
function whole(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= min && value <= max) return value;
  console.error(`Error: ${name}=${JSON.stringify(raw)} is not a whole number from ${min} to ${max}.\nFix: unset it (default ${fallback}) or set, e.g., ${name}=${fallback} npm run emulators`);
  process.exit(2);
}

const dir = path.resolve('.status-validator');
const sheetsPort = whole('SHEETS_EMULATOR_PORT', 8085, 1, 65_535);
const llmPort = whole('OPENAI_EMULATOR_PORT', 8086, 1, 65_535);
const rows = whole('DEMO_ROWS', 100, 1, 100_000);
const demo = await startDemo({ dir, rows, sheetsPort, llmPort, dashboard: true });
const rel = (file: string) => path.relative(process.cwd(), file);
const view = `${demo.sheets.url}view/${encodeURIComponent(DEMO_SPREADSHEET)}`;
console.log(`Sheets API emulator:        ${demo.sheets.url}  (${rows} rows a tab; DEMO_ROWS=N for another size)`);
console.log(`OpenAI-compatible emulator: ${demo.llm.url}  (a simulated ${DEMO_MODEL}: costs shown are what its tokens would cost, nothing is paid)`);
console.log(`The sheet, read-only:       ${view}  (open it in a browser; reload after a run)`);
console.log(`As a person sees it:        ${demo.sheets.url}picture/${encodeURIComponent(DEMO_SPREADSHEET)}  (colours, checkboxes, the Dashboard's charts)`);
console.log(`Configs written to:         ${rel(demo.dir)}/ (kept after Ctrl-C; they point at these ports)\n`);
console.log('In another terminal, in this folder (npx finds the status-validator of this clone):');
console.log(`  export ${DEMO_KEY_ENV}=${DEMO_KEY}`);
console.log(`  npx status-validator run --config ${rel(demo.configPath)}\n`);
console.log(`A risk register (rows of any shape) in the same spreadsheet, with its own rulebook:`);
console.log(`  npx status-validator run --config ${rel(demo.riskConfigPath)}\n`);
console.log('Both tabs as targets of one config, checked in one run:');
console.log(`  npx status-validator run --config ${rel(demo.portfolioConfigPath)}\n`);
console.log(`Reviewers' verdicts ("${DEMO_REVIEW_HEADER}" in "${DEMO_TAB}", column E) against the model's. The rows a reviewer decided`);
console.log('before any run are never asked; after a run, type a verdict into a row the model answered (the curl line below):');
console.log(`  npx status-validator eval --config ${rel(demo.configPath)}\n`);
console.log('The HTTP trigger (a machine token; the demo has no Google Cloud project for ID tokens):');
console.log(`  export ${DEMO_SERVE_TOKEN_ENV}=${DEMO_SERVE_TOKEN}`);
console.log(`  npx status-validator serve --config ${rel(demo.configPath)} --port 8080\n`);
console.log('Change a cell by hand (here: a reviewer\'s verdict for PRJ-0003, cell E4), then run or eval again:');
console.log(`  curl -X PUT -H 'Authorization: Bearer any' -H 'Content-Type: application/json' \\\n    '${demo.sheets.url}v4/spreadsheets/${DEMO_SPREADSHEET}/values/${DEMO_TAB}!E4?valueInputOption=RAW' -d '{"values":[["INVALID no date given"]]}'\n`);
console.log('Ctrl-C stops the emulators (the sheet lives in memory and is gone with them).');
const stop = () => {
  void demo.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
