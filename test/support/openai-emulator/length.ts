import type { EmulatorProfile } from './profiles.js';
import type { ChatRequest } from './types.js';
import { CHARS_PER_TOKEN, estimateTokens } from './usage.js';

/**
 * An answer as long as the model made it, cut where the request's cap says, as OpenAI does:
 * max_completion_tokens is "an upper bound for the number of tokens that can be generated for
 * a completion, including visible output tokens and reasoning tokens"
 * (https://platform.openai.com/docs/api-reference/chat/create); reaching it ends the answer
 * with finish_reason "length" ("length if the maximum number of tokens specified in the request
 * was reached": https://platform.openai.com/docs/api-reference/chat/object), the text cut where
 * it stopped, and a reasoning model may stop "before any visible output tokens are produced"
 * (https://platform.openai.com/docs/guides/reasoning): the content is then empty. The usage
 * says the tokens generated: at most the cap, the reasoning ones included.
 */
export interface SizedAnswer {
  content: string;
  finishReason: 'stop' | 'length';
  /** completion_tokens: visible plus reasoning. */
  completionTokens: number;
  reasoningTokens: number;
}

/**
 * `drawn`: the size the "model" would answer with, reasoning included (the responder's text
 * alone when undefined or smaller); the difference is reasoning, spent before the text.
 */
export function sizeAnswer(content: string, chat: ChatRequest, profile: EmulatorProfile | undefined, drawn: number | undefined): SizedAnswer {
  const visible = estimateTokens(content.length);
  const total = Math.max(visible, Number.isFinite(drawn) ? Math.ceil(drawn ?? 0) : 0);
  const reasoning = total - visible;
  const cap = capOf(chat, profile);
  if (cap === undefined || total <= cap) return { content, finishReason: 'stop', completionTokens: total, reasoningTokens: reasoning };
  const spentOnReasoning = Math.min(reasoning, cap);
  const shown = content.slice(0, (cap - spentOnReasoning) * CHARS_PER_TOKEN);
  return { content: shown, finishReason: 'length', completionTokens: cap, reasoningTokens: spentOnReasoning };
}

/**
 * The cap the endpoint reads: max_completion_tokens, else max_tokens; Ollama reads max_tokens
 * only and ignores max_completion_tokens (https://docs.ollama.com/api/openai-compatibility).
 */
export function capOf(chat: ChatRequest, profile: EmulatorProfile | undefined): number | undefined {
  const fields = profile?.name === 'ollama' ? [chat.max_tokens] : [chat.max_completion_tokens, chat.max_tokens];
  const cap = fields.find((v): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 1);
  return cap === undefined ? undefined : Math.floor(cap);
}
