import type { LlmError } from '../errors.js';
import type { BackoffOptions } from '../retry/index.js';
import type { RowInputs } from '../sheets/index.js';
import type { ProviderGate } from './gate.js';
import type { ChatMessage, PromptRules } from './prompt.js';
import type { BilledTier } from './kinds/index.js';
import type { Provider, Usage } from './provider.js';
import type { RefusalJudge } from './refusal-judge.js';
import type { AnswerReserve } from './reserve.js';
import type { Verdict } from './verdict.js';

export type Outcome =
  | ({ kind: 'verdict'; provider: string; model: string; usage: Usage } & Verdict)
  | { kind: 'error'; reason: string; usage: Usage };

export interface RetryEvent {
  provider: string;
  attempt: number;
  reason: string;
  waitMs: number;
}

export interface ValidatorOptions {
  rules: PromptRules;
  allowedStatuses: readonly string[];
  /** Retries per provider after the first attempt. */
  maxRetries: number;
  /** YYYY-MM-DD, put in every prompt since rules speak of dates. */
  today: string;
  /** Pacing per provider name: cool-down, budgets, adaptive concurrency. */
  gates: ReadonlyMap<string, ProviderGate>;
  /** Prompt tokens of a request, to reserve against a token budget (asked only when there is one). */
  estimate: (messages: readonly ChatMessage[]) => Promise<number>;
  /** Added to the prompt estimate: providers count max_completion_tokens against the budget. */
  maxCompletionTokens: number;
  backoff?: BackoffOptions;
  onRetry?: (event: RetryEvent) => void;
  /** A call answered or refused; `billed`: the prices its answer is billed at (the tier that served it). */
  /** Each call a provider answered; `failed` when it answered with an error ('rate_limited': a 429), for the metrics. */
  onCall?: (provider: Provider, usage: Usage, billed: BilledTier, failed?: 'rate_limited' | 'failed') => void;
  /**
   * Flex at work: a request sent at flex, a flex capacity refusal (unbilled), a request sent
   * again at auto after FLEX_RETRIES refusals.
   */
  onFlex?: (event: 'sent' | 'refused' | 'fell_back', provider: Provider) => void;
  /** A request never reached the provider (refused, DNS, TLS): not a call, counted apart. */
  onConnectionFailure?: (provider: Provider, error: LlmError) => void;
  /** A provider was dropped for the rest of the run (its key was refused): said once per provider. */
  onDropped?: (provider: Provider, error: LlmError) => void;
  /** The providers to ask for a row, in order (routing); all of them by default. */
  route?: (inputs: RowInputs) => readonly Provider[];
  /** Tells a 400 every row gets (stops the run) from a row's own (src/llm/refusal-judge.ts). */
  judge?: RefusalJudge;
  /**
   * What answers use (src/llm/reserve.ts): against a token budget a request reserves and asks
   * for the size learned for its prompt (`prompt`: the rules' digest) instead of the full cap.
   */
  answerSizes?: { reserve: AnswerReserve; prompt: string } | undefined;
  /** An answer cut at a learned (lower) cap, asked again at the full cap. */
  onAskedAgain?: (provider: Provider) => void;
  /** A request was written to its provider's connection (each attempt; again after a redirect). */
  onSent?: (() => void) | undefined;
}
