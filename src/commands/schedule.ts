import { Cron } from 'croner';
import { LockedError, UsageError, redact } from '../errors.js';
import { runValidation } from '../pipeline/index.js';
import { renderOneLine } from '../report/index.js';
import { load, logLine, systemClock, type CommandIO } from './context.js';

export interface ScheduleFlags {
  config: string;
  cron: string;
  tz?: string;
  /** Stop after this many runs (for trying it out, and for tests). */
  runs?: number;
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
 * `schedule`: a long-running scheduler. Runs at each time of the cron expression (in
 * --tz, else the machine's zone), logs each run's one-line summary, and skips a time
 * when another run holds the sheet's lock. Ends on SIGINT/SIGTERM (exit 0).
 */
export async function scheduleCommand(flags: ScheduleFlags, io: CommandIO): Promise<number> {
  const cron = parseSchedule(flags.cron, flags.tz);
  const { config, secrets, warnings } = load(flags.config, io);
  for (const warning of warnings) logLine(io, `warning: ${warning}`);
  const clock = io.clock ?? systemClock;
  let runs = 0;
  for (;;) {
    const next = cron.nextRun(clock.now());
    if (!next) {
      logLine(io, `the schedule "${flags.cron}" has no further times; stopping`);
      return 0;
    }
    logLine(io, `next run at ${next.toISOString()}`);
    try {
      await clock.sleep(Math.max(0, next.getTime() - clock.now().getTime()), io.stop);
    } catch {
      break;
    }
    if (io.stop?.aborted) break;
    try {
      const summary = await runValidation(config, secrets, {
        trigger: 'schedule',
        warnings: [],
        now: () => clock.now(),
        ...(clock.every ? { every: clock.every } : {}),
        ...(io.stop ? { stop: io.stop } : {}),
        ...(io.abort ? { abort: io.abort } : {}),
      });
      logLine(io, redact(renderOneLine(summary), secrets.all));
    } catch (error) {
      if (!(error instanceof LockedError)) throw error;
      logLine(io, `skipped: ${error.message}`);
    }
    runs++;
    if (flags.runs !== undefined && runs >= flags.runs) break;
  }
  logLine(io, 'scheduler stopped');
  return 0;
}
