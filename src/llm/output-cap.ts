/**
 * How many tokens a model may answer in one request, and so how many rows one packed
 * request may hold: rows_per_request × max_completion_tokens above the cap is refused
 * (400 "max_tokens is too large") on every packed request, which then falls back to one
 * row a call while `estimate` still promises the packing savings.
 */
import { grouped, plural } from '../plural.js';

/**
 * Max output tokens of the built-in price table's models, from OpenAI's model pages
 * (developers.openai.com/api/docs/models/<model>): the GPT-5 family 128,000; the GPT-4.1
 * family 32,768; GPT-4o and GPT-4o mini 16,384. Others: llm.providers[].max_output_tokens.
 */
export const KNOWN_OUTPUT_CAPS: Readonly<Record<string, number>> = {
  'gpt-5': 128_000,
  'gpt-5-mini': 128_000,
  'gpt-5-nano': 128_000,
  'gpt-4.1': 32_768,
  'gpt-4.1-mini': 32_768,
  'gpt-4.1-nano': 32_768,
  'gpt-4o': 16_384,
  'gpt-4o-mini': 16_384,
};

/** The configured cap, else the known one (dated snapshots such as gpt-4o-2024-08-06 take their family's). */
export function outputCapOf(model: string, configured?: number): number | undefined {
  if (configured !== undefined) return configured;
  const exact = KNOWN_OUTPUT_CAPS[model];
  if (exact !== undefined) return exact;
  const family = Object.keys(KNOWN_OUTPUT_CAPS)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  return family === undefined ? undefined : KNOWN_OUTPUT_CAPS[family];
}

export interface Packing {
  /** llm.rows_per_request as configured. */
  requested: number;
  /** Rows per request that fit every model's output cap (at least 1). */
  rows: number;
  /** The model whose cap is tightest, when it binds: fewer rows than asked, or max_completion_tokens cut. */
  cappedBy?: { model: string; cap: number };
}

/** The llm section as far as packing is concerned (the config's shape). */
export interface PackingConfig {
  rows_per_request: number;
  max_completion_tokens: number;
  providers: ReadonlyArray<{ model: string; max_output_tokens?: number | undefined }>;
  /** With routing the first provider is asked with these models instead of its own. */
  routing?: { small: string; large: string } | undefined;
}

/**
 * The rows per request that fit: a packed request may be answered by any model of its
 * chain (the fallbacks too), so the tightest cap decides.
 */
export function packingOf(llm: PackingConfig): Packing {
  const [first, ...rest] = llm.providers;
  const models = [
    ...(first ? (llm.routing ? [llm.routing.small, llm.routing.large] : [first.model]).map((model) => ({ model, cap: outputCapOf(model, first.max_output_tokens) })) : []),
    ...rest.map((p) => ({ model: p.model, cap: outputCapOf(p.model, p.max_output_tokens) })),
  ];
  let packing: Packing = { requested: llm.rows_per_request, rows: llm.rows_per_request };
  for (const { model, cap } of models) {
    if (cap === undefined) continue;
    const fits = Math.max(1, Math.floor(cap / llm.max_completion_tokens));
    const binds = fits < packing.rows || cap < llm.max_completion_tokens;
    if (binds && (packing.cappedBy === undefined || cap < packing.cappedBy.cap)) packing = { ...packing, rows: Math.min(packing.rows, fits), cappedBy: { model, cap } };
  }
  return packing;
}

/** What the summary and `estimate` say when a cap binds; undefined when none does. */
export function packingNote(packing: Packing, maxCompletionTokens: number): string | undefined {
  const by = packing.cappedBy;
  if (!by) return undefined;
  const cap = `${by.model}'s output cap of ${grouped(by.cap)} tokens`;
  if (maxCompletionTokens > by.cap) {
    return `llm.max_completion_tokens (${maxCompletionTokens}) is above ${cap}: each request asks for ${by.cap} at most. Lower max_completion_tokens, or set llm.providers[].max_output_tokens if the model allows more.`;
  }
  return (
    `llm.rows_per_request ${packing.requested} × max_completion_tokens ${maxCompletionTokens} is above ${cap}: ` +
    `packing ${plural(packing.rows, 'row')} per request instead. Lower max_completion_tokens to pack more, or set llm.providers[].max_output_tokens if the model allows more.`
  );
}
