import type { Clock } from '../../src/commands/context.js';
import type { Bed } from './bed.js';

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

/** A clock whose sleeps finish every batch of the bed's OpenAI emulator at once: batch mode without real waiting. */
export function finishingClock(b: Bed): Clock {
  return {
    now: () => new Date(),
    sleep: async () => {
      for (const batch of b.llm.batches()) if (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) await b.llm.advanceBatch(batch.id, 'completed');
    },
  };
}
