/**
 * Issue 21 item 7: two instances on two hosts, one PostgreSQL cache (cache.url), one tab.
 * Each `run` is the real CLI in a process of its own, with a host name of its own (unshare
 * --uts) and a working directory of its own: nothing but the database is shared.
 */
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { FAST_SHEETS, instancesAfterEach, requireUnshare, scratchDir, sqliteFilesIn } from '../support/instances.js';
import { sampleRows } from '../support/sample-data.js';

const instances = instancesAfterEach();


function cli(b: Bed, args: string[], options: { host?: string; cwd?: string; at?: number } = {}) {
  const child = instances.spawn(args, { env: b.env, ...options });
  return child;
}

describe('two hosts, one cache.url, one tab', () => {
  it('one run works, the other exits 4 naming the holder\'s host; no row is asked twice', { timeout: 90_000 }, async () => {
    requireUnshare();
    const rows = sampleRows(30);
    // Slow answers: the winner holds the tab for seconds, well past the loser's start.
    const { bed } = await instances.postgresBed({ rows, llm: { latencyMs: 150 }, config: { llm: { max_workers: 3 }, sheets: FAST_SHEETS } });
    const b = bed;
    const at = Date.now() + 3_000;
    const a = cli(b, ['run', '--config', b.configPath], { host: 'host-a', at });
    const c = cli(b, ['run', '--config', b.configPath], { host: 'host-b', at });
    const [ea, ec] = await Promise.all([a.exited, c.exited]);
    const byHost = [
      { host: 'host-a', exit: ea.code, child: a },
      { host: 'host-b', exit: ec.code, child: c },
    ];
    expect(byHost.map((x) => x.exit).sort(), `${a.stderr()}\n---\n${c.stderr()}`).toEqual([0, 4]);
    const winner = byHost.find((x) => x.exit === 0);
    const loser = byHost.find((x) => x.exit === 4);
    expect(loser?.child.stderr()).toMatch(/Another run is already working on "Statuses" in sheet-e2e-1/);
    expect(loser?.child.stderr()).toContain(`on ${winner?.host ?? '?'}`);
    expect(loser?.child.stderr()).not.toContain(`on ${loser?.host ?? '?'},`);
    // Each row asked once, by the winner; every row shows its own verdict.
    expect(b.llm.callCount()).toBe(rows.length);
    const values = b.values();
    const verdictCol = values[0]?.indexOf('Validation') ?? -1;
    rows.forEach((row, i) => expect(values[i + 1]?.[verdictCol], `row ${i + 2}`).toBe(expectedCells(row).verdict));
    // Nothing on either disk: the database is the only memory.
    for (const child of [a, c]) expect(sqliteFilesIn(child.cwd)).toEqual([]);
    expect(sqliteFilesIn(b.dir)).toEqual([]);
  });

  it('a fresh directory on another host reruns a tab another instance answered: no LLM call, no write', { timeout: 90_000 }, async () => {
    requireUnshare();
    const rows = sampleRows(25);
    const { bed } = await instances.postgresBed({ rows, config: { sheets: FAST_SHEETS } });
    const b = bed;
    const first = cli(b, ['run', '--config', b.configPath], { host: 'host-a' });
    expect((await first.exited).code, first.stderr()).toBe(0);
    expect(b.llm.callCount()).toBe(rows.length);
    const shown = b.values();

    // A new machine: an empty working directory holding only a copy of the config (as a fresh container would).
    const fresh = scratchDir('sv-fresh-');
    const config = path.join(fresh, 'config.yaml');
    copyFileSync(b.configPath, config);
    const callsBefore = b.llm.callCount();
    const writesBefore = b.sheets.writeCount();
    const second = cli(b, ['run', '--config', config, '--json'], { host: 'host-b', cwd: fresh });
    expect((await second.exited).code, second.stderr()).toBe(0);
    expect(b.llm.callCount() - callsBefore).toBe(0);
    expect(b.sheets.writeCount() - writesBefore).toBe(0);
    const summary = JSON.parse(second.stdout()) as { rows: { read: number; asked: number; upToDate: number }; llm: { calls: number } };
    expect(summary.rows.read).toBe(rows.length);
    expect(summary.rows.asked).toBe(0);
    expect(summary.rows.upToDate).toBe(rows.length);
    expect(summary.llm.calls).toBe(0);
    expect(b.values()).toEqual(shown);
    expect(sqliteFilesIn(fresh)).toEqual([]);
  });
});
