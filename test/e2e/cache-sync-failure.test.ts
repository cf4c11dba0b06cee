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
import { syncBuiltinESMExports } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

const OUTPUT_HEADERS = ['Validation', 'Issues', 'Suggested rewrite', 'Checked at', 'Model'];
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

/** Fails the first fdatasync of a file ending in `suffix` with EIO; every other sync is real. */
function failFirstSync(suffix: string): { failed: () => number; after: () => number } {
  let failed = 0;
  let after = 0;
  fs.fdatasync = ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
    if (!fileOf(fd).endsWith(suffix)) return realFdatasync(fd, callback);
    if (failed === 0) {
      failed++;
      const error = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5, syscall: 'fdatasync' });
      setImmediate(() => callback(error));
      return;
    }
    after++;
    return realFdatasync(fd, callback);
  }) as typeof fs.fdatasync;
  syncBuiltinESMExports();
  return { failed: () => failed, after: () => after };
}

describe('a sync of the cache file refused by the disk', () => {
  it.skipIf(process.platform !== 'linux')('stops the run with a message naming the file, and shows no verdict whose commit was not confirmed', async () => {
    const rows = sampleRows(40);
    bed = await startBed({
      rows,
      header: [...HEADER, ...OUTPUT_HEADERS],
      llm: { latencyMs: { mean: 20, jitter: 15 } },
      config: { llm: { max_workers: 8 }, sheets: FAST_SHEETS },
    });
    const syncs = failFirstSync('cache.sqlite-wal');
    const result = await bed.run();
    expect(syncs.failed()).toBe(1);

    // The run ends as for an unreachable store: exit 1, the failure said with what to do.
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/disk refused to sync the cache file \S*cache\.sqlite/);
    expect(result.stderr).toMatch(/EIO/);
    expect(result.stderr).toMatch(/Check the disk/);
    expect(result.stderr).toMatch(/run again/);
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack

    // The first sync failed: no put was ever confirmed, so no row shows a verdict (invariant 2),
    // although later syncs "succeeded".
    const values = bed.values();
    const verdictCol = col(values, 'Validation') ?? -1;
    expect(verdictCol).toBeGreaterThanOrEqual(0);
    expect(values.slice(1).map((row) => row[verdictCol] ?? '').filter((v) => v !== '')).toEqual([]);
  }, 60_000);
});
