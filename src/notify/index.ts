import type { NotifyDestination } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { deliver, type DeliveryResult } from './deliver.js';
import { messageBody } from './message.js';
import { isDue, type NotifiedRun } from './run.js';
import { SIGNATURE_HEADER, signBody } from './sign.js';
import { destinationName, scrub } from './url.js';

export { eventsOf, eventsOfRun, isDue, rowLink, type NotifiedRun, type NotifiedTarget } from './run.js';
export { jsonPayload, messageBody, DIGEST_ROWS, JSON_SCHEMA } from './message.js';
export { SIGNATURE_HEADER, signBody, verifySignature } from './sign.js';
export { destinationName, scrub, urlSecrets } from './url.js';
export { deliver, MAX_ATTEMPTS, type Delivery, type DeliveryResult } from './deliver.js';

/** All of a run's notifications end within this (invariant 12: a `run` ends at most this much later). */
export const NOTIFY_BUDGET_MS = 15_000;

interface Destination {
  config: NotifyDestination;
  name: string;
  secret: string | undefined;
}

export interface NotifyOptions {
  budgetMs?: number;
  now?: () => Date;
  signal?: AbortSignal | undefined;
}

/**
 * The config's `notify:` destinations, ready to send: a json destination's secret read
 * from its environment variable once, at the start, so that a missing one is a config
 * problem (exit 2) before anything is done rather than a lost message at the end.
 */
export class Notifier {
  private constructor(private readonly destinations: readonly Destination[]) {}

  static fromConfig(file: string, destinations: readonly NotifyDestination[], env: NodeJS.ProcessEnv): Notifier {
    const problems = destinations.flatMap((d, i) => {
      if (d.format !== 'json' || d.secret_env === undefined) return [];
      const secret = env[d.secret_env] ?? '';
      return secret.length >= 16 ? [] : [{ path: `notify[${i}].secret_env`, message: `environment variable ${d.secret_env} must hold the signing secret, at least 16 characters (${secret === '' ? 'it is not set' : 'it is shorter'})` }];
    });
    if (problems.length > 0) throw new ConfigError(file, problems, { hint: 'Generate a secret with: openssl rand -hex 32, and give the receiver the same one.' });
    return new Notifier(destinations.map((config) => ({ config, name: destinationName(config.format, config.url), secret: config.secret_env === undefined ? undefined : env[config.secret_env] })));
  }

  get size(): number {
    return this.destinations.length;
  }

  /**
   * Sends the run's message to every destination whose `on` it meets, all at once, and
   * returns a warning per destination that could not be reached. Never throws, never
   * takes longer than the budget; nothing due: nothing sent, no wait.
   */
  async send(run: NotifiedRun, options: NotifyOptions = {}): Promise<string[]> {
    const due = this.destinations.filter((d) => isDue(d.config.on, run));
    if (due.length === 0) return [];
    const now = options.now ?? (() => new Date());
    // Real time, whatever clock the command runs on: the sockets wait in real time.
    const deadline = Date.now() + (options.budgetMs ?? NOTIFY_BUDGET_MS);
    const results = await Promise.all(
      due.map((d): Promise<DeliveryResult> => {
        const body = messageBody(d.config.format, run, now());
        const headers: Record<string, string> = d.secret === undefined ? {} : { [SIGNATURE_HEADER]: signBody(body, d.secret) };
        return deliver({ name: d.name, url: d.config.url, body, headers }, { deadline, signal: options.signal, secrets: d.secret === undefined ? [] : [d.secret] }).catch(
          (error: unknown): DeliveryResult => ({ name: d.name, ok: false, attempts: 0, reason: scrub(`internal error: ${error instanceof Error ? error.message : String(error)}`, [d.config.url]) }),
        );
      }),
    );
    return results.filter((r) => !r.ok).map((r) => `could not notify the ${r.name}: ${r.reason ?? 'unknown'}; the run itself is not affected`);
  }
}
