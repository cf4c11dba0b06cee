import type { LimitFunction } from 'p-limit';
import { GateCore, once, type GateOptions, type GateResult, type Limits, type Ticket, type TokenEstimate } from './gate-core.js';
import type { Cooldown } from './cooldown.js';

export { PROBE_PATIENCE_MS, type GateOptions, type GateResult, type Limits, type Ticket, type TokenEstimate } from './gate-core.js';

/**
 * Everything that paces one provider, shared by all workers of a run (and by every
 * target of a portfolio):
 *  - with a limit known (configured, remembered, or read from the headers), requests
 *    leave evenly at its pace, in requests and in tokens (see {@link Meter});
 *  - with none known, the first request goes alone (a probe) and its headers set the pace,
 *    instead of max_workers blind requests (a provider that states none then gets them);
 *  - at most `concurrency` requests are out at once (max_workers), which the gate lowers
 *    on a 429 and raises by one per round of answers, whatever their latency;
 *  - a 429 corrects the pace, the hold and the concurrency once: the 429s of requests
 *    that had already left before the correction say nothing new;
 *  - the requests waiting to leave are queued per lane (a target of a portfolio: see
 *    {@link lane}) and the lanes take turns, one request each: a target's share of the
 *    provider does not grow with how many workers it queues, so a 50-row tab is done in
 *    its first minute however many 500-row tabs run beside it (one first-come queue
 *    would serve it after every request queued before it).
 */
export class ProviderGate {
  private readonly core: GateCore;
  private readonly laneName: string;
  /** Told, besides the gate's own onWarning, what this view's requests made the gate doubt. */
  private readonly listener: ((text: string) => void) | undefined;

  constructor(options: GateOptions, of?: { gate: ProviderGate; lane: string; onWarning?: ((text: string) => void) | undefined }) {
    this.core = of ? of.gate.core : new GateCore(options);
    this.laneName = of?.lane ?? '';
    this.listener = of?.onWarning;
  }

  /**
   * The same gate (one pace, one concurrency, one queue) seen from one lane: the lanes'
   * waiting requests take turns. A portfolio gives each target its own lane.
   */
  lane(name: string): ProviderGate {
    return new ProviderGate(this.core.options, { gate: this, lane: name });
  }

  /**
   * This lane, also telling `onWarning` what the headers of its own requests made the gate
   * doubt. A gate shared by the runs of a long-lived process (watch, schedule, serve) was
   * built once, before any run: the run whose request showed the doubtful header is the one
   * to carry the warning in its summary. Still said once per gate, whichever run hears it.
   */
  heard(onWarning: (text: string) => void): ProviderGate {
    return new ProviderGate(this.core.options, { gate: this, lane: this.laneName, onWarning });
  }

  /** Whether requests are metered in tokens (a tpm configured or learned): only then is a prompt counted. */
  get metersTokens(): boolean {
    return this.core.metersTokens;
  }

  /** The current concurrency limit (for reports and tests). */
  get concurrency(): number {
    return this.core.limit;
  }

  /** The limits the gate paces at (for reports and tests). */
  get limits(): Limits {
    return this.core.limits;
  }

  get cooldown(): Cooldown {
    return this.core.cooldown;
  }

  /**
   * Waits for this lane's turn, a concurrency slot and the moment the pace lets this
   * request leave, then returns the ticket. The slot stays taken until {@link leave}.
   * `estimate` (the prompt's tokens and max_completion_tokens, as OpenAI counts a
   * request before it runs) is asked for only when the gate meters tokens; its
   * completionAtDeparture, when given, says the completion tokens as the request leaves
   * (the learned answer size: src/llm/reserve.ts), which the ticket carries.
   */
  enter(estimate: TokenEstimate | (() => Promise<TokenEstimate>), signal?: AbortSignal): Promise<Ticket> {
    const entered = this.core.enter(this.laneName, estimate, signal);
    const cap = this.core.options.inFlight;
    return cap ? entered.then((ticket) => withinCap(cap, ticket, signal)) : entered;
  }

  /** Settles a ticket with what happened, and learns from the answer's headers. */
  leave(ticket: Ticket, result: GateResult, headers?: Headers): void {
    this.core.leave(ticket, result, headers, this.listener);
  }

  /** Adopts (or corrects) the limits from the provider's x-ratelimit-* headers (never above a configured one). */
  observe(headers: Headers | undefined): void {
    this.core.observe(headers, this.listener);
  }
}

/**
 * Holds a ticket until the shared ceiling has room; the ticket's release frees both. An
 * abort while waiting gives the gate's slot back at once (and the ceiling's when reached).
 */
function withinCap(cap: LimitFunction, ticket: Ticket, signal: AbortSignal | undefined): Promise<Ticket> {
  return new Promise<Ticket>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      ticket.release();
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    cap(
      () =>
        new Promise<void>((done) => {
          signal?.removeEventListener('abort', onAbort);
          if (settled) return done();
          settled = true;
          resolve({ ...ticket, release: once(() => { ticket.release(); done(); }) });
        }),
    ).catch(() => undefined);
  });
}
