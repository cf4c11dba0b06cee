/**
 * Issue 25 item 3, the run as a whole: the disk refuses a sync of the cache's WAL
 * (fdatasync answers EIO, as a failing disk or a full thin volume does). The fault is
 * injected at the system call: node:fs's fdatasync is replaced for the WAL's descriptor
 * only (module.syncBuiltinESMExports carries the replacement to ESM imports), so SQLite,
 * the store and the pipeline run as in production. Every later sync "succeeds", as on
 * Linux after a failed one (https://wiki.postgresql.org/wiki/Fsync_Errors): a store that
 * trusted it would show verdicts that may not be on disk.
 */
import fs, { readlinkSync } from 'node:fs';
import path from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { col, HEADER, OUTPUT_HEADERS, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

const FAST_SHEETS = { read_quota_per_minute: 6000, write_quota_per_minute: 6000 };
const realFdatasync = fs.fdatasync;

let bed: Bed | undefined;
afterEach(async () => {
  fs.fdatasync = realFdatasync;
  syncBuiltinESMExports();
  await bed?.close();
  bed = undefined;
});

/** The file a descriptor of this process names (Linux: /proc/self/fd). */
function fileOf(fd: number): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
}

/**
 * Fails the `nth` fdatasync of the file `file` + "-wal" with EIO; every other sync is real.
 * Before each, counts the verdicts committed in the file (a second connection): a sync
 * makes durable what was committed before it began.
 */
function failSync(file: string, nth: number): { failed: () => number; committedAt: number[] } {
  let calls = 0;
  let failed = 0;
  const committedAt: number[] = [];
  const count = (): number => {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM verdicts').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  fs.fdatasync = ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
    if (!fileOf(fd).endsWith(`${file}-wal`)) return realFdatasync(fd, callback);
    committedAt.push(count());
    if (++calls === nth) {
      failed++;
      const error = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5, syscall: 'fdatasync' });
      setTimeout(() => callback(error), 30); // a failing disk is slow to say so: commits pile up meanwhile
      return;
    }
    return realFdatasync(fd, callback);
  }) as typeof fs.fdatasync;
  syncBuiltinESMExports();
  return { failed: () => failed, committedAt };
}

const shownVerdicts = (values: string[][]): number => {
  const verdictCol = col(values, 'Validation') ?? -1;
  expect(verdictCol).toBeGreaterThanOrEqual(0);
  return values.slice(1).filter((row) => (row[verdictCol] ?? '') !== '').length;
};

describe('a sync of the cache file refused by the disk', () => {
  // Linux only, on purpose: the fault is injected for the WAL's descriptor alone, found by its path in
  // /proc/self/fd, which other systems lack (elsewhere every sync would be real and the test prove nothing).
  // CI and the deployments the README documents (Cloud Run, Actions, Kubernetes) are Linux.
  it.skipIf(process.platform !== 'linux')('stops the run with a message naming the file, and shows no verdict whose commit was not confirmed', async () => {
    const rows = sampleRows(40);
    bed = await startBed({
      rows,
      header: [...HEADER, ...OUTPUT_HEADERS],
      llm: { latencyMs: { mean: 20, jitter: 15 } },
      config: { llm: { max_workers: 8 }, sheets: FAST_SHEETS },
    });
    const syncs = failSync(path.join(bed.dir, 'cache.sqlite'), 1);
    const result = await bed.run();
    expect(syncs.failed()).toBe(1);

    // The run ends as for an unreachable store: exit 1, the failure said with what to do.
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/disk refused to sync the cache file \S*cache\.sqlite/);
    expect(result.stderr).toMatch(/EIO/);
    expect(result.stderr).toMatch(/Check the disk/);
    expect(result.stderr).toMatch(/run again/);
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack

    // The first sync failed: no put was ever confirmed, so no row shows a verdict (invariant 2).
    expect(shownVerdicts(bed.values())).toBe(0);
  }, 60_000);

  // Linux only, on purpose: the fault is injected for the WAL's descriptor alone, found by its path in
  // /proc/self/fd, which other systems lack (elsewhere every sync would be real and the test prove nothing).
  // CI and the deployments the README documents (Cloud Run, Actions, Kubernetes) are Linux.
  it.skipIf(process.platform !== 'linux')('writes the verdicts confirmed before the failure, and none committed after it', async () => {
    const rows = sampleRows(60);
    bed = await startBed({
      rows,
      header: [...HEADER, ...OUTPUT_HEADERS],
      llm: { latencyMs: { mean: 15, jitter: 10 } },
      config: { llm: { max_workers: 8 }, output: { write_batch_size: 1 }, sheets: FAST_SHEETS },
    });
    const syncs = failSync(path.join(bed.dir, 'cache.sqlite'), 3);
    const result = await bed.run();
    expect(syncs.failed()).toBe(1);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/disk refused to sync the cache file/);
    // The two syncs that succeeded confirmed what was committed before the second began; the rest is not shown.
    const confirmed = syncs.committedAt[1] ?? 0;
    // (A commit may rewrite a key already counted: the count at the failing sync is not always larger.)
    expect(syncs.committedAt[2] ?? 0).toBeGreaterThanOrEqual(confirmed);
    const shown = shownVerdicts(bed.values());
    expect(shown).toBeLessThanOrEqual(confirmed);
    // …and what the first sync confirmed, well before the failure, is in the sheet (the run stops as for an unreachable store: what was committed is written).
    expect(syncs.committedAt[0] ?? 0).toBeGreaterThan(0);
    expect(shown).toBeGreaterThanOrEqual(syncs.committedAt[0] ?? 0);
  }, 60_000);
});
