/**
 * Review of issue 21 item 6 ("A SQLite file on a network file system is refused"). The check
 * (src/cache/sqlite/open.ts refuseNetworkFileSystem) asks statfs about the folder of the path
 * as written (path.dirname(path.resolve(file))), not about the folder the file really lives in.
 * A cache.path that is a symlink to a file on an NFS share (a common way to put a data file on
 * a mounted volume: ./status-validator.sqlite -> /mnt/shared/status-validator.sqlite) is judged
 * by the local folder holding the link, so the file on NFS is opened and written, exactly
 * the silent corruption the refusal exists to prevent.
 *
 * The statfs here plays the kernel's: statfs(2) follows symlinks in the path it is given and
 * reports the file system of where that path really is (realpath), and says NFS for the folder
 * that stands for the mounted share. (A real NFS mount needs privileges a test does not have;
 * OpenSqliteOptions.statfs exists for this.)
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statfsSync, symlinkSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/cache/index.js';
import { UnsafeCacheError } from '../../src/errors.js';

const NFS_SUPER_MAGIC = 0x6969;

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('a cache.path that is a symlink to a file on a network file system', () => {
  it('is refused like the file itself (exit 2, naming NFS), and nothing is created on the share', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sv-r21-nfs-'));
    const share = path.join(dir, 'mnt-shared');
    const local = path.join(dir, 'app');
    mkdirSync(share);
    mkdirSync(local);
    const onShare = path.join(share, 'status-validator.sqlite');
    const link = path.join(local, 'status-validator.sqlite');
    symlinkSync(onShare, link);
    const shareReal = realpathSync(share);
    // As the kernel answers: the file system of where the path really leads.
    const statfs = (folder: string) => {
      const real = realpathSync(folder);
      return real === shareReal || real.startsWith(`${shareReal}${path.sep}`) ? { type: NFS_SUPER_MAGIC } : { type: statfsSync(folder).type };
    };
    // The file itself on the share is refused (the check works for the path as written).
    expect(() => SqliteStore.open(onShare, { statfs })).toThrow(UnsafeCacheError);
    // The same file through the link.
    let refusal: unknown;
    let store: SqliteStore | undefined;
    try {
      store = SqliteStore.open(link, { statfs });
    } catch (error) {
      refusal = error;
    }
    void store?.close();
    expect(existsSync(onShare), 'the SQLite file was created on the NFS share through the link').toBe(false);
    expect(refusal).toBeInstanceOf(UnsafeCacheError);
    expect(String((refusal as Error | undefined)?.message)).toContain('NFS');
  });
});
