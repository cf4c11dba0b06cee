import { LlmError, type FatalRunError } from '../errors.js';

/** Distinct rows refused with the same 400 before any answer that make it the configuration's fault, not the rows'. */
export const SAME_REFUSALS_TO_STOP = 3;

/** open: nothing answered yet, no verdict on the 400s; rows: something was answered; config: the run stopped, every row getting the same 400. */
export type Judgement = 'open' | 'rows' | 'config';

/** The provider a refusal came from: the same words from two models are two problems. */
export interface Refuser {
  name: string;
  model: string;
}

/**
 * Tells a 400 that every row would get (a model name the endpoint does not take, a field
 * or value it refuses that the bot cannot recognise) from a row's own 400.
 *
 * The evidence, per provider and model, before that provider+model has answered anything:
 * the same 400 message for SAME_REFUSALS_TO_STOP DIFFERENT rows. Decided so:
 *  - Rows, not requests: only a one-row question counts, keyed by its content (`question`).
 *    A packed request's 400 (llm.rows_per_request) says nothing about which of its rows
 *    caused it, and its rows are then asked alone, which is where they are counted; the
 *    same row asked twice, or two rows with the same content, count once.
 *  - The same message: a 400 that quotes a row's text differs from row to row, so it never
 *    adds up; only a message naming nothing row-specific can reach the threshold.
 *  - A 400 the provider marks as judging the content (OpenAI's invalid_prompt, Azure's
 *    content_filter: kind 'content', from the kinds table's answers.rowCodes) never comes
 *    here: its text is the same for every row it hits, yet it is each row's own.
 *  - An answer from that provider+model settles its 400s as the rows' own.
 *
 * Once judged, the provider+model is dropped for the run like a refused key (the validator
 * does so with the LlmError returned): a fallback carries on, and only when no provider is
 * left does the run stop (invariant 6), with that error (`doomed`). Until the first answer
 * of any provider the rows' ERROR cells are held back (the Settler), so that a stopped run
 * writes nothing; a run that ends undecided writes them.
 */
export class RefusalJudge {
  private state: Judgement = 'open';
  /** provider+model+message → the distinct questions refused so. */
  private readonly refusals = new Map<string, Set<string>>();
  /** provider+model that answered: their 400s are the rows' own. */
  private readonly answering = new Set<string>();
  /** The errors this judge made (one per provider+model it condemned). */
  private readonly verdicts = new Map<string, LlmError>();
  private fatal: FatalRunError | undefined;
  private readonly listeners: Array<(judgement: Judgement) => void> = [];

  constructor(private readonly threshold = SAME_REFUSALS_TO_STOP) {
    if (!Number.isInteger(threshold) || threshold < 2) throw new RangeError(`threshold must be a whole number of at least 2, got ${String(threshold)}`);
  }

  get judgement(): Judgement {
    return this.state;
  }

  /** The error that stopped the run, once every provider left was judged misconfigured. */
  get stopped(): FatalRunError | undefined {
    return this.fatal;
  }

  /** Called once, when the judgement is made. */
  onJudged(listener: (judgement: Judgement) => void): void {
    this.listeners.push(listener);
  }

  /** A question was answered by this provider: the 400s it gave are the rows' own. */
  answered(provider: Refuser): void {
    this.answering.add(keyOf(provider));
    if (this.state === 'open') this.decide('rows');
  }

  /**
   * A one-row question (`question`: a key of its content) was refused with a 400 no retry
   * can change. Returns the error that condemns this provider+model (drop it for the run)
   * once SAME_REFUSALS_TO_STOP distinct questions got the same message from it.
   */
  refused(provider: Refuser, error: LlmError, question: string): LlmError | undefined {
    const who = keyOf(provider);
    const judged = this.verdicts.get(who);
    if (judged) return judged;
    if (this.answering.has(who) || this.state === 'config') return undefined;
    const key = `${who}\u0000${error.message}`;
    const questions = this.refusals.get(key) ?? new Set<string>();
    questions.add(question);
    this.refusals.set(key, questions);
    if (questions.size < this.threshold) return undefined;
    const verdict = new LlmError(`${error.message}: the first ${questions.size} rows asked were all refused with this same answer, so it is the configuration, not the rows`, {
      kind: 'config',
      provider: error.provider,
      retryable: false,
      status: error.status,
      requestId: error.requestId,
      hint: `${error.hint ? `${error.hint} ` : ''}Check llm.providers "${provider.name}": the model name (${provider.model}), base_url, kind and structured_outputs, against what the provider's message names; then run again.`,
      cause: error,
    });
    this.verdicts.set(who, verdict);
    return verdict;
  }

  /**
   * The run stops, no provider being left: when this judge condemned the provider the stop
   * names (its `cause`), the rows' held ERRORs are the configuration's, and nothing is written.
   */
  doomed(fatal: FatalRunError): void {
    if (this.state !== 'open' || !(fatal.cause instanceof LlmError) || ![...this.verdicts.values()].includes(fatal.cause)) return;
    this.fatal = fatal;
    this.decide('config');
  }

  private decide(judgement: Judgement): void {
    this.state = judgement;
    for (const listener of this.listeners.splice(0)) listener(judgement);
  }
}

function keyOf(provider: Refuser): string {
  return `${provider.name}\u0000${provider.model}`;
}
