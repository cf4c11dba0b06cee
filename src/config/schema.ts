import { z } from 'zod';
import { notifySchema } from './notify.js';
import { isPostgresUrl } from './cache-url.js';

/**
 * The config file's schema. Every object is strict (unknown keys are errors, since a
 * typo would otherwise silently fall back to a default) and every default lives here,
 * so the rest of the code reads a fully-resolved `Config`.
 */

const text = (what: string) => z.string({ error: `expected ${what} (a text)` }).trim().min(1, `${what} must not be empty`);

const headerText = text('a header text');

const count = (min: number, max: number, fallback: number) =>
  z
    .number({ error: `expected a whole number from ${min} to ${max}` })
    .int(`expected a whole number from ${min} to ${max}`)
    .min(min, `expected a whole number from ${min} to ${max}`)
    .max(max, `expected a whole number from ${min} to ${max}`)
    .default(fallback);

const sheetsSchema = z.strictObject({
  spreadsheet_id: z
    .string({
      error: (issue) =>
        typeof issue.input === 'number'
          ? 'must be a string: put the id in quotes (spreadsheet_id: "…"), so YAML does not read it as a number'
          : 'expected the spreadsheet id (the part of the sheet URL between /d/ and /edit)',
    })
    .trim()
    .regex(/^[A-Za-z0-9_-]+$/, 'expected the spreadsheet id (letters, digits, - and _), not the whole URL'),
  sheet: text('the tab name'),
  header_row: count(1, 1000, 1),
  credentials_file: text('a path to the service-account key file').optional(),
  api_root: z.url({ error: 'expected an http(s) URL of a Sheets API endpoint' }).optional(),
  read_quota_per_minute: count(1, 100_000, 60),
  write_quota_per_minute: count(1, 100_000, 60),
});

/** A key of columns.inputs: it names the column in messages (columns.inputs.owner), so an identifier. */
const inputKey = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an identifier as the key (letters, digits and _, e.g. owner or budget_k), with the header text as its value');

const columnsSchema = z.strictObject({
  id: headerText.optional(),
  /** Optional since issue 14 (a risk register may have none); at least one of status, comment, inputs (see config/columns.ts). */
  status: headerText.optional(),
  comment: headerText.optional(),
  completion_date: headerText.optional(),
  /** Further columns the rules speak of: key → header text. They go into the prompt under their header. */
  inputs: z.record(inputKey, headerText, { error: 'expected a map of key → header text, e.g. { owner: "Owner", budget: "Budget (k€)" }' }).optional(),
});

/** The output headers when the config names none. */
export const DEFAULT_OUTPUT_HEADERS = {
  verdict: 'Validation',
  issues: 'Issues',
  suggestion: 'Suggested rewrite',
  checked_at: 'Checked at',
  model: 'Model',
} as const;

const outputColumnsSchema = z
  .strictObject({
    verdict: headerText.default(DEFAULT_OUTPUT_HEADERS.verdict),
    issues: headerText.default(DEFAULT_OUTPUT_HEADERS.issues),
    suggestion: headerText.default(DEFAULT_OUTPUT_HEADERS.suggestion),
    checked_at: headerText.default(DEFAULT_OUTPUT_HEADERS.checked_at),
    model: headerText.default(DEFAULT_OUTPUT_HEADERS.model),
  })
  .prefault({});

const outputSchema = z
  .strictObject({
    /** Results-tab mode: verdicts go to this tab, one row per data row, upserted by id. */
    sheet: text('a tab name').optional(),
    columns: outputColumnsSchema,
    write_batch_size: count(1, 1000, 10),
    /** Colours on the verdict column, checkboxes on the recheck column, a VALID/INVALID list on the reviewer column; false: values only. */
    format: z.boolean({ error: 'expected true (colours, checkboxes, lists) or false (values only)' }).default(true),
  })
  .prefault({});

const rulesSchema = z.strictObject({
  allowed_statuses: z
    .array(text('a status'), { error: 'expected a list of statuses, e.g. ["Planned", "Done"]' })
    .min(1, 'list at least one allowed status')
    .optional(),
  text: text('the rules text'),
});

const MAX_OUTPUT_TOKENS = "expected the model's max output tokens per request (a whole number from 16 to 10,000,000)";

/** Provider families (src/llm/kinds): what each request carries and how answers are read. */
export const PROVIDER_KINDS = ['openai', 'azure', 'gemini', 'vertex', 'ollama', 'vllm', 'anthropic', 'openrouter', 'groq', 'generic'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** `llm.providers[].service_tier`: what a request may ask to be served at. */
export const SERVICE_TIERS = ['auto', 'default', 'flex', 'priority'] as const;
export type ServiceTier = (typeof SERVICE_TIERS)[number];

const providerSchema = z.strictObject({
  name: text('a provider name'),
  /** The provider family; detected from base_url when unset (src/llm/kinds/detect.ts). */
  kind: z.enum(PROVIDER_KINDS, { error: `expected one of ${PROVIDER_KINDS.join(', ')}` }).optional(),
  model: text('a model name'),
  base_url: z.url({ error: 'expected an http(s) URL, e.g. https://api.openai.com/v1' }).default('https://api.openai.com/v1'),
  api_key_env: z
    .string({ error: 'expected the NAME of an environment variable holding the key' })
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the NAME of an environment variable (e.g. OPENAI_API_KEY), not the key itself')
    .default('OPENAI_API_KEY'),
  structured_outputs: z.enum(['auto', 'json_schema', 'json_object']).default('auto'),
  /** Requests per minute this account may send; learned from the provider's headers when unset. */
  rpm: z.number({ error: 'expected a number of requests per minute' }).int().min(1).max(10_000_000).optional(),
  /** Tokens per minute this account may use; learned from the provider's headers when unset. */
  tpm: z.number({ error: 'expected a number of tokens per minute' }).int().min(100).max(10_000_000_000).optional(),
  /** The most tokens the model may answer in one request (known for the built-in models): caps rows_per_request. */
  max_output_tokens: z.number({ error: MAX_OUTPUT_TOKENS }).int(MAX_OUTPUT_TOKENS).min(16, MAX_OUTPUT_TOKENS).max(10_000_000, MAX_OUTPUT_TOKENS).optional(),
  /**
   * The request's `service_tier` (OpenAI's words; https://platform.openai.com/docs/api-reference/chat/create):
   * flex is billed at Batch prices, slower, and sometimes refused for capacity. Sent only to
   * kinds that know it (src/llm/kinds/table.ts); unset: not sent (the project's default tier).
   */
  service_tier: z.enum(SERVICE_TIERS, { error: `expected one of ${SERVICE_TIERS.join(', ')}` }).optional(),
});

const llmSchema = z.strictObject({
  max_workers: count(1, 500, 5),
  max_retries: count(0, 20, 5),
  request_timeout_seconds: count(1, 3600, 60),
  prompt_cache_key: text('"auto" or a fixed key').default('auto'),
  /**
   * Requests a minute one prompt_cache_key serves well (OpenAI: about 15); a busier run
   * spreads over key-0…key-n. 0 (the default) keeps one key for the whole run.
   */
  prompt_cache_key_rpm: count(0, 100_000, 0),
  max_comment_chars: count(100, 1_000_000, 4000),
  max_completion_tokens: count(16, 100_000, 1000),
  /**
   * Against a tokens-per-minute limit, reserve (and ask for) what answers of this prompt use
   * (a high percentile of the sizes seen, with a margin) instead of the full max_completion_tokens;
   * an answer cut short is asked again at the full cap (issue 25). false: always the full cap.
   */
  learn_answer_size: z.boolean({ error: 'expected true (reserve what answers use) or false (always reserve max_completion_tokens)' }).default(true),
  /** Rows per request: more than 1 shares the static prompt among them (cheaper, a little riskier). */
  rows_per_request: count(1, 50, 1),
  /** Simple rows to a small model, the rest to a large one (replaces the first provider's model). */
  routing: z
    .strictObject({
      small: text('a model name'),
      large: text('a model name'),
      threshold: z.number({ error: 'expected a complexity from 0 to 1' }).min(0).max(1).default(0.5),
    })
    .optional(),
  /**
   * The small model first, the large one for the rows it is unsure of, at a threshold on the
   * small model's confidence calibrated so that agreement with the large model meets a target (issue 24).
   */
  cascade: z
    .strictObject({
      small: text('a model name'),
      large: text('a model name'),
      target_agreement: z.number({ error: 'expected a share from 0.5 to 0.999, e.g. 0.95' }).min(0.5, 'expected a share from 0.5 to 0.999, e.g. 0.95').max(0.999, 'expected a share from 0.5 to 0.999, e.g. 0.95').default(0.95),
      confidence: z.number({ error: 'expected a probability from 0.5 to 0.999, e.g. 0.95' }).min(0.5, 'expected a probability from 0.5 to 0.999, e.g. 0.95').max(0.999, 'expected a probability from 0.5 to 0.999, e.g. 0.95').default(0.95),
      label_budget: z.number({ error: 'expected a whole number of rows from 30 to 100000' }).int('expected a whole number of rows from 30 to 100000').min(30, 'expected at least 30 rows: fewer can never bound agreement at 0.9 or more').max(100_000, 'expected a whole number of rows from 30 to 100000').default(200),
    })
    .refine((c) => c.small !== c.large, { path: ['large'], message: 'the large model must differ from the small one (a cascade of one model only costs more)' })
    .optional(),
  providers: z
    .array(providerSchema, { error: 'expected a list of providers (name, model, base_url, api_key_env)' })
    .min(1, 'list at least one provider'),
}).superRefine((llm, ctx) => {
  // Both pick the model a row is asked of: one guesses from the row, the other measures.
  if (llm.routing && llm.cascade)
    ctx.addIssue({
      code: 'custom',
      path: ['cascade'],
      message: 'llm.routing and llm.cascade both choose the model each row is asked of: keep one. The cascade asks the small model first and escalates what it is unsure of, with an agreement bound; routing guesses from the row\'s length and bounds nothing',
    });
});

const cacheSchema = z
  .strictObject({
    path: text('a file path').default('./status-validator.sqlite'),
    /**
     * A PostgreSQL database every instance shares (issue 21): wins over `path`. Usually
     * "${DATABASE_URL}". Never echoed back in a message: it may hold a password.
     */
    url: text('a PostgreSQL URL').refine(isPostgresUrl, 'expected a PostgreSQL URL: postgres://user:password@host:5432/database (or postgresql://...)').optional(),
    /** Reuse the verdict of a very similar answered row (same status); off by default. */
    semantic: z.boolean({ error: 'expected true or false' }).default(false),
    /** Least cosine similarity (0.5–1) for a neighbour's verdict to be reused. */
    semantic_threshold: z.number({ error: 'expected a similarity from 0.5 to 1' }).min(0.5, 'expected a similarity from 0.5 to 1').max(1, 'expected a similarity from 0.5 to 1').default(0.95),
    /** The embedding model, at the first provider's endpoint; unset: its kind's default (src/llm/kinds/table.ts). */
    embedding_model: text('a model name').optional(),
  })
  .prefault({});

const duration = z
  .string({ error: 'expected a duration like "7d", "12h" or "30m"' })
  .regex(/^\s*\d+(\.\d+)?\s*(d|h|m)\s*$/i, 'expected a duration like "7d", "12h" or "30m"');

const reviewSchema = z
  .strictObject({
    /** A checkbox column: TRUE forces the row's recheck; the bot clears it after. */
    recheck_column: headerText.optional(),
    /** A reviewer's own verdict (VALID / INVALID, then an optional note): always wins. */
    override_column: headerText.optional(),
    /** Recheck rows whose verdict is older than this (rules that depend on today's date). */
    recheck_older_than: duration.optional(),
    /** Below this model confidence (0..1) the verdict cell says NEEDS REVIEW, for a person to decide. */
    min_confidence: z.number({ error: 'expected a number from 0 to 1' }).min(0, 'expected a number from 0 to 1').max(1, 'expected a number from 0 to 1').optional(),
  })
  .prefault({});

const reportSchema = z
  .strictObject({
    /** A tab that gets one row per run, so the people in the sheet see when it last ran. */
    runs_sheet: text('a tab name').optional(),
    /** A tab of native charts over the Runs tab (needs runs_sheet), kept by the bot. */
    dashboard_sheet: text('a tab name').optional(),
  })
  .superRefine((report, ctx) => {
    if (report.dashboard_sheet === undefined) return;
    // (That it is a tab of its own, not the data, results or Runs tab, is checked with the other tabs: load.ts tabCollisions.)
    if (report.runs_sheet === undefined) ctx.addIssue({ code: 'custom', path: ['dashboard_sheet'], message: 'the dashboard charts the Runs tab: set report.runs_sheet too (e.g. "Runs")' });
  })
  .prefault({});

const usdPerMillion = z.number({ error: 'expected US dollars per million tokens' }).min(0, 'expected US dollars per million tokens (≥ 0)');

/** Prices per model, over the built-in list: `pricing: { my-model: { input: 0.2, output: 0.8 } }`. */
const pricingSchema = z.record(
  z.string(),
  z.strictObject({
    input: usdPerMillion,
    cached_input: usdPerMillion.optional(),
    output: usdPerMillion,
    batch_discount: z.number({ error: 'expected a fraction from 0 to 1 (0.5 = half price)' }).min(0).max(1).optional(),
  }),
);

const dedupSchema = z
  .strictObject({
    /** Near-duplicate comments (same status and date) at or above this similarity (50–100) share one answer. Off when unset. */
    fuzzy_threshold: z.number({ error: 'expected a similarity from 50 to 100' }).min(50, 'expected a similarity from 50 to 100').max(100, 'expected a similarity from 50 to 100').optional(),
  })
  .prefault({});

/** An email, or "@domain" for everyone at that domain. */
const emailEntry = z
  .string({ error: 'expected an email (alice@example.com) or "@example.com" for a whole domain' })
  .trim()
  .toLowerCase()
  .regex(/^([^@\s]+@|@)[^@\s.]+(\.[^@\s.]+)+$/, 'expected an email (alice@example.com) or "@example.com" for a whole domain');

const positive = (what: string) => z.number({ error: `expected ${what} (a positive number)` }).positive(`expected ${what} (a positive number)`);

/** `serve`: who may trigger runs from the sheet (Google ID tokens), and within which limits. */
const serveSchema = z
  .strictObject({
    /** Emails and "@domain" entries allowed to trigger runs. */
    allow: z.array(emailEntry, { error: 'expected a list of emails or "@domain" entries' }).default([]),
    /** Also allowed to force (re-ask every row). */
    admins: z.array(emailEntry, { error: 'expected a list of emails or "@domain" entries' }).default([]),
    max_rows: positive('a number of rows').int('expected a whole number of rows').default(200),
    /**
     * Per person and run, by the estimate. No default: a cap nobody set must not refuse
     * (a self-hosted model has no price to check it against); a cap set for a model
     * with no known price is refused when `serve` starts and by `check-config`.
     */
    max_cost_usd: positive('a cost in US dollars').optional(),
    runs_per_hour: positive('a number of runs').int('expected a whole number of runs').default(6),
    /** The ID tokens' audience: the OAuth client id of the script's Cloud project. */
    google_client_id: text('the OAuth client id (…apps.googleusercontent.com)').optional(),
    google_certs_url: z.url({ error: 'expected an http(s) URL serving Google\'s signing certificates' }).default('https://www.googleapis.com/oauth2/v1/certs'),
  })
  .superRefine((serve, ctx) => {
    if ((serve.allow.length > 0 || serve.admins.length > 0) && serve.google_client_id === undefined) {
      ctx.addIssue({ code: 'custom', path: ['google_client_id'], message: 'required when serve.allow or serve.admins is set: the OAuth client id the ID tokens are issued to (docs/apps-script.md)' });
    }
  })
  .prefault({});

export const configSchema = z.strictObject({
  sheets: sheetsSchema,
  columns: columnsSchema,
  output: outputSchema,
  rules: rulesSchema,
  llm: llmSchema,
  cache: cacheSchema,
  review: reviewSchema,
  report: reportSchema,
  pricing: pricingSchema.default({}),
  dedup: dedupSchema,
  serve: serveSchema,
  notify: notifySchema,
});

/** "7d" → ms. */
export function durationMs(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(d|h|m)\s*$/i.exec(text);
  if (!match) throw new RangeError(`expected a duration like "7d", "12h" or "30m", got "${text}"`);
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[(match[2] ?? 'd').toLowerCase() as 'd' | 'h' | 'm'];
  return Number(match[1]) * unit;
}

export type RawConfig = z.infer<typeof configSchema>;
export type ProviderConfig = RawConfig['llm']['providers'][number];

