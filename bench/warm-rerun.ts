import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { API_KEY } from '../test/support/bed.js';
import type { ChildReport } from './warm-child.js';

/**
 * One rerun in a child process (bench/warm-child.ts, timed there around main()) on `configPath`,
 * its report once the process has exited. `label` (B4, B15 sqlite…) names the figure when the
 * process dies without a report.
 */
export async function forkWarmChild(configPath: string, label: string): Promise<ChildReport> {
  const child = fork(fileURLToPath(new URL('./warm-child.ts', import.meta.url)), [configPath, API_KEY], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  const report = await new Promise<ChildReport>((resolve, reject) => {
    child.once('message', (message) => resolve(message as ChildReport));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${label}: the rerun process exited ${code} without a report`)));
  });
  await exited;
  return report;
}
