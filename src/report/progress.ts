import type { Progress } from '../pipeline/index.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * Shows a run's progress: one line redrawn in place on a terminal, or plain lines (at
 * most one every few seconds, plus each phase change) when the output is a log file.
 */
export function progressPrinter(stream: ProgressStream, clock: () => number = Date.now): (p: Progress) => void {
  let lastPhase = '';
  let lastAt = 0;
  let drawn = false;
  const tty = stream.isTTY === true;
  return (p) => {
    const t = clock();
    const changed = p.phase !== lastPhase;
    if (!changed && t - lastAt < (tty ? 100 : 5000)) return;
    lastPhase = p.phase;
    lastAt = t;
    const line = describe(p);
    if (tty) {
      stream.write(`\r\x1b[2K${line}`);
      drawn = true;
      if (p.phase === 'done' && drawn) stream.write('\n');
    } else {
      // The done line too: the last line of a log must carry the final count of rows written.
      stream.write(`${new Date(t).toISOString()} ${line}\n`);
    }
  };
}

function describe(p: Progress): string {
  switch (p.phase) {
    case 'reading':
      return 'reading the sheet…';
    case 'validating': {
      const pct = p.questions === 0 ? 100 : Math.floor((p.answered / p.questions) * 100);
      return `validating: ${p.answered}/${p.questions} answered (${pct}%), ${p.errors} errors, ${p.retries} retries, ${p.rowsWritten} rows written`;
    }
    case 'writing':
      return `writing the last verdicts… ${p.rowsWritten} rows written`;
    case 'done':
      return `done: ${p.answered}/${p.questions} answered, ${p.rowsWritten} rows written`;
  }
}
