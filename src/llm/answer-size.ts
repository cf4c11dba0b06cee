/**
 * How many tokens the answers to one prompt take, learned from the answers received, so that
 * a request reserves (and asks for) what its answer will likely use instead of the whole
 * llm.max_completion_tokens.
 *
 * Why it matters: OpenAI counts a request against the tokens-per-minute limit at admission
 * as its prompt plus max_tokens / max_completion_tokens, and keeps it ("Your rate limit is
 * calculated as the maximum of max_tokens and the estimated number of tokens based on the
 * character count of your request. Try to set the max_tokens value as close to your expected
 * response size as possible": https://platform.openai.com/docs/guides/rate-limits, "Reduce
 * the max_tokens to match the size of your completions"; seen in practice:
 * https://community.openai.com/t/token-per-minute-rate-limit-for-gpt4-issues/360359/4). A
 * verdict of 100–200 tokens reserved as 1,000 spends most of a token-bound run's budget on
 * nothing.
 *
 * The size learned is `usage.completion_tokens`, which for a reasoning model includes its
 * reasoning tokens: `completion_tokens_details.reasoning_tokens` is a breakdown of it, and
 * such tokens "are still counted in the total completion tokens for purposes of billing,
 * output, and context window limits" (the chat completion object's usage,
 * https://platform.openai.com/docs/api-reference/chat/object). The cap a request is sent
 * with bounds both together ("length if the maximum number of tokens specified in the
 * request was reached", its finish_reason), so both must fit under it.
 */

/** Answers seen before the learned size is used: fewer say little about the tail. */
export const LEARN_AFTER = 20;
/** The last answers kept (a fixed window: it follows a model that changes, and stays small). */
export const WINDOW = 200;
/** The share of answers the reserve is meant to hold: the rest are asked again at the full cap. */
export const PERCENTILE = 0.99;
/** Above the percentile: answers vary from run to run (another day, another row mix). */
export const MARGIN = 1.15;
/** …plus a few tokens, which matter for short answers only. */
export const SLACK_TOKENS = 16;

/**
 * The sizes of the last {@link WINDOW} answers to one prompt and the reserve they justify.
 * Total over any input: a size that is not a finite number ≥ 0 is ignored, never thrown on.
 */
export class AnswerSizes {
  /** Oldest first; at most WINDOW. */
  private readonly sizes: number[] = [];
  /** The reserve for the last cap asked, until a new size arrives (a request asks often; answers change it rarely). */
  private memo: { cap: number; reserve: number } | undefined;

  /** A summary holding these sizes (the last WINDOW of them, the unusable left out): what the store kept. */
  static of(sizes: readonly unknown[]): AnswerSizes {
    const summary = new AnswerSizes();
    for (const size of sizes.slice(-WINDOW * 2)) summary.observe(size);
    return summary;
  }

  /** How many sizes it holds. */
  get count(): number {
    return this.sizes.length;
  }

  /** The sizes held, oldest first (what the store keeps). */
  samples(): number[] {
    return [...this.sizes];
  }

  /** One answer's completion tokens (reasoning included). False when it was not a usable size. */
  observe(size: unknown): boolean {
    if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) return false;
    this.sizes.push(Math.min(Math.ceil(size), Number.MAX_SAFE_INTEGER));
    if (this.sizes.length > WINDOW) this.sizes.shift();
    this.memo = undefined;
    return true;
  }

  /**
   * The tokens to reserve and ask for, with `cap` the most the request may ask (the
   * configured max_completion_tokens, capped by the model's output cap): the cap until
   * {@link LEARN_AFTER} answers are known, then the {@link PERCENTILE} of the sizes held
   * × {@link MARGIN} + {@link SLACK_TOKENS}, never above the cap and never below 1.
   */
  reserve(cap: number): number {
    if (typeof cap !== 'number' || Number.isNaN(cap) || cap < 1) throw new RangeError(`cap must be a number ≥ 1, got ${String(cap)}`);
    const whole = Number.isFinite(cap) ? Math.floor(cap) : Number.MAX_SAFE_INTEGER;
    if (this.sizes.length < LEARN_AFTER) return whole;
    if (this.memo?.cap === whole) return this.memo.reserve;
    const high = percentile(this.sizes, PERCENTILE);
    const reserve = Math.max(1, Math.min(whole, Math.ceil(high * MARGIN) + SLACK_TOKENS));
    this.memo = { cap: whole, reserve };
    return reserve;
  }
}

/** The nearest-rank percentile (p in (0, 1]) of a non-empty list: the smallest value with at least p of the list at or below it. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty list');
  if (!(p > 0 && p <= 1)) throw new RangeError(`p must be in (0, 1], got ${p}`);
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.ceil(p * sorted.length)) - 1] as number;
}
