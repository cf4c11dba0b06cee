/**
 * Issue 21 item 3: serve's admission across instances. Two `serve` processes, each on its
 * own host and port, share one cache.url; each is given a POST /runs for the same tab at the
 * same moment. Exactly one answers 202; the other answers 409 naming the run (and the host)
 * that holds the tab, in the shape a 409 of one server has: its run is never started, so
 * nothing exits 4 behind a 202.
 */
import { describe, expect, it } from 'vitest';
import { HEADER, type Bed } from '../support/bed.js';
import { expectedCells, waitFor, type Child } from '../support/inspect.js';
import { FAST_SHEETS, instancesAfterEach, runsIn } from '../support/instances.js';
import { sampleRows } from '../support/sample-data.js';

const instances = instancesAfterEach();

const TOKEN = 'instances-token-0123456789abcdef';

interface Server {
  child: Child;
  base: string;
  post: (body: unknown) => Promise<{ status: number; json: Record<string, unknown> }>;
  get: (route: string) => Promise<Record<string, unknown>>;
}

async function serve(b: Bed, host: string): Promise<Server> {
  const child = instances.spawn(['serve', '--config', b.configPath, '--port', '0'], { env: { ...b.env, STATUS_VALIDATOR_TOKEN: TOKEN }, host });
  await waitFor('the server to listen', () => /listening on (\S+)/.test(child.stderr()), 30_000);
  const base = /listening on (\S+)/.exec(child.stderr())?.[1] ?? '';
  const headers = { authorization: `Bearer ${TOKEN}` };
  return {
    child,
    base,
    post: async (body) => {
      const res = await fetch(`${base}/runs`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },
    get: async (route) => (await fetch(`${base}${route}`, { headers })).json() as Promise<Record<string, unknown>>,
  };
}

async function finished(server: Server, id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const view = await server.get(`/runs/${id}`);
    if (view.status === 'finished' || view.status === 'failed') return view;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`run ${id} did not end`);
}

describe('two serve instances on one cache.url', () => {
  it('answer two POSTs for one tab at the same moment with exactly one 202 and one 409 naming who holds it; the run is done once', { timeout: 120_000 }, async () => {
    const rows = sampleRows(20);
    const made = await instances.postgresBed({ rows, llm: { latencyMs: 100 }, config: { llm: { max_workers: 2 }, sheets: FAST_SHEETS } });
    const b = made.bed;
    const [a, c] = await Promise.all([serve(b, 'host-a'), serve(b, 'host-b')]);
    const answers = await Promise.all([a.post({}), c.post({})]);
    expect(answers.map((x) => x.status).sort(), JSON.stringify(answers)).toEqual([202, 409]);
    const winnerIndex = answers.findIndex((x) => x.status === 202);
    const [winner, loser] = winnerIndex === 0 ? [a, c] : [c, a];
    const admitted = answers[winnerIndex]?.json ?? {};
    const refused = answers[1 - winnerIndex]?.json ?? {};
    const winnerHost = winner === a ? 'host-a' : 'host-b';
    // The shape of a 409 of one server (error, id, url, target), naming the holder's run and host.
    expect(refused).toMatchObject({ id: admitted.id, url: `/runs/${String(admitted.id)}`, target: 'Statuses' });
    expect(String(refused.error)).toContain('a run is already in progress');
    expect(String(refused.error)).toContain(winnerHost);
    expect(refused.host).toBe(winnerHost);

    const view = await finished(winner, String(admitted.id));
    expect(view.status, JSON.stringify(view)).toBe('finished');
    // Nothing was started on the loser (no run that would exit 4 behind a 202).
    expect(await loser.get('/health')).toMatchObject({ running: null });
    expect(loser.child.stderr()).not.toMatch(/requested by/);
    expect(b.llm.callCount()).toBe(rows.length);
    const runs = await runsIn(made.cluster, made.database);
    expect(runs.map((r) => [r.id, r.status, r.trigger])).toEqual([[admitted.id, 'completed', 'serve']]);
    const values = b.values();
    const verdictCol = values[0]?.indexOf('Validation') ?? -1;
    rows.forEach((row, i) => expect(values[i + 1]?.[verdictCol], `row ${i + 2}`).toBe(expectedCells(row).verdict));

    // The tab free again: the other instance admits the next run (and it asks nothing: all is answered).
    const again = await loser.post({});
    expect(again.status, JSON.stringify(again.json)).toBe(202);
    expect((await finished(loser, String(again.json.id))).status).toBe('finished');
    expect(b.llm.callCount()).toBe(rows.length);
  });

  it('a cron run of every target skips the tab a `run` on another host holds (named with its host); a POST for that tab alone is 409', { timeout: 120_000 }, async () => {
    const made = await instances.postgresBed({
      rows: sampleRows(6),
      moreTabs: [{ title: 'Team B', rows: [HEADER, ...sampleRows(30).slice(6, 26)] }],
      llm: { latencyMs: 300 },
      config: { llm: { max_workers: 1 }, sheets: FAST_SHEETS },
    });
    const b = made.bed;
    b.setConfig({ targets: [{ name: 'programme-a', sheet: 'Statuses' }, { name: 'team-b', sheet: 'Team B' }] });
    const holder = instances.spawn(['run', '--config', b.configPath, '--target', 'team-b'], { env: b.env, host: 'host-b' });
    let holderRun = '';
    for (let i = 0; i < 300 && holderRun === ''; i++) {
      // The table exists once the holder's store has opened (it makes the schema).
      holderRun = (await made.cluster.sql<{ run_id: string }>('SELECT run_id FROM locks', [], made.database).catch(() => []))[0]?.run_id ?? '';
      if (holderRun === '') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(holderRun).not.toBe('');
    const server = await serve(b, 'host-a');
    const alone = await server.post({ target: 'team-b' });
    expect(alone.status, JSON.stringify(alone.json)).toBe(409);
    expect(alone.json).toMatchObject({ id: holderRun, target: 'team-b', host: 'host-b' });
    expect(String(alone.json.error)).toMatch(/^target "team-b" has a run in progress \(run \w{8} on host-b, an instance sharing the cache\); try again once it has ended$/);
    const all = await server.post({});
    expect(all.status, JSON.stringify(all.json)).toBe(202);
    expect(all.json).toMatchObject({ targets: ['programme-a'], rows: 6, skipped: [{ target: 'team-b', heldBy: holderRun, host: 'host-b' }] });
    expect((await finished(server, String(all.json.id))).status).toBe('finished');
    expect((await holder.exited).code, holder.stderr()).toBe(0);
    // Each row of both tabs asked once: by the cron run for one tab, by the other host's run for the other.
    expect(b.llm.callCount()).toBe(26);
  });
});
