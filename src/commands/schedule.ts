import { Cron } from 'croner';
import { UsageError, redact } from '../errors.js';
import { runPortfolio } from '../pipeline/index.js';
import { loadTargets, logLine, systemClock, type CommandIO } from './context.js';
import { openLasting, portfolioLog, type Lasting } from './lasting.js';
import { announce, announcerFor, Background, type Announcer } from './announce.js';
import { metricsEvents, startObserving } from './observe.js';
import { plural } from '../plural.js';

export interface ScheduleFlags {
  config: string;
  /** Only this target of the config (default: all of them). */
  target?: string;
  cron: string;
  tz?: string;
  /** Stop after this many runs (for trying it out, and for tests). */
  runs?: number;
  /** Serve GET /metrics on this port (issue 22). */
  metricsPort?: number;
  metricsHost?: string;
}

/** Parses a cron expression and time zone, or says what is wrong with them. */
export function parseSchedule(pattern: string, tz: string | undefined): Cron {
  if (tz !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
    } catch {
      throw new UsageError(`--tz "${tz}" is not a time zone`, { hint: 'Use an IANA zone name like Europe/Moscow, America/New_York or UTC.' });
    }
  }
  try {
    return new Cron(pattern, { paused: true, ...(tz ? { timezone: tz } : {}) });
  } catch (error) {
    throw new UsageError(`--cron "${pattern}"${tz ? ` with --tz ${tz}` : ''} is not a valid schedule: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'Use five fields: minute hour day-of-month month day-of-week, e.g. "0 7 * * 1-5" for 07:00 on weekdays; --tz takes an IANA zone like Europe/Moscow.',
    });
  }
}

/**
 * `schedule`: a long-running scheduler. At each time of the cron expression (in --tz,
 * else the machine's zone) it runs every target of the config at once (or the one
 * --target names), logs a line per target and a total, and skips, with a log line, a
 * target whose lock another run holds: the others run. Every run shares the one
 * provider gate of the process, so the limits hold across targets and times. Ends on
 * SIGINT/SIGTERM (exit 0).
 */
export async function scheduleCommand(flags: ScheduleFlags, io: CommandIO): Promise<number> {
  const cron = parseSchedule(flags.cron, flags.tz);
  const { targets, listed, secrets, warnings } = loadTargets(flags.config, io, flags.target);
  for (const warning of warnings) logLine(io, `warning: ${warning}`);
  const clock = io.clock ?? systemClock;
  if (listed) logLine(io, `scheduling ${plural(targets.length, 'target')}: ${targets.map((t) => t.target.name).join(', ')}`);
  const observing = await startObserving(flags, io);
  const told = { announcer: announcerFor(flags.config, targets, secrets, io.env, observing.metrics), background: new Background() };
  const lasting = await openLasting(targets, secrets, (line) => logLine(io, line));
  try {
    await loop(flags, io, cron, { targets, listed, secrets }, lasting, clock, told);
  } finally {
    await lasting.close();
    await told.background.drain();
    await observing.close();
  }
  logLine(io, 'scheduler stopped');
  return 0;
}

async function loop(
  flags: ScheduleFlags,
  io: CommandIO,
  cron: Cron,
  { targets, listed, secrets }: Pick<ReturnType<typeof loadTargets>, 'targets' | 'listed' | 'secrets'>,
  { gates, store }: Pick<Lasting, 'gates' | 'store'>,
  clock: NonNullable<CommandIO['clock']>,
  told: { announcer: Announcer; background: Background },
): Promise<void> {
  let runs = 0;
  for (;;) {
    const next = cron.nextRun(clock.now());
    if (!next) {
      logLine(io, `the schedule "${flags.cron}" has no further times; stopping`);
      return;
    }
    logLine(io, `next run at ${next.toISOString()}`);
    try {
      await clock.sleep(Math.max(0, next.getTime() - clock.now().getTime()), io.stop);
    } catch {
      break;
    }
    if (io.stop?.aborted) break;
    // A target whose lock is held comes back as "locked" (not run); one failing stops no other.
    const run = await runPortfolio(targets, secrets, {
      trigger: 'schedule',
      each: (config) => metricsEvents(told.announcer.metrics, config),
      gates,
      store,
      warnings: [],
      now: () => clock.now(),
      ...(clock.every ? { every: clock.every } : {}),
      ...(io.stop ? { stop: io.stop } : {}),
      ...(io.abort ? { abort: io.abort } : {}),
    });
    for (const line of portfolioLog(run.targets, listed)) logLine(io, redact(line, secrets.all));
    // In the background (issue 22): the schedule goes on while a receiver is slow.
    told.background.track(announce(told.announcer, run.targets, io, { trigger: 'schedule' }).then((warnings) => warnings.forEach((w) => logLine(io, `warning: ${w}`))));
    runs++;
    if (flags.runs !== undefined && runs >= flags.runs) break;
  }
}
