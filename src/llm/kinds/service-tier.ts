import { factsOf } from './detect.js';
import type { KindFacts, ProviderKind, ServiceTier } from './types.js';

/**
 * OpenAI's advice for flex: "increase default timeout to 15 minutes (from 10 minutes)", since
 * a flex request may queue (https://platform.openai.com/docs/guides/flex-processing). A flex
 * request waits at least this long, whatever llm.request_timeout_seconds says.
 */
export const FLEX_TIMEOUT_MS = 15 * 60_000;

/** The prices an answer is billed at, from the tier the response says served it. */
export type BilledTier = 'standard' | 'flex' | 'priority';

interface TieredProvider {
  name: string;
  base_url: string;
  kind?: ProviderKind | undefined;
  service_tier?: ServiceTier | undefined;
}

/**
 * A `service_tier` the provider's kind does not take is a config problem (exit 2): Gemini,
 * Vertex, Anthropic's layer, Azure deployments and the rest refuse or ignore the field, and a
 * flex that is silently not flex would bill full price for what the config says is half. A
 * `generic` endpoint is unknown by definition (a LiteLLM or Portkey gateway in front of OpenAI
 * passes the field on): the bot sends it and warns; if the endpoint refuses it by name, the
 * learned-field memory drops it (src/llm/kinds/fields.ts) and the answers are billed as
 * served (the response's service_tier), so nothing is paid twice or priced wrong.
 */
export function serviceTierProblems(providers: readonly TieredProvider[], prefix = ''): { problems: Array<{ path: string; message: string; hint: string }>; warnings: string[] } {
  const problems: Array<{ path: string; message: string; hint: string }> = [];
  const warnings: string[] = [];
  providers.forEach((provider, i) => {
    const tier = provider.service_tier;
    if (tier === undefined) return;
    const facts = factsOf(provider);
    const path = `${prefix}llm.providers[${i}].service_tier`;
    if (facts.kind === 'generic') {
      warnings.push(`${path} (${tier}) is sent to provider "${provider.name}", an endpoint of kind generic whose service tiers the bot does not know; if it refuses the field it is dropped and the requests go at its standard tier. Set llm.providers[${i}].kind (openai, groq) if it is one of those.`);
      return;
    }
    if (facts.request.serviceTiers.includes(tier)) return;
    const takes = facts.request.serviceTiers;
    problems.push({
      path,
      message: takes.length === 0 ? `provider "${provider.name}" (${facts.label}, kind ${facts.kind}) has no service tiers: service_tier ${tier} cannot be sent to it` : `provider "${provider.name}" (${facts.label}, kind ${facts.kind}) takes service_tier ${takes.join(' or ')}, not ${tier}`,
      hint: takes.length === 0 ? `Remove service_tier from that provider (flex: OpenAI and Groq offer it), or set its kind if "${facts.kind}" is wrong for ${provider.base_url}.` : `Set service_tier to ${takes.join(' or ')}, or remove it.`,
    });
  });
  return { problems, warnings };
}

/**
 * The prices an answer is billed at, from the response's `service_tier` ("flex", "priority",
 * "default", … — any value, from any server: never throws). Only what the kind bills apart
 * counts: Groq's flex costs what on_demand does.
 */
export function billedTier(served: unknown, facts: Pick<KindFacts, 'request'>): BilledTier {
  if (served === 'flex' && facts.request.flexAtBatchPrices) return 'flex';
  if (served === 'priority' && facts.request.priorityPrices) return 'priority';
  return 'standard';
}

/**
 * Whether a refusal means "no flex capacity now", not a rate limit of the account:
 * OpenAI's 429 "Resource Unavailable" ("you will not be charged"; retry with backoff, or
 * send again at service_tier auto: https://platform.openai.com/docs/guides/flex-processing),
 * Groq's 498 capacity_exceeded (https://console.groq.com/docs/flex-processing). Only a
 * request sent at flex can get one: the same 429 to another request is a rate limit.
 */
export function isFlexCapacity(status: number, body: { code?: unknown; type?: unknown; message?: unknown } | undefined): boolean {
  if (status === 498) return true;
  if (status !== 429 || body === undefined) return false;
  const words = [body.code, body.type, body.message].filter((w): w is string => typeof w === 'string');
  return words.some((w) => /resource[\s_-]?unavailable|capacity/i.test(w)) && !words.some((w) => /insufficient_quota/i.test(w));
}
