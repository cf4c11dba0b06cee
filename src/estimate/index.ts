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

/**
 * The longest the yielding estimate works between two turns of the event loop (ms). It
 * is bounded by time, not by a count of rows: a row of long cells (a pasted report, up to
 * llm.max_comment_chars a cell) takes a thousand times a short one to tokenize.
 */
const SLICE_MS = 20;

/**
 * Each distinct text tokenized once per estimate: the static system prompt (kilobytes,
 * the same on every request) once in all, and each row's message once for the three
 * modes that send it alone. The tokenizer is deterministic, so the figures are those
 * of counting every text every time.
 */
function memoized(count: (text: string) => number): (text: string) => number {
  const seen = new Map<string, number>();
  return (text) => {
    let n = seen.get(text);
    if (n === undefined) {
      n = count(text);
      seen.set(text, n);
    }
    return n;
  };
}

/**
 * The estimate in steps: it yields after every STEP requests counted, so that a caller
 * serving requests (serve) can let its event loop breathe; `estimateModes` runs it
 * through at once, so both give the same figures.
 */
function* estimateSteps(input: EstimateInput): Generator<void, ModeEstimate[], void> {
  const { questions, rules, today, completionPerRow, packSize, price } = input;
  const count = memoized(input.count);
  const single: number[] = [];
  for (const q of questions) {
    single.push(tokensOf(buildMessages(q, rules, today), count));
    // A step is one request counted: the driver decides, by the clock, when to yield.
    yield;
  }
  const packed: number[] = [];
  for (let i = 0; i < questions.length; i += packSize) {
    const group = questions.slice(i, i + packSize);
    packed.push(tokensOf(buildPackedMessages(group.map((inputs, j) => ({ label: `r${j + 1}`, inputs })), rules, today), count));
    yield;
  }
  const first = questions[0];
  const prefixOf = (messages: ChatMessage[] | undefined) => (messages?.[0] ? count(messages[0].content) : 0);
  const singlePrefix = first ? prefixOf(buildMessages(first, rules, today)) : 0;
  const packedPrefix = first ? prefixOf(buildPackedMessages(questions.slice(0, packSize).map((inputs, j) => ({ label: `r${j + 1}`, inputs })), rules, today)) : 0;
  const completionTokens = questions.length * completionPerRow;
  const mode = (name: string, requests: readonly number[], prefix: number, batch: boolean): ModeEstimate => {
    const promptTokens = requests.reduce((n, t) => n + t, 0);
    // The Batch API is priced at its discount; provider-side caching is not counted there.
    const cachedTokens = batch ? 0 : Math.max(0, requests.length - 1) * cacheable(prefix);
    const usage = { promptTokens, cachedTokens, completionTokens };
    return { mode: name, requests: requests.length, promptTokens, cachedTokens, completionTokens, costUsd: price ? costOf(usage, price, batch) : null };
  };
  const naivePrompt = single.reduce((n, t) => n + t, 0);
  return [
    {
      mode: 'naive (one full-price call per row)',
      requests: questions.length,
      promptTokens: naivePrompt,
      cachedTokens: 0,
      completionTokens,
      costUsd: price ? naiveCostOf(naivePrompt, completionTokens, price) : null,
    },
    mode('sync (prompt caching)', single, singlePrefix, false),
    mode(`packed (${packSize} rows per request)`, packed, packedPrefix, false),
    mode('batch (Batch API)', single, singlePrefix, true),
    mode(`batch + packed (${packSize} rows per request)`, packed, packedPrefix, true),
  ];
}

/** What the questions would cost in each mode: sync, packed, batch, batch + packed. */
export function estimateModes(input: EstimateInput): ModeEstimate[] {
  const steps = estimateSteps(input);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The same estimate, giving the event loop a turn between steps: a server estimating
 * thousands of rows goes on answering other requests and beating its locks' heartbeats.
 */
export async function estimateModesYielding(input: EstimateInput): Promise<ModeEstimate[]> {
  const steps = estimateSteps(input);
  let since = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - since < SLICE_MS) continue;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  }
}

/** How a run's rows are priced: the model each is asked of (llm.routing) and that model's price. */
export interface Routed {
  modelOf: (question: RowInputs) => string;
  priceOf: (model: string) => Price | undefined;
}

/**
 * The estimate of a run whose rows go to different models (llm.routing): each model's
 * rows estimated at its price, the modes added up; a model without a price leaves every
 * mode's cost unknown (null), for a cap cannot be checked against part of a run.
 */
export async function estimateRoutedYielding(input: Omit<EstimateInput, 'price'>, routed: Routed): Promise<ModeEstimate[]> {
  const parts: ModeEstimate[][] = [];
  for (const part of routedInputs(input, routed)) parts.push(await estimateModesYielding(part));
  return parts.length > 0 ? sumModes(parts) : nothingToAsk(input);
}

/** The same, at once (the `estimate` command). */
export function estimateRouted(input: Omit<EstimateInput, 'price'>, routed: Routed): ModeEstimate[] {
  const parts = routedInputs(input, routed).map(estimateModes);
  return parts.length > 0 ? sumModes(parts) : nothingToAsk(input);
}

/** One estimate input per model, its rows in their order. */
function routedInputs(input: Omit<EstimateInput, 'price'>, routed: Routed): EstimateInput[] {
  const groups = new Map<string, RowInputs[]>();
  for (const q of input.questions) {
    const model = routed.modelOf(q);
    const group = groups.get(model);
    if (group) group.push(q);
    else groups.set(model, [q]);
  }
  return [...groups].map(([model, questions]) => ({ ...input, questions, price: routed.priceOf(model) }));
}

/** No row to ask: no request, and $0 whatever the models' prices. */
function nothingToAsk(input: Omit<EstimateInput, 'price'>): ModeEstimate[] {
  return estimateModes({ ...input, questions: [], price: undefined }).map((mode) => ({ ...mode, costUsd: 0 }));
}

function sumModes(parts: readonly ModeEstimate[][]): ModeEstimate[] {
  const [first = [], ...rest] = parts;
  return first.map((mode, i) =>
    rest.reduce<ModeEstimate>((sum, part) => {
      const other = part[i] as ModeEstimate;
      return {
        mode: sum.mode,
        requests: sum.requests + other.requests,
        promptTokens: sum.promptTokens + other.promptTokens,
        cachedTokens: sum.cachedTokens + other.cachedTokens,
        completionTokens: sum.completionTokens + other.completionTokens,
        costUsd: sum.costUsd === null || other.costUsd === null ? null : sum.costUsd + other.costUsd,
      };
    }, mode),
  );
}

export { estimateTotal, renderPortfolioEstimate, type CascadeEstimate, type EstimateTotal, type TargetEstimate } from './portfolio.js';
