import type { CachedVerdict } from '../../cache/index.js';
import { costOf, priceOf, type Outcome, type PriceTable, type Usage, type Validator } from '../../llm/index.js';
import type { RowInputs } from '../../sheets/index.js';

/** Asks rows of one model: what the pipeline's Answering calls (a Validator, or the cascade). */
export type Asker = Pick<Validator, 'validateMany'>;

export interface CascadeCounts {
  kept: number;
  escalated: number;
  /** Cost of the cascade's calls as priced (null once a model has no price). */
  costUsd: number | null;
  largeOnlyCostUsd: number | null;
}

export interface CascadeOptions {
  small: Asker;
  large: Asker;
  smallModel: string;
  largeModel: string;
  /** Set once calibrated (setThreshold). */
  threshold: number | null;
  prices: PriceTable;
  /** Each model's own answer, to keep under that model's key (not in a dry run). */
  remember?: ((model: string, inputs: RowInputs, outcome: Outcome) => Promise<void>) | undefined;
}

/**
 * The small model first; a row whose answer is below the calibrated confidence threshold
 * (or unusable) is asked of the large model, whose answer stands. With no threshold (the
 * calibration found none meeting the target) every row goes to the large model alone.
 */
export class CascadeValidator implements Asker {
  readonly counts: CascadeCounts = { kept: 0, escalated: 0, costUsd: 0, largeOnlyCostUsd: 0 };

  private threshold: number | null;

  constructor(private readonly options: CascadeOptions) {
    this.threshold = options.threshold;
  }

  setThreshold(threshold: number | null): void {
    this.threshold = threshold;
  }

  async validateMany(rows: readonly RowInputs[], signal?: AbortSignal): Promise<Outcome[]> {
    const { small, large } = this.options;
    const threshold = this.threshold;
    if (threshold === null) {
      const outcomes = await large.validateMany(rows, signal);
      for (const [i, outcome] of outcomes.entries()) await this.account(rows[i], undefined, outcome);
      return outcomes;
    }
    const firsts = await small.validateMany(rows, signal);
    const unsure = firsts.flatMap((outcome, i) => (keeps(outcome, threshold) ? [] : [i]));
    const seconds = unsure.length > 0 ? await large.validateMany(unsure.map((i) => rows[i] as RowInputs), signal) : [];
    const out = [...firsts];
    for (const [k, i] of unsure.entries()) {
      const second = seconds[k];
      // The large model failed too: the small one's answer, if usable, is better than none.
      if (second && (second.kind === 'verdict' || firsts[i]?.kind !== 'verdict')) out[i] = second;
    }
    for (const [i, first] of firsts.entries()) {
      const k = unsure.indexOf(i);
      await this.account(rows[i], first, k >= 0 ? seconds[k] : undefined);
    }
    return out;
  }

  /**
   * Counts a row (a calibration row, or a reviewer-labelled one asked for its label, is
   * neither kept nor escalated), prices it both ways, and keeps each model's own answer.
   */
  async account(inputs: RowInputs | undefined, first: Outcome | undefined, second: Outcome | undefined, as: 'question' | 'calibration' | 'label' = 'question'): Promise<void> {
    const { smallModel, largeModel, prices, remember } = this.options;
    if (as === 'question') {
      if (second) this.counts.escalated++;
      else this.counts.kept++;
    }
    const smallPrice = priceOf(smallModel, prices);
    const largePrice = priceOf(largeModel, prices);
    const price = (usage: Usage | undefined, of: typeof smallPrice) => (usage === undefined ? 0 : of ? costOf(usage, of) : null);
    const add = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);
    this.counts.costUsd = add(this.counts.costUsd, add(price(first?.usage, smallPrice), price(second?.usage, largePrice)));
    // Large-only: the large model's own tokens where it was asked, else the small one's at its price
    // (a reviewer-labelled row is no question of this run: a large-only run would not ask it).
    if (as !== 'label') this.counts.largeOnlyCostUsd = add(this.counts.largeOnlyCostUsd, price((second ?? first)?.usage, largePrice));
    if (remember && inputs) {
      if (first) await remember(smallModel, inputs, first);
      if (second) await remember(largeModel, inputs, second);
    }
  }
}

/** The small model's answer stands: usable, and at least as sure as the threshold. */
export function keeps(outcome: Outcome | undefined, threshold: number): boolean {
  return outcome?.kind === 'verdict' && outcome.confidence >= threshold;
}

/** A model's answer as the cache keeps it, under that model's own key. */
export function cachedOf(key: string, outcome: Outcome & { kind: 'verdict' }, checkedAt: string): CachedVerdict {
  return {
    key,
    verdict: outcome.verdict,
    issues: outcome.issues,
    suggestion: outcome.suggestion,
    model: outcome.model,
    provider: outcome.provider,
    checkedAt,
    confidence: outcome.confidence,
    promptTokens: outcome.usage.promptTokens,
    completionTokens: outcome.usage.completionTokens,
    cachedTokens: outcome.usage.cachedTokens,
  };
}
