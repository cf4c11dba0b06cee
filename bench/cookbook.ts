/**
 * The anchor the rate benchmarks compare with: a model of the design of the OpenAI
 * cookbook's parallel processor (examples/api_request_parallel_processor.py), written
 * here from its description, not from its code:
 *  - request and token capacities that start full at the whole per-minute limit and
 *    refill continuously over a minute (so up to a minute's budget leaves at once);
 *  - a request leaves as soon as both capacities cover it (tokens: the prompt's count
 *    plus max_tokens), with no cap on how many are in flight;
 *  - after a rate-limit error, every new request waits until 15 s have passed since the
 *    last one; the failed request is queued for a retry (5 attempts in all).
 * It is told the exact limits. A run is time-boxed: it reports how far it got, and the
 * time the whole workload would take at the pace it reached.
 */
import { request } from 'undici';

export interface BaselineOptions {
  url: string;
  apiKey: string;
  /** The chat request bodies, one per row. */
  bodies: ReadonlyArray<Record<string, unknown>>;
  /** What the cookbook counts against the token capacity for a body. */
  tokensOf: (body: Record<string, unknown>) => number;
  rpm: number;
  tpm: number;
  /** Stop after this long and extrapolate. */
  timeBoxMs: number;
  cooldownMs?: number;
  maxAttempts?: number;
}

export interface BaselineResult {
  answered: number;
  failed: number;
  requests: number;
  limited: number;
  /** Seconds spent (the time box, or less when it finished). */
  wallS: number;
  /** Seconds the whole workload takes at the pace reached (= wallS when it finished). */
  projectedS: number;
}

interface Pending {
  body: Record<string, unknown>;
  tokens: number;
  attempts: number;
}

export async function cookbookBaseline(options: BaselineOptions): Promise<BaselineResult> {
  const cooldownMs = options.cooldownMs ?? 15_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const started = performance.now();
  const now = () => performance.now() - started;
  let requestCapacity = options.rpm;
  let tokenCapacity = options.tpm;
  let updated = 0;
  let lastLimited = -Infinity;
  const retries: Pending[] = [];
  let next = 0;
  let inFlight = 0;
  const result = { answered: 0, failed: 0, requests: 0, limited: 0 };

  const send = async (item: Pending) => {
    inFlight++;
    result.requests++;
    try {
      const response = await request(`${options.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(item.body),
      });
      await response.body.text();
      if (response.statusCode === 200) result.answered++;
      else if (response.statusCode === 429) {
        result.limited++;
        lastLimited = now();
        if (item.attempts < maxAttempts) retries.push(item);
        else result.failed++;
      } else result.failed++;
    } catch {
      result.failed++;
    } finally {
      inFlight--;
    }
  };

  while (now() < options.timeBoxMs && (next < options.bodies.length || retries.length > 0 || inFlight > 0)) {
    const t = now();
    requestCapacity = Math.min(options.rpm, requestCapacity + ((t - updated) * options.rpm) / 60_000);
    tokenCapacity = Math.min(options.tpm, tokenCapacity + ((t - updated) * options.tpm) / 60_000);
    updated = t;
    const waitingOut = t - lastLimited < cooldownMs;
    let item = !waitingOut ? retries.shift() : undefined;
    if (!item && !waitingOut && next < options.bodies.length) {
      const body = options.bodies[next++] as Record<string, unknown>;
      item = { body, tokens: options.tokensOf(body), attempts: 0 };
    }
    if (item && requestCapacity >= 1 && tokenCapacity >= item.tokens) {
      requestCapacity -= 1;
      tokenCapacity -= item.tokens;
      item.attempts++;
      void send(item);
      continue;
    }
    if (item) retries.unshift(item);
    // The cookbook's main loop sleeps a millisecond between checks.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const wallS = now() / 1000;
  const done = result.answered + result.failed;
  const finished = done >= options.bodies.length;
  return { ...result, wallS, projectedS: finished ? wallS : done > 0 ? (wallS * options.bodies.length) / done : Infinity };
}
