/**
 * Issue 4, items 1 and 2: the CLI as a real child process, killed (SIGKILL) at random
 * points of a run, or stopped with SIGINT / SIGTERM. The emulators stay in this process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { cachedVerdicts, expectedCells, lockRows, rowOf, runRows, seededRandom, spawnRun, waitFor, waitForChild, type Child } from '../support/inspect.js';
import type { RecordedRequest } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
let children: Child[] = [];
afterEach(async () => {
  for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  children = [];
  await bed?.close();
  bed = undefined;
});

const FAST_SHEETS = { read_quota_per_minute: 6000, write_quota_per_minute: 6000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const REWRITE = 'Rewrite: ';

function spawn(b: Bed, ...extra: string[]): Child {
  const child = spawnRun(b, ...extra);
  children.push(child);
  return child;
}

/** Answers the server sent in full with status 200. */
const delivered = (r: RecordedRequest) => r.status === 200 && r.endedAt !== undefined && typeof r.content === 'string';

const commentOfRequest = (r: RecordedRequest): string => {
  const body = r.body as { messages?: [] } | undefined;
  return body?.messages ? String(rowOf({ messages: body.messages })?.comment ?? '') : '';
};

/** The comments whose verdict is committed in the cache (the default model echoes the comment). */
function committedComments(file: string): Set<string> {
  try {
    return new Set(cachedVerdicts(file).map((v) => v.suggestion.slice(REWRITE.length)));
  } catch {
    return new Set(); // no cache file yet: the first child died before opening it
  }
}

const MODEL_LATENCY = { mean: 60, jitter: 20 };

/**
 * After the model goes quiet, how long the process gets to commit what it has before the kill.
 * A commit follows its answer within milliseconds; the margin is for a loaded machine (the suite
 * runs three files at once on two cores), where a child process can wait 300 ms for the CPU.
 */
const QUIET_MS = 1_000;

describe('crash safety (SIGKILL)', () => {
  it('after 20 kills at random points and one normal run, every row holds its own verdict and no row was answered twice', { timeout: 120_000 }, async () => {
    const rows = sampleRows(500);
    bed = await startBed({ rows, llm: { latencyMs: MODEL_LATENCY }, config: { llm: { max_workers: 10 }, sheets: FAST_SHEETS } });
    const b = bed;
    const cacheFile = String((b.config.cache as { path: string }).path);
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const at = `(seed ${seed}; replay the schedule with CRASH_SEED=${seed})`;
    const rowOfComment = new Map(rows.map((row, i) => [row[2] ?? '', i]));

    /*
     * What counts as "asked": an answer the server delivered (status 200, response
     * finished) and the process received. When SIGKILL lands, the answers still on their
     * way (sleeping in the emulator, in the socket buffer, in the HTTP parser, between the
     * parser and the SQLite commit) die with the process: no verdict exists anywhere, and
     * asking again is not paying twice for a row already answered. No client can do better
     * (a real provider bills those too), and the server alone cannot tell whether its last
     * bytes were read before the kill.
     *
     * So the kills come in two kinds, chosen at random:
     *  - hard: at a random moment, answers possibly mid-way. A delivered answer that is not
     *    in the cache after the kill counts as lost with the process (and may be asked again).
     *  - quiet: at a random moment the model stops answering (new calls hang); once no
     *    answer has been delivered for QUIET_MS, the process is killed with calls in flight.
     *    Here every delivered answer was received long before the kill, so each must be in
     *    the cache: none may count as lost.
     * In both, exactly: no run asks about a row whose verdict was already committed, and no
     * verdict is in the sheet without being in the cache (committed before written).
     */
    const lost = new Set<RecordedRequest>();
    let killsWithCallsInFlight = 0;
    let committedNotWritten = 0;
    let quietKills = 0;

    for (let kill = 1; kill <= 20; kill++) {
      const quiet = random() < 0.5;
      const committedBefore = committedComments(cacheFile);
      const spawnedAt = Date.now();
      let started!: () => void;
      const firstSheetsCall = new Promise<void>((resolve) => (started = resolve));
      const unsubscribe = b.sheets.onRequest(() => started());
      b.llm.setLatency(MODEL_LATENCY);
      const child = spawn(b);
      await Promise.race([firstSheetsCall, child.exited]);
      unsubscribe();
      await Promise.race([sleep(100 + random() * 500), child.exited]);
      if (quiet) {
        quietKills++;
        b.llm.setLatency(600_000);
        const stalledAt = Date.now();
        const lastAnswer = () => Math.max(stalledAt, ...b.llm.requests.filter((r) => r.startedAt >= spawnedAt && delivered(r)).map((r) => r.endedAt ?? 0));
        await Promise.race([waitFor('the model to go quiet', () => Date.now() - lastAnswer() >= QUIET_MS, 5_000), child.exited]);
      }
      const killedAt = Date.now();
      child.process.kill('SIGKILL');
      const exit = await child.exited;
      // The emulator sees the sockets close a moment later.
      await waitFor('the killed process to have no request left open', () => b.llm.inFlight === 0, 5_000);
      // A kill that came after the run had already finished is fine, if the run finished cleanly.
      if (exit.signal !== 'SIGKILL') expect(exit.code, `run ${kill}: ${child.stderr()} ${at}`).toBe(0);

      const requests = b.llm.requests.filter((r) => r.startedAt >= spawnedAt);
      if (requests.some((r) => r.status === 0 && (r.endedAt ?? 0) >= killedAt)) killsWithCallsInFlight++;
      const committedAfter = committedComments(cacheFile);
      for (const request of requests.filter(delivered)) {
        const comment = commentOfRequest(request);
        expect(committedBefore.has(comment), `run ${kill} asked again about a row already committed: ${comment} ${at}`).toBe(false);
        if (committedAfter.has(comment)) continue;
        const ago = killedAt - (request.endedAt ?? 0);
        expect(quiet, `run ${kill} (quiet kill): an answer delivered ${ago} ms before SIGKILL was never committed: ${comment} ${at}`).toBe(false);
        lost.add(request);
      }
      const values = b.values();
      // A run killed before its first write has not made the output headers yet (they are made right before it).
      const shown = values[0]?.includes('Suggested rewrite') ? values.slice(1).filter((r) => (r[col(values, 'Suggested rewrite')] ?? '') !== '').map((r) => r[2] ?? '') : [];
      expect(shown.filter((c) => !committedAfter.has(c)), `run ${kill}: verdicts in the sheet but not in the cache ${at}`).toEqual([]);
      committedNotWritten += committedAfter.size - shown.length;
    }

    b.llm.setLatency(MODEL_LATENCY);
    const final = await b.run('--json');
    expect(final.code, final.stderr).toBe(0);

    // Every row holds the verdict computed for its own inputs.
    const values = b.values();
    const [verdictCol, suggestionCol, checkedCol, modelCol] = ['Validation', 'Suggested rewrite', 'Checked at', 'Model'].map((h) => col(values, h));
    rows.forEach((row, i) => {
      const cells = values[i + 1] ?? [];
      expect(cells.slice(0, 4), `row ${i + 2}`).toEqual(row);
      const expected = expectedCells(row);
      expect(cells[verdictCol ?? -1], `row ${i + 2} ${at}`).toBe(expected.verdict);
      expect(cells[suggestionCol ?? -1], `row ${i + 2} ${at}`).toBe(expected.suggestion);
      expect(cells[checkedCol ?? -1]).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(cells[modelCol ?? -1]).toBe('gpt-5-mini');
    });

    // Counted at the server, over all 21 runs: at most one received answer per distinct row.
    const answersPerRow = new Map<number, number>();
    for (const request of b.llm.requests.filter(delivered)) {
      if (lost.has(request)) continue;
      const index = rowOfComment.get(commentOfRequest(request)) ?? -1;
      answersPerRow.set(index, (answersPerRow.get(index) ?? 0) + 1);
    }
    const twice = [...answersPerRow].filter(([, n]) => n > 1).map(([i]) => rows[i]?.[0] ?? `a row not in the sheet`);
    expect(twice, `rows answered more than once ${at}`).toEqual([]);
    expect(answersPerRow.size).toBe(500);
    expect(cachedVerdicts(cacheFile)).toHaveLength(500);

    // The schedule did hit the interesting moments: both kinds of kill, calls in flight,
    // and answers saved but not yet written (which a later run wrote from the cache).
    expect(quietKills, at).toBeGreaterThan(0);
    expect(quietKills, at).toBeLessThan(20);
    expect(killsWithCallsInFlight, at).toBeGreaterThan(0);
    expect(committedNotWritten, at).toBeGreaterThan(0);
  });
});

describe('interrupt (SIGINT / SIGTERM)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'on %s stops starting calls, lets those in flight finish, writes every answer, records the run as interrupted and exits 130',
    async (signal) => {
      const rows = sampleRows(40);
      bed = await startBed({ rows, llm: { latencyMs: 400 }, config: { llm: { max_workers: 4 }, sheets: FAST_SHEETS } });
      const b = bed;
      const cacheFile = String((b.config.cache as { path: string }).path);
      const child = spawn(b);
      // The first 4 answers are in (and, batches being 10 rows, not written yet); all 4 workers have a call in flight.
      await waitForChild(child, 'a second wave of calls in flight', () => b.llm.requests.filter(delivered).length >= 4 && b.llm.inFlight === 4, 15_000);
      const signalledAt = Date.now();
      const inFlight = b.llm.requests.filter((r) => r.endedAt === undefined);
      const answeredBefore = b.llm.requests.filter(delivered).map(commentOfRequest);
      const snapshot = b.values();
      // The output headers are made right before the first write: none yet, nothing shown.
      const shownBefore = snapshot[0]?.includes('Validation') ? snapshot.slice(1).filter((r) => (r[col(snapshot, 'Validation')] ?? '') !== '').length : 0;
      child.process.kill(signal);
      const exit = await child.exited;

      expect(exit.code, child.stderr()).toBe(130);
      expect(child.stderr()).toContain(`${signal}: finishing the calls in flight`);
      // No call started after the signal (a few ms for one already on the wire).
      expect(b.llm.requests.filter((r) => r.startedAt > signalledAt + 50)).toEqual([]);
      // Those in flight were not cancelled: each got its answer.
      expect(inFlight).toHaveLength(4);
      for (const request of inFlight) expect(request.status).toBe(200);
      // Every answer received, before or after the signal, is in the sheet (the pending batch was flushed) and in the cache.
      const answered = b.llm.requests.filter(delivered).map(commentOfRequest);
      expect(answered.length).toBe(answeredBefore.length + inFlight.length);
      expect(shownBefore).toBeLessThan(answeredBefore.length);
      const values = b.values();
      const written = values.slice(1).filter((r) => (r[col(values, 'Validation')] ?? '') !== '');
      expect(written.map((r) => r[2]).sort()).toEqual([...answered].sort());
      for (const row of written) expect(row[col(values, 'Suggested rewrite')]).toBe(expectedCells(row).suggestion);
      expect(cachedVerdicts(cacheFile)).toHaveLength(answered.length);
      // Recorded as interrupted, with the rest left for the next run; the lock is released.
      const runs = runRows(cacheFile);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ status: 'interrupted' });
      expect(runs[0]?.ended_at).toBeTruthy();
      const summary = JSON.parse(runs[0]?.summary ?? '{}') as { rows: { deferred: number } };
      expect(summary.rows.deferred).toBe(40 - answered.length);
      expect(lockRows(cacheFile)).toEqual([]);

      // The next run asks only about the rest.
      b.llm.setLatency(0);
      const calls = b.llm.callCount();
      const next = await b.run();
      expect(next.code).toBe(0);
      expect(b.llm.callCount() - calls).toBe(40 - answered.length);
    },
  );

  it('counts the near-duplicates of the questions it did not ask as left for the next run', async () => {
    // Four distinct comments, each with a near-duplicate that shares its answer (dedup.fuzzy_threshold).
    const bases = [
      'Finished the data migration for the billing service; next we load-test the new cluster and switch traffic by the due date.',
      'Vendor contract signed and kickoff held with the team; next step is the requirements workshop on Monday, then the first draft of the plan.',
      'Released version 2.3 to all customers after the beta; collecting feedback now and the retrospective is scheduled for Friday.',
      'Security review closed with no blocking findings; remaining minor items are tracked in the backlog and owned by the platform team.',
    ];
    const rows = bases.flatMap((comment, i) => [
      [`N-${i}a`, 'Done', comment, ''],
      [`N-${i}b`, 'Done', comment.replace(';', ',').replace(/\.$/, ''), ''],
    ]);
    bed = await startBed({ rows, llm: { latencyMs: 400 }, config: { llm: { max_workers: 1 }, dedup: { fuzzy_threshold: 85 }, sheets: FAST_SHEETS } });
    const b = bed;
    const cacheFile = String((b.config.cache as { path: string }).path);
    const child = spawn(b);
    await waitForChild(child, 'the second question in flight', () => b.llm.requests.filter(delivered).length === 1 && b.llm.inFlight === 1, 15_000);
    child.process.kill('SIGINT');
    expect((await child.exited).code, child.stderr()).toBe(130);

    expect(b.llm.requests.filter(delivered)).toHaveLength(2);
    const values = b.values();
    const written = values.slice(1).filter((r) => (r[col(values, 'Validation')] ?? '') !== '');
    // Two questions answered, each for its row and that row's near-duplicate.
    expect(written).toHaveLength(4);
    const summary = JSON.parse(runRows(cacheFile)[0]?.summary ?? '{}') as { rows: { asked: number; deferred: number; fuzzyShared: number } };
    expect(summary.rows).toMatchObject({ asked: 4, deferred: 4, fuzzyShared: 4 });

    b.llm.setLatency(0);
    expect((await b.run()).code).toBe(0);
    expect(b.llm.callCount()).toBe(4);
  });

  it('cancels the calls in flight at a second signal, still writes what was answered, and exits 130 at once', async () => {
    const rows = sampleRows(20);
    bed = await startBed({ rows, llm: { latencyMs: 300 }, config: { llm: { max_workers: 4 }, sheets: FAST_SHEETS } });
    const b = bed;
    const cacheFile = String((b.config.cache as { path: string }).path);
    b.llm.injectFault({ kind: 'hang' }, { times: Infinity, match: (row) => String(row?.comment).includes('PRJ-0006') });
    const child = spawn(b);
    await waitForChild(child, 'the hanging call', () => b.llm.requests.some((r) => commentOfRequest(r).includes('PRJ-0006')), 15_000);
    child.process.kill('SIGINT');
    // The others of that wave finish; the hanging one would keep the run waiting for 10 s.
    await waitForChild(child, 'the rest of the wave', () => b.llm.inFlight === 1, 5_000);
    await sleep(200);
    const answered = b.llm.requests.filter(delivered).map(commentOfRequest);
    const secondAt = Date.now();
    child.process.kill('SIGINT');
    const exit = await child.exited;

    expect(exit.code, child.stderr()).toBe(130);
    expect(Date.now() - secondAt).toBeLessThan(3_000);
    const values = b.values();
    const written = values.slice(1).filter((r) => (r[col(values, 'Validation')] ?? '') !== '');
    expect(written.map((r) => r[2]).sort()).toEqual([...answered].sort());
    expect(written.some((r) => String(r[2]).includes('PRJ-0006'))).toBe(false);
    expect(runRows(cacheFile)[0]).toMatchObject({ status: 'interrupted' });
  });

  it('still writes every answer and exits 130 when the second signal comes while the last writes wait for the Sheets write quota', async () => {
    // Google's default quota (60 writes a minute): answers pile up faster than they can be written.
    bed = await startBed({ rows: sampleRows(300), llm: { latencyMs: 200 }, config: { llm: { max_workers: 20 } } });
    const b = bed;
    const cacheFile = String((b.config.cache as { path: string }).path);
    const child = spawn(b);
    await waitForChild(child, 'a few writes', () => b.sheets.calls.filter((c) => c.op === 'values.batchUpdate').length >= 3, 20_000);
    await sleep(100);
    child.process.kill('SIGINT');
    await sleep(20);
    const secondAt = Date.now();
    child.process.kill('SIGINT');
    const exit = await child.exited;

    expect(exit.code, child.stderr()).toBe(130);
    expect(child.stderr()).not.toMatch(/Internal error|\n\s+at /);
    const values = b.values();
    const written = new Set(values.slice(1).filter((r) => (r[col(values, 'Validation')] ?? '') !== '').map((r) => r[2]));
    const answered = b.llm.requests.filter(delivered);
    // Every written verdict was answered, and every answer received before the second
    // signal is written. An answer still on the wire when that signal cancels the calls
    // in flight cannot be (the process never reads it): allow those, and only those.
    for (const comment of written) expect(answered.map(commentOfRequest)).toContain(comment);
    const lost = answered.filter((r) => !written.has(commentOfRequest(r)));
    for (const r of lost) expect(r.endedAt ?? 0, commentOfRequest(r)).toBeGreaterThanOrEqual(secondAt - 50);
    expect(runRows(cacheFile)[0]).toMatchObject({ status: 'interrupted' });
    expect(lockRows(cacheFile)).toEqual([]);
  });

  it('gives the calls in flight 10 s at most after one signal, then cancels them and exits 130 with the answers written', { timeout: 30_000 }, async () => {
    const rows = sampleRows(12);
    bed = await startBed({ rows, llm: { latencyMs: 200 }, config: { llm: { max_workers: 4, request_timeout_seconds: 120 }, sheets: FAST_SHEETS } });
    const b = bed;
    const cacheFile = String((b.config.cache as { path: string }).path);
    b.llm.injectFault({ kind: 'hang' }, { times: Infinity, match: (row) => String(row?.comment).includes('PRJ-0006') });
    const child = spawn(b);
    await waitForChild(child, 'the hanging call', () => b.llm.requests.some((r) => commentOfRequest(r).includes('PRJ-0006')), 15_000);
    const signalledAt = Date.now();
    child.process.kill('SIGTERM');
    const exit = await child.exited;
    const took = Date.now() - signalledAt;

    expect(exit.code, child.stderr()).toBe(130);
    expect(took).toBeGreaterThanOrEqual(9_500);
    expect(took).toBeLessThan(14_000);
    const answered = b.llm.requests.filter(delivered).map(commentOfRequest);
    const values = b.values();
    const written = values.slice(1).filter((r) => (r[col(values, 'Validation')] ?? '') !== '');
    expect(written.map((r) => r[2]).sort()).toEqual([...answered].sort());
    expect(answered.length).toBeGreaterThanOrEqual(5);
    expect(runRows(cacheFile)[0]).toMatchObject({ status: 'interrupted' });
  });
});
