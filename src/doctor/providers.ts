import { closest, type Config, type ProviderConfig, type Secrets } from '../config/index.js';
import { LlmError } from '../errors.js';
import { Provider, embeddingModelOf } from '../llm/index.js';
import { finding, type Finding } from './findings.js';

/** A model a provider is asked for, and the config key that names it. */
interface WantedModel {
  model: string;
  key: string;
}

/** The models each provider will be asked for: its own; the routing pair and the embedding model go to the first. */
export function wantedModels(config: Config, index: number): WantedModel[] {
  const provider = config.llm.providers[index];
  if (!provider) return [];
  const routing = index === 0 ? config.llm.routing : undefined;
  // llm.cascade asks its pair of the first provider, as routing does.
  const cascade = index === 0 ? config.llm.cascade : undefined;
  const wanted: WantedModel[] = routing
    ? [
        { model: routing.small, key: 'llm.routing.small' },
        { model: routing.large, key: 'llm.routing.large' },
      ]
    : cascade
      ? [
          { model: cascade.small, key: 'llm.cascade.small' },
          { model: cascade.large, key: 'llm.cascade.large' },
        ]
      : [{ model: provider.model, key: `llm.providers[${index}].model` }];
  if (index === 0 && config.cache.semantic) wanted.push({ model: embeddingModelOf(config), key: 'cache.embedding_model' });
  return wanted.filter((w, i) => wanted.findIndex((o) => o.model === w.model) === i);
}

/**
 * Asks each provider's GET /models (free) with its key: the key, the endpoint and the
 * models in one call per provider. Providers are shared by every target, so the first
 * target's config holds them all.
 */
export async function checkProviders(config: Config, secrets: Secrets, signal?: AbortSignal): Promise<Finding[]> {
  const checks = config.llm.providers.map((provider, index) => checkProvider(config, provider, index, secrets, signal));
  return (await Promise.all(checks)).flat();
}

async function checkProvider(config: Config, provider: ProviderConfig, index: number, secrets: Secrets, signal?: AbortSignal): Promise<Finding[]> {
  const host = hostOf(provider.base_url);
  const scope = `provider "${provider.name}" (${host})`;
  const apiKey = secrets.apiKeys.get(provider.name) ?? '';
  const client = new Provider(provider, { apiKey, serviceAccount: secrets.serviceAccount, timeoutMs: config.llm.request_timeout_seconds * 1000, maxCompletionTokens: 16, promptCacheKey: 'check-config' });
  if (client.facts.auth === 'google-oauth') return checkServiceAccountProvider(client, config, provider, index, secrets, scope, signal);
  // The free call that proves a key is the provider kind's (src/llm/kinds): OpenRouter lists
  // models to anyone, so its GET /key; a Vertex endpoint lists none.
  if (client.facts.keyCheck === 'none') {
    return [finding('unchecked', scope, `${client.facts.label} has no free call that checks a key or lists models, so neither could be checked`, { fix: 'Try a run with --limit 1.' })];
  }
  if (client.facts.keyCheck === 'key') {
    const refused = await client.refusedKey(signal);
    if (refused) return [failure(refused, scope, provider, index, host)];
  }
  let listed: string[];
  try {
    listed = (await client.listModels(signal)).map((id) => id.replace(/^models\//, ''));
  } catch (error) {
    return [failure(error, scope, provider, index, host)];
  }
  if (listed.length === 0) {
    return [finding('unchecked', scope, `${host} accepted the key in $${provider.api_key_env} but its answer listed no models, so the model could not be checked`, { field: `llm.providers[${index}].base_url`, fix: `Check that base_url is the API root (most OpenAI-compatible endpoints end in /v1): ${provider.base_url}.` })];
  }
  const findings: Finding[] = [finding('ok', scope, `the key in $${provider.api_key_env} is accepted (${listed.length} model${listed.length === 1 ? '' : 's'} listed)`, { field: `llm.providers[${index}].api_key_env` })];
  if (client.namesDeployment) {
    // Azure's classic URL: GET /openai/models lists the resource's models, not its deployments
    // (https://learn.microsoft.com/en-us/rest/api/azureopenai/models/list): a deployment's name proves nothing there.
    findings.push(finding('unchecked', scope, `the deployment in base_url is not in the resource's model list (it lists models, not deployments), so it could not be checked`, { field: `llm.providers[${index}].base_url`, fix: 'Try a run with --limit 1.' }));
    return findings;
  }
  for (const { model, key } of wantedModels(config, index)) {
    if (listed.includes(model)) {
      findings.push(finding('ok', scope, `model "${model}" is listed`, { field: key }));
      continue;
    }
    const near = closest(model, listed);
    const some = listed.slice(0, 12).map((m) => `"${m}"`).join(', ');
    findings.push(
      finding('problem', scope, `model "${model}" is not among the models ${host} lists for this key${near ? ` (did you mean "${near}"?)` : ''}`, {
        field: key,
        fix: near ? `Set ${key} to "${near}".` : `Set ${key} to one of the listed models${some ? ` (${some}${listed.length > 12 ? ', …' : ''})` : ''}.`,
      }),
    );
  }
  return findings;
}

/**
 * Vertex AI: its OpenAI endpoint lists no models, so the check obtains an access token for
 * the service account and asks the model one tiny question (a few tokens, billed): that
 * proves the key file, the account's role in the project, the location and the model name.
 */
async function checkServiceAccountProvider(client: Provider, config: Config, provider: ProviderConfig, index: number, secrets: Secrets, scope: string, signal?: AbortSignal): Promise<Finding[]> {
  const account = secrets.serviceAccount.client_email;
  const modelKey = index === 0 && config.llm.routing ? 'llm.routing' : index === 0 && config.llm.cascade ? 'llm.cascade' : `llm.providers[${index}].model`;
  try {
    await client.ping(signal);
  } catch (error) {
    const failed = error instanceof LlmError ? error : undefined;
    const text = failed ? `${failed.message}${failed.hint ? ` ${failed.hint}` : ''}` : String(error);
    if (failed?.kind === 'auth' && /token endpoint/.test(failed.message)) {
      return [finding('problem', scope, `no access token for the service account ${account}: ${failed.message}`, { field: config.sheets.credentials_file ? 'sheets.credentials_file' : 'GOOGLE_APPLICATION_CREDENTIALS', fix: failed.hint ?? 'Download a new JSON key for the service account.' })];
    }
    if (failed?.kind === 'auth') return [finding('problem', scope, failed.message, { field: `llm.providers[${index}].base_url`, fix: failed.hint ?? 'Grant the service account the Vertex AI User role in the project of base_url.' })];
    if (failed?.kind === 'config') return [finding('problem', scope, failed.message, { field: modelKey, fix: failed.hint ?? `Check the model name (Vertex names Gemini models like "google/gemini-2.5-flash").` })];
    return [failure(error, scope, provider, index, hostOf(provider.base_url), text)];
  }
  return [finding('ok', scope, `an access token was obtained for the service account ${account}, and model "${provider.model}" answered a one-line request (a few tokens)`, { field: modelKey })];
}

/** What a failed GET /models says: a wrong key, an endpoint that cannot be reached, or nothing certain. */
function failure(error: unknown, scope: string, provider: ProviderConfig, index: number, host: string, said?: string): Finding {
  const status = error instanceof LlmError ? error.status : undefined;
  const envKey = `llm.providers[${index}].api_key_env`;
  // A 401, or what the provider kind says a wrong key is (Google's 400 API_KEY_INVALID: src/llm/kinds).
  if (error instanceof LlmError && error.kind === 'auth' && status !== undefined && status !== 403) {
    return finding('problem', scope, `${host} refused the key in $${provider.api_key_env} (${status})`, {
      field: envKey,
      fix: `Put a valid key for ${host} in $${provider.api_key_env} (it may be mistyped, revoked, or for another provider).`,
    });
  }
  if (status === undefined) {
    const cause = networkCause(error);
    if (cause.definite) {
      return finding('problem', scope, `${host} cannot be reached: ${cause.text}`, {
        field: `llm.providers[${index}].base_url`,
        fix: `Check llm.providers[${index}].base_url (${provider.base_url}): host, port and http/https; is the server running?`,
      });
    }
    return finding('unchecked', scope, `could not reach ${host}: ${cause.text}`, { fix: 'Check the network connection, then check again.' });
  }
  if (status === 404) {
    return finding('unchecked', scope, `${host} has no GET /models (404), so the key and the model could not be checked`, {
      field: `llm.providers[${index}].base_url`,
      fix: `Check that base_url is the API root (most OpenAI-compatible endpoints end in /v1): ${provider.base_url}.`,
    });
  }
  if (status === 403) {
    return finding('unchecked', scope, `${host} does not let this key list models (403), so the key and the model could not be checked`, {
      fix: `Allow the key in $${provider.api_key_env} to read models, or try a run with --limit 1.`,
    });
  }
  if (said !== undefined) return finding('unchecked', scope, `${host} failed (${status}): ${said}`, { fix: 'Try again in a few minutes.' });
  return finding('unchecked', scope, `${host} failed to list models (${status}), so the key and the model could not be checked`, { fix: 'Try again in a few minutes.' });
}

const DEFINITE: ReadonlyArray<[RegExp, string]> = [
  [/^ECONNREFUSED$/, 'connection refused (nothing listens on that port)'],
  [/^ENOTFOUND$/, 'the host name does not resolve (DNS)'],
  [/^(ERR_TLS_|ERR_SSL_|EPROTO$|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$|ERR_TLS_CERT_ALTNAME_INVALID$)/, 'the TLS handshake failed'],
];

/**
 * Why a request never got an answer, from the error codes along its cause chain. A
 * refused connection, an unknown host and a failed TLS handshake are answers about the
 * configured endpoint; a timeout or a temporary DNS failure says only that the network
 * did not answer now.
 */
export function networkCause(error: unknown): { definite: boolean; text: string } {
  const codes = causeCodes(error);
  for (const [pattern, text] of DEFINITE) {
    const code = codes.find((c) => pattern.test(c));
    if (code !== undefined) return { definite: true, text: `${text} [${code}]` };
  }
  const code = codes[0];
  const timedOut = error instanceof LlmError && /did not answer within/.test(error.message);
  if (timedOut) return { definite: false, text: 'no answer before the timeout' };
  return { definite: false, text: code === undefined ? `the connection failed${innermost(error)}` : `the connection failed [${code}]` };
}

/** The deepest cause's message (": bad port"), or nothing. */
function innermost(error: unknown): string {
  let node = error;
  for (let depth = 0; depth < 8 && typeof node === 'object' && node !== null && (node as { cause?: unknown }).cause !== undefined; depth++) node = (node as { cause?: unknown }).cause;
  return node !== error && node instanceof Error && node.message !== '' ? `: ${node.message}` : '';
}

function causeCodes(error: unknown): string[] {
  return causeChain(error).flatMap((node) => {
    const code = (node as { code?: unknown }).code;
    return typeof code === 'string' ? [code] : [];
  });
}

/** The error, its causes and, for an AggregateError (one per address tried), its errors: each once, a few levels deep. */
function causeChain(error: unknown): object[] {
  const nodes: object[] = [];
  const visit = (node: unknown, depth: number) => {
    if (typeof node !== 'object' || node === null || nodes.includes(node) || depth > 8) return;
    nodes.push(node);
    visit((node as { cause?: unknown }).cause, depth + 1);
    const errors = (node as { errors?: unknown }).errors;
    if (Array.isArray(errors)) for (const inner of errors.slice(0, 16)) visit(inner, depth + 1);
  };
  visit(error, 0);
  return nodes;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
