import { randomBytes } from 'node:crypto';

import type { BatchLineModel } from './batch-object.js';
import type { BatchState } from './batch-state.js';
import { newId } from './files.js';
import type { BatchLineFaultMatcher, BatchLineInfo, Fault, InjectBatchLineFaultOptions } from './types.js';

// Running a batch's lines: each goes through the chat "model" (or an injected line fault) and
// its answer lands in the batch's output or error lines, its usage in the batch's totals.

interface QueuedLineFault {
  fault: Fault;
  remaining: number;
  match: BatchLineFaultMatcher | undefined;
}

export class BatchLineRunner {
  private faults: QueuedLineFault[] = [];
  private answered = 0;

  constructor(private readonly model: BatchLineModel) {}

  /** Batch lines run through the model (answered or failed with an HTTP error) since start / clear(). */
  linesAnswered(): number {
    return this.answered;
  }

  injectLineFault(fault: Fault, opts: InjectBatchLineFaultOptions = {}): void {
    const times = opts.times ?? 1;
    if (!(times > 0)) throw new RangeError(`injectBatchLineFault: times must be > 0, got ${times}`);
    this.faults.push({ fault, remaining: times, match: opts.match });
  }

  pendingLineFaults(): number {
    return this.faults.reduce((sum, f) => sum + f.remaining, 0);
  }

  clear(): void {
    this.faults = [];
    this.answered = 0;
  }

  /** Answer lines in file order until `count` are done. */
  async answerUpTo(b: BatchState, count: number): Promise<void> {
    const counts = b.object.request_counts;
    const usage = b.object.usage;
    while (b.done < count) {
      const line = b.lines[b.done];
      if (line === undefined) break;
      const answer = await this.model(line.body, (row, chat) => this.takeFault({ batchId: b.object.id, customId: line.customId, row, body: chat }));
      b.done += 1;
      this.answered += 1;
      const response = { status_code: answer.status, request_id: randomBytes(16).toString('hex'), body: answer.body };
      const entry = JSON.stringify({ id: newId('batch_req_'), custom_id: line.customId, response, error: null });
      if (answer.status < 400) {
        b.outLines.push(entry);
        counts.completed += 1;
      } else {
        b.errLines.push(entry);
        counts.failed += 1;
      }
      if (answer.usage) {
        usage.input_tokens += answer.usage.prompt_tokens;
        usage.input_tokens_details.cached_tokens += answer.usage.cached_tokens;
        usage.output_tokens += answer.usage.completion_tokens;
        usage.total_tokens += answer.usage.total_tokens;
      }
    }
  }

  private takeFault(info: BatchLineInfo): Fault | undefined {
    for (let i = 0; i < this.faults.length; i++) {
      const entry = this.faults[i];
      if (entry === undefined) continue;
      if (entry.match !== undefined && !entry.match(info)) continue;
      entry.remaining -= 1;
      if (entry.remaining <= 0) this.faults.splice(i, 1);
      return entry.fault;
    }
    return undefined;
  }
}
