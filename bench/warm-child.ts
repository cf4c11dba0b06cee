/**
 * One `status-validator run` in a process of its own, for B4: the measured rerun's wall
 * time and peak RSS are then the bot's alone (the emulators, and the garbage of the
 * cold run, stay in the parent). Sends {code, wallMs, maxRssBytes, summary} to the parent.
 * Usage: fork('bench/warm-child.ts', [configPath, apiKey], { execArgv: ['--import', 'tsx'] }).
 */
import { main } from '../src/cli/main.js';

export interface ChildReport {
  code: number;
  wallMs: number;
  maxRssBytes: number;
  summary: Record<string, unknown>;
}

const [configPath, apiKey] = process.argv.slice(2);
if (!configPath || !apiKey || !process.send) throw new Error('usage: fork bench/warm-child.ts <config> <api key> (with an IPC channel)');
let out = '';
const started = performance.now();
const code = await main(['run', '--config', configPath, '--json'], {
  stdout: { write: (s: string) => (out += s) },
  stderr: { write: () => true },
  env: { TEST_OPENAI_KEY: apiKey },
});
const wallMs = performance.now() - started;
const report: ChildReport = { code, wallMs, maxRssBytes: process.resourceUsage().maxRSS * 1024, summary: JSON.parse(out) as Record<string, unknown> };
process.send(report, () => process.disconnect());
