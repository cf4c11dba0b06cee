import type { ChatMessage } from './prompt.js';

type Counter = (text: string) => number;

let counter: Promise<Counter> | undefined;

/**
 * Loads the o200k_base tokenizer (the encoding of the gpt-4o and gpt-5 families) once.
 * Loading takes ~150 ms, so a run starts it while it reads the sheet.
 */
export function loadTokenizer(): Promise<Counter> {
  counter ??= import('gpt-tokenizer/encoding/o200k_base').then((m) => (text: string) => m.countTokens(text));
  return counter;
}

/** Tokens a chat request's prompt will take, to reserve against a token budget before sending it. */
export class TokenEstimator {
  private readonly cache = new Map<string, number>();

  constructor(private readonly count: Counter) {}

  /** Each message costs its text plus a few tokens of chat framing. */
  prompt(messages: readonly ChatMessage[]): number {
    let total = 3;
    for (const message of messages) total += 4 + this.text(message.content);
    return total;
  }

  /** The static system prompt repeats on every request: count each distinct text once. */
  private text(content: string): number {
    if (content.length < 2000) return this.count(content);
    let n = this.cache.get(content);
    if (n === undefined) {
      n = this.count(content);
      if (this.cache.size > 16) this.cache.clear();
      this.cache.set(content, n);
    }
    return n;
  }
}
