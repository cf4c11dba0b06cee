/**
 * Issue 21 item 6: a SQLite file on a network file system is refused. SQLite's WAL needs
 * every process on one host sharing the -shm file's memory ("WAL does not work over a
 * network filesystem": https://www.sqlite.org/wal.html, Overview and "Sometimes Queries
 * Return SQLITE_BUSY In WAL Mode"), and its locks are only as good as the file system's
 * ("Filesystems with broken or missing lock implementations":
 * https://www.sqlite.org/lockingv3.html#how_to_corrupt, https://www.sqlite.org/howtocorrupt.html).
 * Two instances on one NFS or Cloud Storage FUSE folder would both believe they hold the
 * lock and both write: silent corruption is worse than a refusal.
 *
 * The f_type values are Linux's statfs(2) magic numbers (include/uapi/linux/magic.h,
 * and the statfs(2) manual page for the ones outside it).
 */
const NETWORK_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x6969, 'NFS'],
  // Cloud Storage FUSE (gcsfuse), sshfs, s3fs, GlusterFS's native client, virtiofs...: whatever is behind it, FUSE gives SQLite no lock it can trust.
  [0x65735546, 'FUSE'],
  [0xff534d42, 'CIFS/SMB'],
  [0xfe534d42, 'SMB2/SMB3'],
  [0x517b, 'SMB'],
  [0x01021997, '9p (v9fs)'],
  [0x00c36400, 'Ceph'],
  [0x5346414f, 'AFS'],
  [0x6b414653, 'AFS (kAFS)'],
  [0x0bd00bd0, 'Lustre'],
  [0x73757245, 'Coda'],
  [0x564c, 'NCP (NetWare)'],
  [0x01161970, 'GFS2'],
  [0x7461636f, 'OCFS2'],
  [0x47504653, 'GPFS'],
  [0x19830326, 'OrangeFS'],
  [0x786f4256, 'VirtualBox shared folder (vboxsf)'],
]);

/**
 * The name of the network file system a statfs f_type denotes, or undefined for any other
 * value (a local file system, or a number that is not a file system type at all). Never throws.
 */
export function networkFileSystemOf(type: number | bigint): string | undefined {
  let unsigned: number;
  if (typeof type === 'bigint') unsigned = Number(BigInt.asUintN(32, type));
  else if (Number.isSafeInteger(type)) unsigned = type >>> 0;
  else return undefined;
  // f_type is a signed long on some 32-bit systems: 0xFF534D42 may arrive negative; its 32 low bits are the magic.
  if (typeof type === 'number' && (type > 0xffffffff || type < -0x80000000)) return undefined;
  if (typeof type === 'bigint' && (type > 0xffffffffn || type < -0x80000000n)) return undefined;
  return NETWORK_FILE_SYSTEMS.get(unsigned);
}

/** The hexadecimal form statfs(2) lists magic numbers in. */
export function hexType(type: number | bigint): string {
  try {
    const n = typeof type === 'bigint' ? BigInt.asUintN(32, type) : BigInt(Number.isSafeInteger(type) ? type >>> 0 : 0);
    return `0x${n.toString(16).toUpperCase()}`;
  } catch {
    return String(type);
  }
}
