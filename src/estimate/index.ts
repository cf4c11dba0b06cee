import { buildMessages, buildPackedMessages, costOf, naiveCostOf, packingNote, packingOf, type ChatMessage, type Packing, type PackingConfig, type Price, type PromptRules } from '../llm/index.js';
import type { RowInputs } from '../sheets/index.js';

export interface ModeEstimate {
  mode: string;
  requests: number;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  /** null when the model has no price. */
  costUsd: number | null;
}

export interface EstimateInput {
  questions: readonly RowInputs[];
  rules: PromptRules;
  today: string;
  /** Tokens of a text (the real tokenizer). */
  count: (text: string) => number;
  /** Expected answer tokens per row (from the cache's history, or a default). */
  completionPerRow: number;
  /** Rows per request for the packed modes. */
  packSize: number;
  price: Price | undefined;
}

/** Rows per request the packed modes assume when the config does not pack (rows_per_request 1). */
export const DEFAULT_PACK_SIZE = 5;

/**
 * The rows per request of the packed modes: llm.rows_per_request (or 5 when it is 1), capped
 * like a run caps it so that the answer fits the model's output cap, and what to say when
 * the cap binds: an estimate must not promise savings the run cannot get.
 */
export function estimatePacking(llm: PackingConfig): Packing & { note: string | undefined } {
  const packing = packingOf({ ...llm, rows_per_request: llm.rows_per_request > 1 ? llm.rows_per_request : DEFAULT_PACK_SIZE });
  return { ...packing, note: packingNote(packing, llm.max_completion_tokens) };
}

/** Provider prompt caching: a prefix of at least 1024 tokens, cached in steps of 128, after its first use. */
function cacheable(prefixTokens: number): number {
  return prefixTokens >= 1024 ? Math.floor(prefixTokens / 128) * 128 : 0;
}

const tokensOf = (messages: readonly ChatMessage[], count: (t: string) => number) => messages.reduce((n, m) => n + 4 + count(m.content), 3);

/** What the questions would cost in each mode: sync, packed, batch, batch + packed. */
export function estimateModes(input: EstimateInput): ModeEstimate[] {
  const { questions, rules, today, count, completionPerRow, packSize, price } = input;
  const single = questions.map((q) => buildMessages(q, rules, today));
  const groups: RowInputs[][] = [];
  for (let i = 0; i < questions.length; i += packSize) groups.push(questions.slice(i, i + packSize));
  const packed = groups.map((g) => buildPackedMessages(g.map((inputs, i) => ({ label: `r${i + 1}`, inputs })), rules, today));
  const mode = (name: string, requests: ChatMessage[][], batch: boolean): ModeEstimate => {
    const prefix = requests[0]?.[0] ? count(requests[0][0].content) : 0;
    const promptTokens = requests.reduce((n, m) => n + tokensOf(m, count), 0);
    // The Batch API is priced at its discount; provider-side caching is not counted there.
    const cachedTokens = batch ? 0 : Math.max(0, requests.length - 1) * cacheable(prefix);
    const completionTokens = questions.length * completionPerRow;
    const usage = { promptTokens, cachedTokens, completionTokens };
    return { mode: name, requests: requests.length, promptTokens, cachedTokens, completionTokens, costUsd: price ? costOf(usage, price, batch) : null };
  };
  const naivePrompt = single.reduce((n, m) => n + tokensOf(m, count), 0);
  return [
    {
      mode: 'naive (one full-price call per row)',
      requests: questions.length,
      promptTokens: naivePrompt,
      cachedTokens: 0,
      completionTokens: questions.length * completionPerRow,
      costUsd: price ? naiveCostOf(naivePrompt, questions.length * completionPerRow, price) : null,
    },
    mode('sync (prompt caching)', single, false),
    mode(`packed (${packSize} rows per request)`, packed, false),
    mode('batch (Batch API)', single, true),
    mode(`batch + packed (${packSize} rows per request)`, packed, true),
  ];
}

export { estimateTotal, renderPortfolioEstimate, type EstimateTotal, type TargetEstimate } from './portfolio.js';
