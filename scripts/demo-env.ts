import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { startOpenAIEmulator, type OpenAIEmulator } from '../test/support/openai-emulator/index.js';
import { startSheetsEmulator, type SheetsEmulator } from '../test/support/sheets-emulator/index.js';
import { RISK_COLUMNS, RISK_HEADER, RISK_LEVELS, RISK_RULES, SAMPLE_HEADER, riskRows, sampleRows } from '../test/support/sample-data.js';
import { writeServiceAccountKey } from '../test/support/bed.js';

export const DEMO_SPREADSHEET = 'demo-spreadsheet';
export const DEMO_TAB = 'Statuses';
/** A second kind of sheet in the same spreadsheet: a risk register, checked by its own config (riskConfigPath). */
export const DEMO_RISK_TAB = 'Risks';
export const DEMO_KEY_ENV = 'DEMO_OPENAI_KEY';
export const DEMO_KEY = 'sk-demo-not-a-real-key-000000';
/** The reviewers' column of the Statuses tab (review.override_column): `eval` compares it with the model. */
export const DEMO_REVIEW_HEADER = 'Reviewer verdict';
/** `serve`'s machine token, for trying the HTTP trigger by hand (serve --token-env's default variable). */
export const DEMO_SERVE_TOKEN_ENV = 'STATUS_VALIDATOR_TOKEN';
export const DEMO_SERVE_TOKEN = 'demo-serve-token-not-a-secret-0000';
/** The model the demo's configs name: the emulator answers as it, and the run is priced at its list price. */
export const DEMO_MODEL = 'gpt-5-mini';

/**
 * Reviewer verdicts the Statuses tab starts with (0-based sample row → cell), as a team
 * that reviewed a few rows by hand would have them: `eval` shows them from the first run.
 * Rows the reviewer decided are never sent to the model (the reviewer wins), so `eval`
 * lists them as not compared; a verdict typed in after a run is compared.
 */
export const DEMO_REVIEWS: ReadonlyMap<number, string> = new Map([
  [1, 'VALID'],
  [5, 'INVALID Blocked is not one of our statuses'],
  [7, 'VALID the lead confirmed the plan by phone'],
]);

export interface DemoEnvironment {
  sheets: SheetsEmulator;
  llm: OpenAIEmulator;
  configPath: string;
  /** The folder holding the configs, the throwaway key and the caches. */
  dir: string;
  /** The risk register's config: the same emulators, the Risks tab, its own rulebook and columns.inputs. */
  riskConfigPath: string;
  /** Both tabs as the targets of one config (one run, one shared gate and quota). */
  portfolioConfigPath: string;
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/**
 * Both emulators with a sample sheet, a throwaway service-account key and a config
 * pointing at them: everything the CLI needs, with no Google or OpenAI account.
 */
export async function startDemo(options: { dir: string; rows: number; sheetsPort?: number; llmPort?: number; latencyMs?: number; dashboard?: boolean }): Promise<DemoEnvironment> {
  mkdirSync(options.dir, { recursive: true });
  const sheets = await startSheetsEmulator({ ...(options.sheetsPort ? { port: options.sheetsPort } : {}) });
  const llm = await startOpenAIEmulator({ apiKey: DEMO_KEY, latencyMs: { mean: options.latencyMs ?? 120, jitter: 40 }, ...(options.llmPort ? { port: options.llmPort } : {}) });
  sheets.addSpreadsheet(DEMO_SPREADSHEET, [
    { title: DEMO_TAB, rows: [[...SAMPLE_HEADER, DEMO_REVIEW_HEADER], ...sampleRows(options.rows).map((row, i) => [...row, DEMO_REVIEWS.get(i) ?? ''])], columnCount: 7 },
    { title: DEMO_RISK_TAB, rows: [[...RISK_HEADER], ...riskRows(options.rows)], columnCount: 12 },
  ]);
  const keyFile = path.join(options.dir, 'demo-credentials.json');
  writeServiceAccountKey(keyFile, 'status-validator-demo@demo-project.iam.gserviceaccount.com');
  const configPath = path.join(options.dir, 'demo-config.yaml');
  const config = {
    sheets: { spreadsheet_id: DEMO_SPREADSHEET, sheet: DEMO_TAB, credentials_file: keyFile, api_root: sheets.url },
    columns: { id: 'Project', status: 'Status', comment: 'Comment', completion_date: 'Due date' },
    rules: {
      allowed_statuses: ['Planned', 'In progress', 'Done', 'Cancelled'],
      text: 'The comment must say what was done, what is next and by when. Vague comments (TBD, "working on it") are invalid.',
    },
    review: { override_column: DEMO_REVIEW_HEADER, recheck_column: 'Recheck' },
    // The run history, and a dashboard of charts over it (the demo's page shows both): a few
    // more Sheets calls a run, paced at Google's default quotas, so only where it is shown.
    ...(options.dashboard === true ? { report: { runs_sheet: 'Runs', dashboard_sheet: 'Dashboard' } } : {}),
    llm: { max_workers: 8, providers: [{ name: 'emulator', model: DEMO_MODEL, base_url: llm.url, api_key_env: DEMO_KEY_ENV }] },
    cache: { path: path.join(options.dir, 'demo-cache.sqlite') },
    // `serve` takes a machine token (DEMO_SERVE_TOKEN_ENV) here: ID tokens need a Google Cloud project.
    serve: { max_rows: 50, max_cost_usd: 0.5, runs_per_hour: 30 },
  };
  writeFileSync(configPath, `# Written by the demo: points status-validator at the bundled emulators.\n${stringify(config)}`);
  const riskConfigPath = path.join(options.dir, 'demo-risks-config.yaml');
  const { review: statusesReview, ...shared } = config;
  const riskConfig = {
    ...shared,
    sheets: { ...config.sheets, sheet: DEMO_RISK_TAB },
    columns: RISK_COLUMNS,
    rules: { allowed_statuses: [...RISK_LEVELS], text: RISK_RULES },
    cache: { path: path.join(options.dir, 'demo-risks-cache.sqlite') },
  };
  writeFileSync(riskConfigPath, `# Written by the demo: a risk register (rows of any shape) on the bundled emulators.\n${stringify(riskConfig)}`);
  const portfolioConfigPath = path.join(options.dir, 'demo-portfolio-config.yaml');
  const { sheet: _oneTab, ...sharedSheets } = config.sheets;
  const portfolio = {
    ...shared,
    sheets: sharedSheets,
    cache: { path: path.join(options.dir, 'demo-portfolio-cache.sqlite') },
    targets: [
      // The risk register has no reviewers' column: eval says so for it.
      { name: 'statuses', sheet: DEMO_TAB, review: statusesReview },
      { name: 'risks', sheet: DEMO_RISK_TAB, columns: RISK_COLUMNS, rules: riskConfig.rules },
    ],
  };
  writeFileSync(portfolioConfigPath, `# Written by the demo: both tabs as targets of one config, checked in one run.\n${stringify(portfolio)}`);
  return {
    sheets,
    llm,
    configPath,
    dir: options.dir,
    riskConfigPath,
    portfolioConfigPath,
    env: { ...process.env, [DEMO_KEY_ENV]: DEMO_KEY, [DEMO_SERVE_TOKEN_ENV]: DEMO_SERVE_TOKEN },
    close: async () => {
      await Promise.all([sheets.close(), llm.close()]);
    },
  };
}
