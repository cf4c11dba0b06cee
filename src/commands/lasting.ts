import { openStore, type Store } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import type { ProviderGate } from '../llm/index.js';
import { describeSheet, formatUsd, portfolioTotal, renderOneLine, type TargetLine } from '../report/index.js';
import { providerGates, type TargetOutcome } from '../pipeline/index.js';
import { exitCodeOfTarget } from './exit.js';
import { plural } from '../plural.js';
import { redact } from '../errors.js';

/**
 * What a long-running command (watch, schedule, serve) holds for its whole life and
 * shares with every run it starts: one pacing gate per provider, so that the limits
 * hold across its targets and across its repeated runs (a run starting while another
 * target's run is still asking queues at the same gate), and the cache the gates
 * remember learned limits in. The Sheets pacers are the process's already
 * (sheetsClientFor). The cache and the providers are top-level: every target has the same.
 */
export interface Lasting {
  gates: ReadonlyMap<string, ProviderGate>;
  store: Store;
  close(): Promise<void>;
}

/**
 * `log`: the command's log, told at once what the gates doubt (an unbelievable rate-limit
 * header); the run whose request showed it keeps it in its summary as well (runs shows it).
 */
export async function openLasting(targets: readonly Config[], secrets: Secrets, log?: (line: string) => void): Promise<Lasting> {
  const [first] = targets;
  if (!first) throw new RangeError('a command needs at least one target');
  const store = await openStore(first.cache);
  try {
    const gates = await providerGates(first, secrets, store.limitMemory(), log && ((text) => log(`warning: ${redact(text, secrets.all)}`)));
    return { gates, store, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * The log lines of one portfolio run: one per target (its name, then its one-line
 * summary, or why it did not run), then the total. A file without `targets:` logs its
 * one line as it always did.
 */
export function portfolioLog(outcomes: readonly TargetOutcome[], listed: boolean): string[] {
  const lines: TargetLine[] = outcomes.map((o) => ({ ...o, exitCode: exitCodeOfTarget(o) }));
  const skip = (l: TargetLine) => l.summary.fatal?.message ?? 'another run holds the lock';
  if (!listed) return lines.map((l) => (l.locked ? `skipped: ${skip(l)}` : renderOneLine(l.summary)));
  const out = lines.map((l) => `[${l.summary.target}] ${l.locked ? `skipped (lock held; the other targets ran): ${skip(l)}` : renderOneLine(l.summary)}`);
  const t = portfolioTotal(lines);
  const skipped = lines.filter((l) => l.locked).length;
  const failed = lines.filter((l) => !l.locked && l.summary.status === 'failed').length;
  out.push(
    `total (${plural(t.targets, 'target')}${skipped ? `, ${skipped} skipped (lock held)` : ''}${failed ? `, ${failed} FAILED` : ''}): ${plural(t.rowsRead, 'row')}, ${t.rowsAsked} asked, ${t.valid} VALID, ${t.invalid} INVALID, ${t.error} ERROR, ${plural(t.llmCalls, 'LLM call')}, ${plural(t.rowsWritten, 'row')} written, ${formatUsd(t.costUsd)}; the sheets show ${describeSheet(t.sheetShows)}`,
  );
  return out;
}
