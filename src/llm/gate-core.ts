import type { LimitFunction } from 'p-limit';
import { Meter, readRateHeaders } from './budget.js';
import { Cooldown } from './cooldown.js';

/* The pace, concurrency and per-lane queue behind a ProviderGate (gate.ts): one core, shared by every lane of a gate. */

/** Per-minute limits, as configured, remembered or read from x-ratelimit-* headers. */
export interface Limits {
  rpm?: number | undefined;
  tpm?: number | undefined;
}

export interface GateOptions {
  /** Requests per minute, when configured. */
  rpm?: number | undefined;
  /** Tokens per minute, when configured. */
  tpm?: number | undefined;
  /** Limits an earlier run learned from this provider's headers (trusted until headers or a 429 say otherwise). */
  remembered?: Limits | undefined;
  /** Told what the headers taught when it differs from what was known; undefined when a 429 contradicted it. */
  onLearned?: ((limits: Limits | undefined) => void) | undefined;
  /** The concurrency ceiling (llm.max_workers). */
  maxConcurrency: number;
  /**
   * The ceiling shared by every provider's gate (a p-limit limiter of llm.max_workers):
   * with fallbacks answering beside the primary, the requests out to all of them together
   * stay within max_workers (invariant 4), whatever number of workers wait.
   */
  inFlight?: LimitFunction | undefined;
  now?: () => number;
  /** Said once per header: a limit header that is not believable, and so not followed. */
  onWarning?: ((text: string) => void) | undefined;
}

/**
 * The longest a single timer is set for. A wait the pace computes may be longer (a huge
 * reservation against a small budget): the timer then fires and re-checks. Far below
 * setTimeout's ceiling (2^31 − 1 ms), past which Node fires after 1 ms: a busy spin.
 */
export const MAX_TIMER_MS = 60_000;

/** What a request will cost in tokens before it runs, as OpenAI counts it: its prompt, plus max_completion_tokens. */
export interface TokenEstimate {
  prompt: number;
  completion: number;
  /**
   * The completion tokens to reserve, asked when the request leaves (else `completion`): what
   * answers use may have been learned while it waited in the queue (src/llm/reserve.ts).
   */
  completionAtDeparture?: () => number;
}

/** A pass through the gate: what it reserved and when it left, to settle when the answer comes. */
export interface Ticket {
  /** Tokens reserved (0 when the gate does not meter tokens). */
  tokens: number;
  /** Of those, the completion tokens: what the request must ask for at most (0 when the gate does not meter tokens). */
  completion: number;
  /** Our estimate of the prompt, to calibrate against what the provider reports. */
  promptEstimate: number;
  departedAt: number;
  /** Frees the concurrency slot (once). */
  release: () => void;
}

export type GateResult =
  | { kind: 'answered'; promptTokens: number }
  | { kind: 'rate_limited'; waitMs: number }
  | { kind: 'failed' };

/** How long the other workers wait for the probe's answer before they go anyway. */
export const PROBE_PATIENCE_MS = 3000;

/** The state every lane of a gate shares. */
export class GateCore {
  readonly cooldown: Cooldown;
  private requests: Meter | undefined;
  private tokens: Meter | undefined;
  private readonly now: () => number;
  /** The adaptive concurrency (fractional: it grows by 1/itself per answer). */
  private adaptive: number;
  /** How many requests may be out at once now (the whole part of `adaptive`). */
  limit: number;
  /** Requests that left and whose ticket is not released yet. */
  private out = 0;
  /** No limit known yet: the first request goes alone and what it answers decides the rest. */
  private probing: boolean;
  /** Ends a probe that takes too long: a hung first request must not stall every worker until its timeout. */
  private probeTimer: NodeJS.Timeout | undefined;
  private lastCorrection = -Infinity;
  private told = '';
  /** Limit headers already said to be unbelievable (each said once). */
  private readonly doubted = new Set<string>();
  /**
   * Prompt tokens the provider reports per token we estimate: our tokenizer and the
   * provider's count differ (chat framing, another encoding), and a token pace is only as
   * good as the estimate reserved against it. Applied when a request leaves, so requests
   * that waited are counted with what the latest answers taught.
   */
  private calibration = 1;
  /** Waiting requests by lane, and the lanes with any, in the order of their turns. */
  private readonly lanes = new Map<string, Waiter[]>();
  private readonly turns: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** A waiter whose estimate is being computed (the gate learned to meter tokens while it waited). */
  private estimating = false;

  constructor(readonly options: GateOptions) {
    if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
      throw new RangeError(`maxConcurrency must be a whole number ≥ 1, got ${options.maxConcurrency}`);
    }
    this.now = options.now ?? Date.now;
    this.cooldown = new Cooldown(this.now);
    const rpm = lower(options.rpm, options.remembered?.rpm);
    const tpm = lower(options.tpm, options.remembered?.tpm);
    if (rpm !== undefined) this.requests = new Meter(rpm);
    if (tpm !== undefined) this.tokens = new Meter(tpm);
    // A known pace needs no probe: all workers may go, the meters space them out.
    const known = this.requests !== undefined || this.tokens !== undefined;
    this.adaptive = known ? options.maxConcurrency : 1;
    this.limit = Math.floor(this.adaptive);
    this.probing = !known;
  }

  get metersTokens(): boolean {
    return this.tokens !== undefined;
  }

  get limits(): Limits {
    return { rpm: this.requests?.limit, tpm: this.tokens?.limit };
  }

  async enter(lane: string, estimate: TokenEstimate | (() => Promise<TokenEstimate>), signal?: AbortSignal): Promise<Ticket> {
    signal?.throwIfAborted();
    // The prompt is counted only against a token budget (the tokenizer costs time).
    const known = typeof estimate === 'function' ? (this.tokens ? await estimate() : undefined) : estimate;
    const departed = await this.depart(lane, known, typeof estimate === 'function' ? estimate : undefined, signal);
    return { ...departed, release: once(() => this.free()) };
  }

  leave(ticket: Ticket, result: GateResult, headers?: Headers, listener?: (text: string) => void): void {
    this.observe(headers, listener);
    // Whatever the probe taught (a pace, or that this provider states none), every worker may go now.
    this.endProbe();
    if (result.kind === 'answered') {
      if (ticket.promptEstimate > 0 && result.promptTokens > 0) this.calibration = 0.8 * this.calibration + 0.2 * (result.promptTokens / ticket.promptEstimate);
      this.requests?.recover();
      this.tokens?.recover();
      this.grow();
    } else if (result.kind === 'rate_limited' && ticket.departedAt > this.lastCorrection) {
      this.correct(result.waitMs);
    }
    ticket.release();
  }

  /** `listener`: the lane's own hearer of a warning (ProviderGate.heard), told besides options.onWarning. */
  observe(headers: Headers | undefined, listener?: (text: string) => void): void {
    const seen = readRateHeaders(headers);
    for (const { header, value } of seen.implausible ?? []) {
      if (this.doubted.has(header)) continue;
      this.doubted.add(header);
      const known = header.endsWith('requests') ? this.requests?.limit : this.tokens?.limit;
      const text =
        `the provider stated "${header}: ${value}", not a whole number of ${header.endsWith('requests') ? 'requests' : 'tokens'} per minute in a plausible range: ignored; ` +
          `pacing ${known === undefined ? 'by its 429s' : `at ${known} per minute`} (set llm.providers[].${header.endsWith('requests') ? 'rpm' : 'tpm'} to state the limit).`;
      listener?.(text);
      this.options.onWarning?.(text);
    }
    if (seen.requests) this.requests = adopt(this.requests, lower(this.options.rpm, seen.requests.limit) ?? seen.requests.limit);
    if (seen.tokens) this.tokens = adopt(this.tokens, lower(this.options.tpm, seen.tokens.limit) ?? seen.tokens.limit);
    if (!seen.requests && !seen.tokens) return;
    const limits = { rpm: seen.requests?.limit, tpm: seen.tokens?.limit };
    const said = JSON.stringify(limits);
    if (said !== this.told) {
      this.told = said;
      this.options.onLearned?.(limits);
    }
    this.endProbe();
  }

  private free(): void {
    this.out--;
    this.pump();
  }

  /** Resolves when this request may leave: its lane's turn, a free slot, and the pace. */
  private depart(lane: string, estimate: TokenEstimate | undefined, estimator: (() => Promise<TokenEstimate>) | undefined, signal?: AbortSignal): Promise<Omit<Ticket, 'release'>> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { lane, estimate, estimator, resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          this.remove(waiter);
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
          this.pump();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      let queue = this.lanes.get(lane);
      if (!queue) {
        queue = [];
        this.lanes.set(lane, queue);
        this.turns.push(lane);
      }
      queue.push(waiter);
      this.pump();
    });
  }

  /** The waiter whose turn it is: the first of the lane whose turn it is. */
  private head(): Waiter | undefined {
    const lane = this.turns[0];
    return lane === undefined ? undefined : this.lanes.get(lane)?.[0];
  }

  private remove(waiter: Waiter): void {
    const queue = this.lanes.get(waiter.lane);
    if (!queue) return;
    const at = queue.indexOf(waiter);
    if (at >= 0) queue.splice(at, 1);
    if (queue.length === 0) this.dropLane(waiter.lane);
  }

  private dropLane(lane: string): void {
    this.lanes.delete(lane);
    const turn = this.turns.indexOf(lane);
    if (turn >= 0) this.turns.splice(turn, 1);
  }

  /**
   * Lets out every request that may leave now, lanes in turn. One timer for all the
   * waiting requests: each leaves when the pace says, measured on the clock when it
   * really leaves (a busy event loop that fires timers late never lets a backlog out at once).
   */
  private pump(): void {
    if (this.timer || this.estimating) return;
    for (let head = this.head(); head && this.out < this.limit; head = this.head()) {
      if (this.tokens && !head.estimate && head.estimator) return this.estimateFor(head, head.estimator);
      const now = this.now();
      const due = Math.max(now + this.cooldown.remainingMs, this.requests?.earliest(now) ?? now, this.tokens?.earliest(now) ?? now);
      if (due > now) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, Math.min(due - now, MAX_TIMER_MS));
        return;
      }
      // Its lane goes to the back of the turns (or leaves them, with nothing more waiting).
      const lane = this.turns.shift() as string;
      const queue = this.lanes.get(lane) as Waiter[];
      queue.shift();
      if (queue.length > 0) this.turns.push(lane);
      else this.lanes.delete(lane);
      if (head.onAbort) head.signal?.removeEventListener('abort', head.onAbort);
      // The probe left: if it is not answered soon (a hang, a slow model), the others go
      // anyway, and a 429 among them still corrects the pace once.
      if (this.probing && this.probeTimer === undefined) this.probeTimer = setTimeout(() => this.endProbe(), PROBE_PATIENCE_MS).unref();
      const completion = head.estimate ? Math.max(0, head.estimate.completionAtDeparture?.() ?? head.estimate.completion) : 0;
      const tokens = head.estimate ? Math.ceil(head.estimate.prompt * this.calibration) + completion : 0;
      this.requests?.take(1, now);
      this.tokens?.take(tokens, now);
      this.out++;
      head.resolve({ tokens, completion, promptEstimate: head.estimate?.prompt ?? 0, departedAt: now });
    }
  }

  /** The gate learned a token budget while this request waited: its estimate first, then the queue moves on. */
  private estimateFor(waiter: Waiter, estimator: () => Promise<TokenEstimate>): void {
    this.estimating = true;
    waiter.estimator = undefined;
    estimator().then(
      (estimate) => {
        waiter.estimate = estimate;
      },
      (error: unknown) => {
        this.remove(waiter);
        if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
      },
    ).finally(() => {
      this.estimating = false;
      this.pump();
    });
  }

  /** One 429 that is news: hold everyone for the wait asked, slow the pace, halve the concurrency. */
  private correct(waitMs: number): void {
    this.lastCorrection = this.now();
    this.cooldown.pause(waitMs);
    this.requests?.hold(this.now() + waitMs);
    this.tokens?.hold(this.now() + waitMs);
    if (this.timer) {
      // The timer was set for before the hold: re-arm it for after.
      clearTimeout(this.timer);
      this.timer = undefined;
      this.pump();
    }
    this.requests?.slow();
    this.tokens?.slow();
    this.adaptive = Math.max(1, Math.floor(this.adaptive / 2));
    this.setConcurrency(this.adaptive);
    if (this.told !== '') {
      this.told = '';
      this.options.onLearned?.(undefined);
    }
  }

  private endProbe(): void {
    if (!this.probing) return;
    this.probing = false;
    clearTimeout(this.probeTimer);
    this.adaptive = this.options.maxConcurrency;
    this.setConcurrency(this.adaptive);
  }

  /** Additive increase by answers, not latency: about +1 per round of answers. */
  private grow(): void {
    if (this.adaptive >= this.options.maxConcurrency) return;
    this.adaptive = Math.min(this.options.maxConcurrency, this.adaptive + 1 / this.adaptive);
    this.setConcurrency(this.adaptive);
  }

  private setConcurrency(value: number): void {
    const next = Math.max(1, Math.min(this.options.maxConcurrency, Math.floor(value)));
    if (next === this.limit) return;
    this.limit = next;
    this.pump();
  }
}

interface Waiter {
  lane: string;
  estimate: TokenEstimate | undefined;
  /** Asked for the estimate only if the gate meters tokens when this request's turn comes. */
  estimator: (() => Promise<TokenEstimate>) | undefined;
  resolve: (ticket: Omit<Ticket, 'release'>) => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort?: () => void;
}

function lower(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

function adopt(meter: Meter | undefined, limit: number): Meter {
  if (!meter) return new Meter(limit);
  if (meter.limit !== limit) meter.limit = limit;
  return meter;
}

export function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
