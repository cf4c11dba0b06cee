import { FatalRunError, type LlmError } from '../errors.js';
import type { Provider } from './provider.js';

/**
 * Which providers a run can still ask: one out of quota, one whose key (or model) was
 * refused and one that cannot be connected to are left out for the rest of the run; when
 * none of a row's providers is left, the run's fatal error says what to fix first.
 */
export class ProviderStanding {
  private readonly exhausted = new Set<string>();
  /** Providers whose key was refused (401/403), by name: skipped for the rest of the run. */
  private readonly dropped = new Map<string, LlmError>();
  /** Providers that could not be connected to (refused, DNS, TLS), by name: given up for the run. */
  private readonly unreachable = new Map<string, LlmError>();

  constructor(
    /** Every provider of the run (a row's route may ask only some of them). */
    private readonly providers: readonly Provider[],
    /** A provider was dropped for the rest of the run: said once per provider. */
    private readonly onDropped: (provider: Provider, error: LlmError) => void,
  ) {}

  unusable(provider: Provider): boolean {
    return this.exhausted.has(provider.name) || this.unreachable.has(provider.name) || this.refusal(provider) !== undefined;
  }

  /** No provider of the run is left: no row can be answered. */
  noneLeft(): boolean {
    return this.providers.every((p) => this.unusable(p));
  }

  /** Why a provider was given up as unreachable, if it was. */
  outage(provider: Provider): LlmError | undefined {
    return this.unreachable.get(provider.name);
  }

  /**
   * Why a provider was dropped: a 401 refuses the key (every model of that provider),
   * a 403 refuses access to one model (the provider's other routed models still work).
   */
  refusal(provider: Provider): LlmError | undefined {
    return this.dropped.get(provider.name) ?? this.dropped.get(modelKey(provider));
  }

  /** Out of quota: left out for the run. */
  exhaust(provider: Provider): void {
    this.exhausted.add(provider.name);
  }

  /** A refused key (or a model that does not exist) dooms only its provider: the run goes on with the others, and says so. */
  drop(provider: Provider, error: LlmError): void {
    if (this.refusal(provider)) return;
    // A 403 or a config error (no such model) concerns one model; a 401 the whole key.
    this.dropped.set(error.status === 403 || error.kind === 'config' ? modelKey(provider) : provider.name, error);
    this.onDropped(provider, error);
  }

  /** An endpoint that cannot be connected to is left out for the run, said once (a fallback may carry on). */
  giveUp(provider: Provider, error: LlmError): void {
    if (this.unreachable.has(provider.name)) return;
    this.unreachable.set(provider.name, error);
    // With no provider left the run stops, and its error says this: a warning would say it twice.
    if (this.providers.some((p) => !this.unusable(p))) this.onDropped(provider, error);
  }

  /** Every provider of the chain is out of quota, refused its key or cannot be reached: no row can be answered. */
  doomed(chain: readonly Provider[], reasons: readonly string[]): FatalRunError {
    const down = chain.filter((p, i) => this.unreachable.has(p.name) && chain.findIndex((q) => q.name === p.name) === i);
    // What to fix first is the first provider's problem: its endpoint, or its key.
    const firstOut = chain.find((p) => this.unreachable.has(p.name) || this.refusal(p) !== undefined);
    if (firstOut && this.unreachable.has(firstOut.name)) {
      // The endpoint is named here (the terminal, the log), never in a cell.
      const each = down.map((p) => `${this.unreachable.get(p.name)?.message ?? ''} (endpoint ${this.unreachable.get(p.name)?.endpoint ?? p.host})`);
      const first = this.unreachable.get(down[0]?.name ?? '');
      const all = new Set(chain.map((p) => p.name)).size === down.length;
      return new FatalRunError(`No provider ${all ? 'can be reached' : 'can answer'}: ${each.join('; ')}.`, {
        hint: `${first?.hint ?? 'Check llm.providers[].base_url.'} The rows not answered keep what they show and are asked on the next run.`,
        cause: first,
      });
    }
    // A refused key is what to fix first: the primary's when it is one of them.
    const refused = chain.map((p) => this.refusal(p)).find((e) => e !== undefined);
    if (refused) return new FatalRunError(refused.message, { hint: refused.hint ?? 'Fix the API key and run again.', cause: refused });
    return new FatalRunError(`No provider can answer: ${reasons.at(-1) ?? 'every provider is out of quota'}.`, {
      hint: 'Add credit to the provider account, or configure a fallback provider under llm.providers.',
    });
  }
}

/** A provider's model, for what is refused per model (a 403) rather than per key. */
function modelKey(provider: Provider): string {
  return `${provider.name}\u0000${provider.model}`;
}
