import pLimit, { type LimitFunction } from 'p-limit';
import type { AnswerSizeStore, FieldStore, LimitStore } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { AnswerReserve, CacheKeySharder, OUTPUT_SCHEMA_VERSION, Provider, ProviderGate, RefusalJudge, TokenEstimator, Validator, loadTokenizer, packingNote, packingOf, promptCacheKey, type BilledTier, type RetryEvent, type Usage } from '../llm/index.js';
import type { RowInputs } from '../sheets/index.js';
import { planOf, type ProviderPlan, type RunPlan } from './run-plan.js';

export interface Asking {
  validator: Validator;
  /** The model a row is asked with (routing picks it; else the first provider's). */
  modelOf: (inputs: RowInputs) => string;
  /** The prompt_cache_key of each model asked first. */
  promptCacheKeys: string[];
  /** Rows per request: llm.rows_per_request, capped so that the answer fits every model's output cap. */
  rowsPerRequest: number;
  /** Drops the fallbacks whose key is refused, before any row needs them. */
  checkFallbacks: (signal?: AbortSignal) => Promise<void>;
  /** Whether the 400s of the run's first questions are the configuration's fault (the Settler holds ERROR cells until it knows). */
  judge: RefusalJudge;
  /** With llm.cascade: a validator per model of the pair (the cascade asks each row of one, then maybe the other). */
  perModel?: ReadonlyMap<string, Validator> | undefined;
  /** The answer sizes learned (llm.learn_answer_size): flushed to the store before it closes. */
  answerSizes: AnswerReserve;
}

/**
 * The providers, their pacing gates and the validator of a run. With llm.routing, the
 * first provider is asked with the small or the large model depending on the row;
 * the fallbacks keep their own models.
 */
export async function buildAsking(
  plan: RunPlan,
  hooks: { today: string; onRetry: (event: RetryEvent) => void; onCall: (provider: string, model: string, usage: Usage, billed: BilledTier, failed?: 'rate_limited' | 'failed') => void; onFlex?: (event: 'sent' | 'refused' | 'fell_back') => void; onConnectionFailure?: () => void; onWarning?: (text: string) => void; limits?: LimitStore | undefined; fields?: FieldStore | undefined; gates?: ReadonlyMap<string, ProviderGate> | undefined; sizes?: AnswerSizeStore | undefined; onAskedAgain?: () => void; onSent?: () => void },
): Promise<Asking> {
  const { rules, llm, routing, modelOf } = plan;
  const [first, ...rest] = plan.providers.map((p) => p.config);
  if (!first) throw new RangeError('llm.providers is empty');
  const keys = new Map(plan.providers.map((p) => [p.config.name, p.apiKey] as const));
  const cascade = llm.cascade;
  const firstModels = routing ? [routing.small, routing.large] : cascade ? [cascade.small, cascade.large] : [first.model];
  // What earlier runs learned each endpoint refuses, read once before any provider is made.
  const endpoints = [...firstModels.map((model) => ({ provider: first.base_url, model })), ...rest.map((p) => ({ provider: p.base_url, model: p.model }))];
  const refused = new Map<string, string[]>();
  if (hooks.fields) for (const endpoint of endpoints) refused.set(endpointId(endpoint), await hooks.fields.recall(endpoint));
  const make = (provider: Config['llm']['providers'][number]) => {
    const endpoint = { provider: provider.base_url, model: provider.model };
    return new Provider(provider, {
      apiKey: keys.get(provider.name) ?? '',
      serviceAccount: plan.serviceAccount,
      timeoutMs: llm.request_timeout_seconds * 1000,
      maxCompletionTokens: llm.max_completion_tokens,
      // One key per model: each model's prefix is cached on its own; a busy run shards it.
      promptCacheKey: new CacheKeySharder(promptCacheKey(llm.prompt_cache_key, rules, provider.model), llm.prompt_cache_key_rpm),
      droppedFields: hooks.fields ? refused.get(endpointId(endpoint)) : undefined,
      onFieldDropped: (field, message) => {
        hooks.fields?.learn(endpoint, field, message).catch((error: unknown) => hooks.onWarning?.(`could not remember in the cache that ${provider.base_url} (model ${provider.model}) refuses "${field}": ${errorText(error)}`));
        hooks.onWarning?.(`provider "${provider.name}" (model ${provider.model}) does not accept the request field "${field}"; it is left out from now on, and in later runs (${message})`);
      },
    });
  };
  const fallbacks = rest.map(make);
  const firsts = new Map<string, Provider>();
  for (const model of firstModels) firsts.set(model, make({ ...first, model }));
  const chains = new Map([...firsts].map(([model, provider]) => [model, [provider, ...fallbacks]] as const));
  // Shared by every target of a portfolio, so that their requests together stay within the limits.
  // Shared gates were built before this run: its own requests' doubtful headers are said in its summary too.
  const onWarning = hooks.onWarning;
  const gates = hooks.gates
    ? onWarning
      ? new Map([...hooks.gates].map(([name, gate]) => [name, gate.heard((text) => onWarning(`provider "${name}": ${text}`))] as const))
      : hooks.gates
    : await gatesOf(plan.providers, llm.max_workers, hooks.limits, onWarning);
  // The tokenizer takes ~150 ms to load: only when a token budget asks for it.
  let estimator: Promise<TokenEstimator> | undefined;
  const judge = new RefusalJudge();
  // One prompt for the answer sizes: the rules' digest (as prompt_cache_key auto derives it,
  // whatever key is configured) and the answer's shape; the model and rows are added per request.
  const answerSizes = new AnswerReserve({ enabled: llm.learn_answer_size, memory: hooks.sizes, onWarning: hooks.onWarning });
  const prompt = `${promptCacheKey('auto', rules, '')}/${OUTPUT_SCHEMA_VERSION}`;
  const options: ConstructorParameters<typeof Validator>[1] = {
    rules,
    allowedStatuses: rules.allowedStatuses,
    maxRetries: llm.max_retries,
    gates,
    estimate: async (messages) => (await (estimator ??= loadTokenizer().then((count) => new TokenEstimator(count)))).prompt(messages),
    maxCompletionTokens: llm.max_completion_tokens,
    today: hooks.today,
    route: (inputs) => chains.get(modelOf(inputs)) ?? [...firsts.values(), ...fallbacks],
    onRetry: hooks.onRetry,
    onCall: (provider, usage, billed, failed) => hooks.onCall(provider.name, provider.model, usage, billed, failed),
    onFlex: (event) => hooks.onFlex?.(event),
    onConnectionFailure: () => hooks.onConnectionFailure?.(),
    judge,
    answerSizes: { reserve: answerSizes, prompt },
    onAskedAgain: () => hooks.onAskedAgain?.(),
    ...(hooks.onSent ? { onSent: hooks.onSent } : {}),
    onDropped: (provider, error) => hooks.onWarning?.(`provider "${provider.name}"${error.status === 403 ? ` (model ${provider.model})` : ""} is not used for the rest of this run: ${error.message}${error.hint ? `${/[.!?)]$/.test(error.message) ? '' : '.'} ${error.hint}` : ''}`),
  };
  const validator = new Validator([...firsts.values(), ...fallbacks], options);
  // The cascade's two validators share the gates, the judge and the providers; each asks its own model first.
  const perModel = cascade ? new Map([...chains].map(([model, chain]) => [model, new Validator([...firsts.values(), ...fallbacks], { ...options, route: () => chain })] as const)) : undefined;
  // A cascade's pair caps packing as routing's does: a packed request may go to either model.
  const packing = packingOf({ ...llm, routing: llm.routing ?? llm.cascade });
  const capped = packingNote(packing, llm.max_completion_tokens);
  if (capped) hooks.onWarning?.(capped);
  return {
    validator,
    rowsPerRequest: packing.rows,
    modelOf,
    promptCacheKeys: [...firsts.values()].map((p) => promptCacheKey(llm.prompt_cache_key, rules, p.model)),
    checkFallbacks: (signal) => validator.dropRefused(fallbacks, signal),
    judge,
    perModel,
    answerSizes,
  };
}

/**
 * One pacing gate per provider: what every request to it, from any target of the process,
 * goes through. The limits earlier runs learned are read here, once; what this process
 * learns is saved as it goes, without waiting (a failure to save is a warning).
 */
export async function providerGates(config: Config, secrets: Pick<Secrets, 'apiKeys'>, memory: LimitStore | undefined, onWarning?: (text: string) => void): Promise<Map<string, ProviderGate>> {
  return gatesOf(config.llm.providers.map((p) => ({ config: p, apiKey: secrets.apiKeys.get(p.name) ?? '' })), config.llm.max_workers, memory, onWarning);
}

/** providerGates over a plan's providers. */
async function gatesOf(providers: readonly ProviderPlan[], maxWorkers: number, memory: LimitStore | undefined, onWarning?: (text: string) => void): Promise<Map<string, ProviderGate>> {
  // One ceiling for all of them: the primary and its fallbacks together stay within max_workers.
  const inFlight = providers.length > 1 ? pLimit(maxWorkers) : undefined;
  const gates = new Map<string, ProviderGate>();
  for (const p of providers) gates.set(p.config.name, await gateOf(p.config, p.apiKey, maxWorkers, memory, inFlight, onWarning));
  return gates;
}

/** A provider's pacing: its configured limits, or those an earlier run learned (and this one will keep). */
async function gateOf(provider: Config['llm']['providers'][number], apiKey: string, maxConcurrency: number, memory: LimitStore | undefined, inFlight: LimitFunction | undefined, onWarning: ((text: string) => void) | undefined): Promise<ProviderGate> {
  const of = { provider: provider.base_url, model: provider.model, apiKey };
  const warn = onWarning && ((text: string) => onWarning(`provider "${provider.name}": ${text}`));
  return new ProviderGate({
    rpm: provider.rpm,
    tpm: provider.tpm,
    maxConcurrency,
    inFlight,
    remembered: await memory?.recall(of),
    onLearned: memory ? (limits) => void memory.learn(of, limits).catch((error: unknown) => warn?.(`could not save the limits learned in the cache: ${errorText(error)}`)) : undefined,
    onWarning: warn,
  });
}

function endpointId(endpoint: { provider: string; model: string }): string {
  return `${endpoint.provider}\u0000${endpoint.model}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The first provider with its own model: what the Batch API and the embeddings go to. */
export function primaryProvider(config: Config, secrets: Secrets, droppedFields?: readonly string[]): Provider {
  return primaryProviderOf(planOf(config, secrets), droppedFields);
}

export function primaryProviderOf(plan: RunPlan, droppedFields?: readonly string[]): Provider {
  const [first] = plan.providers;
  if (!first) throw new RangeError('llm.providers is empty');
  return new Provider(first.config, {
    // Batch lines leave out what a sync run learned this endpoint refuses (FieldStore.recall, read by the caller).
    droppedFields,
    apiKey: first.apiKey,
    serviceAccount: plan.serviceAccount,
    timeoutMs: plan.llm.request_timeout_seconds * 1000,
    maxCompletionTokens: plan.llm.max_completion_tokens,
    promptCacheKey: promptCacheKey(plan.llm.prompt_cache_key, plan.rules, first.config.model),
  });
}
