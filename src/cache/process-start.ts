import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * When a process started, as an opaque text: with its pid, it names one process for the
 * life of the machine (a pid alone is recycled: pid 1 of a restarted container is another
 * process with the same pid). Two texts are compared with `sameStart`, never parsed elsewhere.
 *
 *  - Linux: `linux:<btime>:<starttime>`, from /proc/stat (btime, the boot time in
 *    seconds) and field 22 of /proc/<pid>/stat (starttime, clock ticks after boot).
 *    Cheap (two small reads), world-readable, and exact to the tick.
 *  - Elsewhere, or where /proc is not mounted (macOS, BSD): `ps:<lstart>`, the start time
 *    `ps -o lstart= -p <pid>` prints (to the second). A spawned `ps`, so a few
 *    milliseconds, once per lock decision.
 *  - Neither available (Windows, a sandbox without `ps`, /proc mounted with hidepid):
 *    unknown. The lock then falls back to what a pid can tell (the process exists or not)
 *    and to the heartbeat: a recycled pid there is a holder until its heartbeat is stale.
 */
export type ProcessStart = { kind: 'known'; start: string } | { kind: 'gone' } | { kind: 'unknown' };

export function processStartOf(pid: number): ProcessStart {
  if (!Number.isSafeInteger(pid) || pid <= 0) return { kind: 'unknown' };
  const linux = linuxStart(pid);
  if (linux.kind !== 'unknown' || process.platform === 'linux') return linux;
  return psStart(pid);
}

let own: ProcessStart | undefined;

/** This process's start: computed once. */
export function ownStart(): ProcessStart {
  own ??= processStartOf(process.pid);
  return own;
}

/**
 * Whether two recorded starts name the same process: undefined when they cannot be
 * compared (one unknown, or written by different methods), or when they come from
 * different boots (Linux): that is a reboot, or another machine with the same hostname
 * (two containers given one name), which only the heartbeat can tell apart. Linux's btime
 * is derived from the clock and has been seen to move by a second between reads; the
 * ticks are exact.
 */
export function sameStart(a: string | null | undefined, b: string | null | undefined): boolean | undefined {
  if (!a || !b) return undefined;
  const [kindA, ...restA] = a.split(':');
  const [kindB, ...restB] = b.split(':');
  if (kindA !== kindB) return undefined;
  if (kindA !== 'linux') return restA.join(':') === restB.join(':');
  const [bootA, ticksA] = restA.map(Number);
  const [bootB, ticksB] = restB.map(Number);
  if (bootA === undefined || bootB === undefined || ticksA === undefined || ticksB === undefined) return undefined;
  if (Math.abs(bootA - bootB) > 2) return undefined;
  return ticksA === ticksB;
}

let bootTime: number | undefined;

function linuxStart(pid: number): ProcessStart {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    // ENOENT with /proc mounted: no such process. Without /proc (or hidepid): unknown.
    return (error as NodeJS.ErrnoException).code === 'ENOENT' && procMounted() ? { kind: 'gone' } : { kind: 'unknown' };
  }
  bootTime ??= readBootTime();
  return bootTime === undefined ? { kind: 'unknown' } : fromProcStat(stat, bootTime);
}

/** Reads /proc/<pid>/stat's text (proc(5)): the state (field 3) and starttime (field 22). */
export function fromProcStat(stat: string, bootTime: number): ProcessStart {
  // The command name (field 2) is in parentheses and may hold spaces or ')': count after the last one.
  const close = stat.lastIndexOf(')');
  if (close < 0) return { kind: 'unknown' };
  const fields = stat.slice(close + 2).split(' ');
  // A zombie has exited; only its parent has not reaped it yet.
  if (fields[0] === 'Z' || fields[0] === 'X') return { kind: 'gone' };
  const ticks = fields[22 - 3];
  if (ticks === undefined || !/^\d{1,20}$/.test(ticks)) return { kind: 'unknown' };
  return { kind: 'known', start: `linux:${bootTime}:${ticks}` };
}

function readBootTime(): number | undefined {
  try {
    const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function procMounted(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

function psStart(pid: number): ProcessStart {
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } }).trim();
    return out === '' ? { kind: 'gone' } : { kind: 'known', start: `ps:${out.replace(/\s+/g, ' ')}` };
  } catch (error) {
    // ps exits 1 when no process has that pid; anything else (no ps) leaves it unknown.
    return (error as { status?: number }).status === 1 ? { kind: 'gone' } : { kind: 'unknown' };
  }
}
