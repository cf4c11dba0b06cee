import type { Clock } from '../../src/commands/context.js';

/** A clock whose sleeps pass at once (virtual time), calling `onSleep` first: long-running commands tested without waiting. */
export function virtualClock(start: string, onSleep: (count: number) => void | Promise<void> = () => undefined): Clock & { sleeps: number[] } {
  let now = Date.parse(start);
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => new Date(now),
    sleep: async (ms) => {
      sleeps.push(ms);
      await onSleep(sleeps.length);
      now += ms;
    },
  };
}
