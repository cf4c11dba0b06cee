import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { main, type CliIO } from '../../src/cli/main.js';
import { startOpenAIEmulator, type OpenAIEmulator, type OpenAIEmulatorOptions } from './openai-emulator/index.js';
import { startSheetsEmulator, type Cell, type SheetsEmulator, type SheetsEmulatorOptions } from './sheets-emulator/index.js';

export const SPREADSHEET_ID = 'sheet-e2e-1';
export const TAB = 'Statuses';
export const API_KEY = 'sk-test-e2e-0123456789abcdef';
export const HEADER = ['Project', 'Status', 'Comment', 'Due date'];
/** The output headers of the default config, in their default order. */
export const OUTPUT_HEADERS = ['Validation', 'Issues', 'Suggested rewrite', 'Checked at', 'Model'];
/** Google's default Sheets quotas, per user (https://developers.google.com/sheets/api/limits): writes are paced, and rows pile up behind them. */
export const DEFAULT_QUOTAS = { read_quota_per_minute: 60, write_quota_per_minute: 60 };
/** Google's recommended maximum payload of a request, 2 MB (same page): stated here, not taken from src/, so the tests check the code against it. */
export const TWO_MB = 2_000_000;
/** Sheets quotas no test run reaches: the test is about what is read and written, not about pacing. */
export const FAST_SHEETS = { read_quota_per_minute: 60_000, write_quota_per_minute: 60_000 };

let cachedKey: string | undefined;

/** One RSA key per test process: generating one takes longer than most tests. */
export function testPrivateKey(): string {
  cachedKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return cachedKey;
}

/** Writes a service-account key file with a throwaway key (mode 0600). */
export function writeServiceAccountKey(file: string, email = 'bot@status-validator-test.iam.gserviceaccount.com'): void {
  const key = { type: 'service_account', project_id: 'status-validator-test', private_key_id: 'test', private_key: testPrivateKey(), client_email: email };
  writeFileSync(file, JSON.stringify(key, null, 2), { mode: 0o600 });
}

export type ConfigPatch = Record<string, unknown>;

export interface BedOptions {
  rows?: Cell[][];
  header?: Cell[];
  sheets?: SheetsEmulatorOptions;
  llm?: OpenAIEmulatorOptions;
  config?: ConfigPatch;
  /** Grid size of the tab; defaults to a roomy grid. */
  columnCount?: number;
  rowCount?: number;
  /** More tabs in the same spreadsheet (other targets of a portfolio). */
  moreTabs?: Array<{ title: string; rows: Cell[][] }>;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A test bed: both emulators, a temp folder with a key file and a config, and the CLI in-process. */
export interface Bed {
  sheets: SheetsEmulator;
  llm: OpenAIEmulator;
  dir: string;
  configPath: string;
  env: NodeJS.ProcessEnv;
  config: ConfigPatch;
  /** Rewrites the config file with a deep-merged patch. */
  setConfig(patch: ConfigPatch): void;
  /** Runs `status-validator ...args` in this process, capturing its output. */
  cli(args: string[], io?: Partial<CliIO>): Promise<CliResult>;
  /** `run --config <file> ...extra`. */
  run(...extra: string[]): Promise<CliResult>;
  /** The tab's displayed values, header first. */
  values(): string[][];
  close(): Promise<void>;
}

export function baseConfig(sheetsUrl: string, llmUrl: string, dir: string): ConfigPatch {
  return {
    sheets: { spreadsheet_id: SPREADSHEET_ID, sheet: TAB, credentials_file: path.join(dir, 'credentials.json'), api_root: sheetsUrl },
    columns: { id: 'Project', status: 'Status', comment: 'Comment', completion_date: 'Due date' },
    rules: { allowed_statuses: ['Planned', 'In progress', 'Done', 'Cancelled'], text: 'The comment must say what was done, what is next and by when.' },
    llm: {
      max_workers: 5,
      max_retries: 3,
      providers: [{ name: 'emulator', model: 'gpt-5-mini', base_url: llmUrl, api_key_env: 'TEST_OPENAI_KEY' }],
    },
    cache: { path: path.join(dir, 'cache.sqlite') },
  };
}

export async function startBed(options: BedOptions = {}): Promise<Bed> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sv-e2e-'));
  const sheets = await startSheetsEmulator(options.sheets ?? {});
  const llm = await startOpenAIEmulator({ apiKey: API_KEY, ...options.llm });
  const rows = [options.header ?? HEADER, ...(options.rows ?? [])];
  sheets.addSpreadsheet(SPREADSHEET_ID, [{ title: TAB, rows, columnCount: options.columnCount ?? 12, rowCount: options.rowCount ?? Math.max(1000, rows.length + 10) }, ...(options.moreTabs ?? []).map((t) => ({ ...t, columnCount: 12, rowCount: 1000 }))]);
  writeServiceAccountKey(path.join(dir, 'credentials.json'));
  const configPath = path.join(dir, 'config.yaml');
  const env: NodeJS.ProcessEnv = { TEST_OPENAI_KEY: API_KEY };
  const bed: Bed = {
    sheets,
    llm,
    dir,
    configPath,
    env,
    config: deepMerge(baseConfig(sheets.url, llm.url, dir), options.config ?? {}),
    setConfig(patch) {
      bed.config = deepMerge(bed.config, patch);
      writeFileSync(configPath, stringify(bed.config));
    },
    async cli(args, io = {}) {
      let stdout = '';
      let stderr = '';
      const code = await main(args, {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: bed.env,
        ...io,
      });
      return { code, stdout, stderr };
    },
    run: (...extra) => bed.cli(['run', '--config', configPath, ...extra]),
    values: () => sheets.values(SPREADSHEET_ID, TAB),
    async close() {
      await Promise.all([sheets.close(), llm.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  bed.setConfig({});
  return bed;
}

export function deepMerge(base: ConfigPatch, patch: ConfigPatch): ConfigPatch {
  const out: ConfigPatch = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    if (value === undefined) delete out[key];
    else if (isPlain(value) && isPlain(current)) out[key] = deepMerge(current, value);
    else out[key] = value;
  }
  return out;
}

function isPlain(value: unknown): value is ConfigPatch {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Column index (0-based) of a header in the tab's first row. */
export function col(values: string[][], header: string): number {
  const index = (values[0] ?? []).indexOf(header);
  if (index < 0) throw new Error(`no column "${header}" in ${JSON.stringify(values[0])}`);
  return index;
}
