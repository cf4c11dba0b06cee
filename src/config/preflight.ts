import { cacheUrlSecrets } from './cache-url.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { readServiceAccountKey, type ServiceAccountKey } from '../sheets/credentials.js';
import type { Config } from './load.js';

export interface Secrets {
  serviceAccount: ServiceAccountKey;
  /** API key per provider name. */
  apiKeys: ReadonlyMap<string, string>;
  /** Every secret value, so that `redact()` can scrub them from any text. */
  all: readonly string[];
}

/**
 * Finds the secrets a run needs (the service-account key, each provider's API key) and
 * reports every missing or malformed one at once, naming the key and the fix.
 */
export function loadSecrets(config: Config, env: NodeJS.ProcessEnv): { secrets: Secrets; warnings: string[] } {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const keyFile = config.sheets.credentials_file ?? env.GOOGLE_APPLICATION_CREDENTIALS;
  let serviceAccount: ServiceAccountKey | undefined;
  if (!keyFile) {
    problems.push({
      path: 'sheets.credentials_file',
      message: 'no service-account key: set sheets.credentials_file or the GOOGLE_APPLICATION_CREDENTIALS environment variable',
    });
  } else {
    const check = readServiceAccountKey(keyFile);
    if (check.ok) {
      serviceAccount = check.key;
      warnings.push(...check.warnings);
    } else {
      problems.push({ path: config.sheets.credentials_file ? 'sheets.credentials_file' : 'GOOGLE_APPLICATION_CREDENTIALS', message: check.problem });
    }
  }
  const apiKeys = new Map<string, string>();
  config.llm.providers.forEach((provider, i) => {
    // Vertex AI takes the service account's OAuth tokens: one key file for the sheet and the model.
    if (usesServiceAccount(provider)) {
      // A name other than the default was meant for something: say it is not what authenticates.
      if (provider.api_key_env !== 'OPENAI_API_KEY') warnings.push(`llm.providers[${i}].api_key_env (${provider.api_key_env}) is not read: provider "${provider.name}" is Vertex AI, which takes the service account's access tokens (sheets.credentials_file or GOOGLE_APPLICATION_CREDENTIALS); remove the key`);
      return;
    }
    const value = env[provider.api_key_env];
    if (value === undefined || value.trim() === '') {
      problems.push({
        path: `llm.providers[${i}].api_key_env`,
        message: `environment variable ${provider.api_key_env} is not set; export it with the API key of provider "${provider.name}"`,
      });
    } else {
      apiKeys.set(provider.name, value.trim());
    }
  });
  if (problems.length > 0 || !serviceAccount) throw new ConfigError(config.source.file, problems);
  return {
    // cache.url's password (PostgreSQL) is hidden from every message, log and summary like the keys.
    secrets: { serviceAccount, apiKeys, all: [serviceAccount.private_key, ...apiKeys.values(), ...cacheUrlSecrets(config.cache.url)] },
    warnings,
  };
}

/**
 * Whether a provider authenticates with the Sheets service account (Vertex AI) rather than
 * an API key: `kind: vertex`, or no kind and a *-aiplatform.googleapis.com base_url (as
 * src/llm/kinds/detect.ts detects it).
 */
export function usesServiceAccount(provider: Config['llm']['providers'][number]): boolean {
  if (provider.kind !== undefined) return provider.kind === 'vertex';
  try {
    const host = new URL(provider.base_url).hostname.toLowerCase();
    return host === 'aiplatform.googleapis.com' || host.endsWith('-aiplatform.googleapis.com');
  } catch {
    return false;
  }
}
