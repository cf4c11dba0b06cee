import { FatalRunError, type LlmError } from '../errors.js';

/** Distinct questions refused with the same 400 before any answer that make it the configuration's fault, not the rows'. */
export const SAME_REFUSALS_TO_STOP = 3;

/** open: nothing answered yet, no verdict on the 400s; rows: something was answered; config: every row gets the same 400. */
export type Judgement = 'open' | 'rows' | 'config';

/**
 * Tells a 400 that every row would get (a model name the endpoint does not take, a field
 * or value it refuses that the bot cannot recognise) from a row's own 400. At the start of
 * a run, before any question is answered, the first SAME_REFUSALS_TO_STOP distinct
 * questions refused with the same message (same provider and model) stop the run as a
 * configuration problem, like a refused key; the first answer settles it the other way.
 * Until then the rows' ERROR cells are held back (the Settler), so that a stopped run
 * writes nothing; a run that ends still undecided writes them.
 */
export class RefusalJudge {
  private state: Judgement = 'open';
  private readonly counts = new Map<string, number>();
  private fatal: FatalRunError | undefined;
  private readonly listeners: Array<(judgement: Judgement) => void> = [];

  constructor(private readonly threshold = SAME_REFUSALS_TO_STOP) {
    if (!Number.isInteger(threshold) || threshold < 2) throw new RangeError(`threshold must be a whole number of at least 2, got ${String(threshold)}`);
  }

  get judgement(): Judgement {
    return this.state;
  }

  /** The error that stopped the run, once judged a configuration problem. */
  get stopped(): FatalRunError | undefined {
    return this.fatal;
  }

  /** Called once, when the judgement is made. */
  onJudged(listener: (judgement: Judgement) => void): void {
    this.listeners.push(listener);
  }

  /** A question was answered: the 400s seen so far are the rows' own. */
  answered(): void {
    if (this.state === 'open') this.decide('rows');
  }

  /** A question was refused with a 400 no retry can change; the FatalRunError when this makes it the configuration's fault. */
  refused(provider: { name: string; model: string }, error: LlmError): FatalRunError | undefined {
    if (this.state === 'config') return this.fatal;
    if (this.state !== 'open') return undefined;
    const key = `${provider.name}\u0000${provider.model}\u0000${error.message}`;
    const seen = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, seen);
    if (seen < this.threshold) return undefined;
    this.fatal = new FatalRunError(`${error.message}: the first ${seen} rows asked were all refused with this same answer, so it is the configuration, not the rows; nothing was written.`, {
      hint: `${error.hint ? `${error.hint} ` : ''}Check llm.providers "${provider.name}": the model name (${provider.model}), base_url, kind and structured_outputs, against what the provider's message names; then run again.`,
      cause: error,
    });
    this.decide('config');
    return this.fatal;
  }

  private decide(judgement: Judgement): void {
    this.state = judgement;
    for (const listener of this.listeners.splice(0)) listener(judgement);
  }
}
