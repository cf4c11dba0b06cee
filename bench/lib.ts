import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { main } from '../src/cli/main.js';
import { API_KEY, HEADER, SPREADSHEET_ID, TAB, baseConfig, deepMerge, writeServiceAccountKey, type ConfigPatch } from '../test/support/bed.js';
import { startOpenAIEmulator, type OpenAIEmulator, type OpenAIEmulatorOptions } from '../test/support/openai-emulator/index.js';
import { startSheetsEmulator, type SheetsEmulator, type SheetsEmulatorOptions } from '../test/support/sheets-emulator/index.js';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The best possible value; ratio = value / ideal. */
  ideal?: number;
  /** The ratio must stay at or under this. */
  target?: number;
  /** For figures with no ideal (counts, shares, delays): the value must stay at or under this. */
  limit?: number;
  /** For a speed-up (a ratio of rates, better when larger): the value must be at or above this. */
  atLeast?: number;
  note?: string;
}

export interface BenchEnv {
  sheets: SheetsEmulator;
  llm: OpenAIEmulator;
  configPath: string;
  /** Rewrites the config file with a deep-merged patch (for the next run). */
  setConfig(patch: ConfigPatch): void;
  /** Runs the CLI in this process; returns the exit code and the --json summary. */
  run(...extra: string[]): Promise<{ code: number; summary: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** Both emulators (recording no bodies, to measure the bot and not the recorder) and a config. */
export async function benchEnv(options: { rows: string[][]; sheets?: SheetsEmulatorOptions; llm?: OpenAIEmulatorOptions; config?: ConfigPatch }): Promise<BenchEnv> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sv-bench-'));
  const sheets = await startSheetsEmulator({ recordBodies: false, ...options.sheets });
  const llm = await startOpenAIEmulator({ apiKey: API_KEY, recordBodies: false, ...options.llm });
  sheets.addSpreadsheet(SPREADSHEET_ID, [{ title: TAB, rows: [HEADER, ...options.rows], columnCount: 10, rowCount: options.rows.length + 10 }]);
  writeServiceAccountKey(path.join(dir, 'credentials.json'));
  const configPath = path.join(dir, 'config.yaml');
  let config = deepMerge(baseConfig(sheets.url, llm.url, dir), options.config ?? {});
  writeFileSync(configPath, stringify(config));
  const env = { TEST_OPENAI_KEY: API_KEY };
  return {
    sheets,
    llm,
    configPath,
    setConfig(patch) {
      config = deepMerge(config, patch);
      writeFileSync(configPath, stringify(config));
    },
    async run(...extra) {
      let out = '';
      const code = await main(['run', '--config', configPath, '--json', ...extra], { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, env });
      return { code, summary: JSON.parse(out) as Record<string, unknown> };
    },
    async close() {
      await Promise.all([sheets.close(), llm.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function ratio(figure: Figure): number | undefined {
  return figure.ideal ? figure.value / figure.ideal : undefined;
}

/** Whether a figure misses its target ratio or its limit. */
export function missesTarget(figure: Figure): boolean {
  const r = ratio(figure);
  return (figure.target !== undefined && r !== undefined && r > figure.target) || (figure.limit !== undefined && figure.value > figure.limit) || (figure.atLeast !== undefined && !(figure.value >= figure.atLeast));
}

export function formatFigure(figure: Figure): string {
  const r = ratio(figure);
  const verdict = figure.target !== undefined && r !== undefined ? (r <= figure.target ? ' ok' : ` MISSED (target ≤ ${figure.target})`) : '';
  const ideal = figure.ideal !== undefined ? ` (ideal ${round(figure.ideal)} ${figure.unit}, ratio ${r?.toFixed(3)}${verdict})` : '';
  const limit =
    figure.limit !== undefined ? ` (limit ≤ ${round(figure.limit)} ${figure.unit}, ${figure.value <= figure.limit ? 'ok' : 'MISSED'})` : '';
  const atLeast = figure.atLeast !== undefined ? ` (target ≥ ${figure.atLeast}, ${figure.value >= figure.atLeast ? 'ok' : 'MISSED'})` : '';
  return `${figure.name}: ${round(figure.value)} ${figure.unit}${ideal}${limit}${atLeast}${figure.note ? ` — ${figure.note}` : ''}`;
}

const round = (n: number) => (n === 0 || Number.isInteger(n) ? String(n) : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));

export function saveResults(bench: string, figures: Figure[]): void {
  const dir = path.resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${bench}.json`), JSON.stringify({ bench, at: new Date().toISOString(), node: process.version, figures: figures.map((f) => ({ ...f, ratio: ratio(f) })) }, null, 2));
}
