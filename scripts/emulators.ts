/**
 * `npm run emulators`: both emulators on fixed ports with a sample sheet, until Ctrl-C,
 * to try the CLI by hand without any account.
 */
import path from 'node:path';
import { DEMO_KEY, DEMO_KEY_ENV, startDemo } from './demo-env.js';

const dir = path.resolve('.status-validator');
const sheetsPort = Number(process.env.SHEETS_EMULATOR_PORT ?? 8085);
const llmPort = Number(process.env.OPENAI_EMULATOR_PORT ?? 8086);
const demo = await startDemo({ dir, rows: Number(process.env.DEMO_ROWS ?? 100), sheetsPort, llmPort });
console.log(`Sheets API emulator:        ${demo.sheets.url}`);
console.log(`OpenAI-compatible emulator: ${demo.llm.url}`);
console.log(`Config written to:          ${demo.configPath}\n`);
console.log('In another terminal:');
console.log(`  export ${DEMO_KEY_ENV}=${DEMO_KEY}`);
console.log(`  npx status-validator run --config ${path.relative(process.cwd(), demo.configPath)}\n`);
console.log(`A risk register (rows of any shape) in the same spreadsheet, with its own rulebook:`);
console.log(`  npx status-validator run --config ${path.relative(process.cwd(), demo.riskConfigPath)}\n`);
console.log('Both tabs as targets of one config, checked in one run:');
console.log(`  npx status-validator run --config ${path.relative(process.cwd(), demo.portfolioConfigPath)}\n`);
console.log('Ctrl-C stops the emulators (the sheet lives in memory and is gone with them).');
const stop = () => {
  void demo.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
