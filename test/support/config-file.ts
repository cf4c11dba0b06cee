/** Config files for unit tests of loadConfig, and the ConfigError a bad one must raise. */
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/errors.js';

/**
 * Writes into `dir` a service-account key (mode 0600, as loadConfig wants it) and a config.yaml
 * that names it, with the smallest sheets, columns, rules and llm, and `cache` as given.
 */
export function configWithCache(dir: string, cache: Record<string, unknown>): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const key = path.join(dir, 'key.json');
  writeFileSync(key, JSON.stringify({ type: 'service_account', project_id: 'p', private_key_id: 'k', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), client_email: 'bot@p.iam.gserviceaccount.com' }));
  chmodSync(key, 0o600);
  const file = path.join(dir, 'config.yaml');
  writeFileSync(
    file,
    stringify({
      sheets: { spreadsheet_id: '1AbC', sheet: 'Statuses', credentials_file: key },
      columns: { status: 'Status', comment: 'Comment' },
      rules: { allowed_statuses: ['Done'], text: 'Say what is next.' },
      llm: { providers: [{ name: 'primary', model: 'gpt-5-mini' }] },
      cache,
    }),
  );
  return file;
}

/** Runs `fn`, expects a ConfigError and returns it. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}
