/** The README's first command runs the demo: its configs must stay valid and its runs work. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { DEMO_RISK_TAB, DEMO_SPREADSHEET, DEMO_TAB, startDemo, type DemoEnvironment } from '../../scripts/demo-env.js';

let demo: DemoEnvironment | undefined;
let dir: string | undefined;
afterEach(async () => {
  await demo?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  demo = undefined;
});

async function cli(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env });
  return { code, stdout, stderr };
}

describe('the demo', () => {
  it('checks both tabs in one run of its portfolio config, and a second run costs nothing', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sv-demo-'));
    demo = await startDemo({ dir, rows: 12, latencyMs: 1 });
    for (const config of [demo.configPath, demo.riskConfigPath, demo.portfolioConfigPath]) {
      expect((await cli(demo.env, ['check-config', '--config', config])).code, config).toBe(0);
    }
    const first = await cli(demo.env, ['run', '--config', demo.portfolioConfigPath]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/statuses .* ok .*\n.*risks .* ok/);
    expect(demo.llm.callCount()).toBe(24);
    for (const tab of [DEMO_TAB, DEMO_RISK_TAB]) {
      const values = demo.sheets.values(DEMO_SPREADSHEET, tab);
      const verdict = (values[0] ?? []).indexOf('Validation');
      expect(values.slice(1).map((row) => row[verdict]).every((v) => v === 'VALID' || v === 'INVALID'), tab).toBe(true);
    }
    const second = await cli(demo.env, ['run', '--config', demo.portfolioConfigPath]);
    expect(second.code).toBe(0);
    expect(demo.llm.callCount()).toBe(24);
  });
});
