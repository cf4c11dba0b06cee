import { readFileSync, statSync } from 'node:fs';

export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  /** The OAuth token endpoint of the key (Vertex AI's access tokens are asked there). */
  token_uri?: string;
}

export type KeyCheck =
  | { ok: true; key: ServiceAccountKey; warnings: string[] }
  | { ok: false; problem: string };

/**
 * Reads a Google service-account key file and checks its shape. Never returns the key
 * material in a message: problems name the file and the missing field only.
 */
export function readServiceAccountKey(file: string): KeyCheck {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      problem:
        code === 'ENOENT'
          ? `the service-account key file ${file} does not exist; download a JSON key for the service account (Google Cloud console → IAM → Service accounts → Keys) and point credentials_file at it`
          : `the service-account key file ${file} cannot be read (${code ?? 'unknown error'})`,
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, problem: `${file} is not JSON; expected a service-account key file as downloaded from Google Cloud` };
  }
  const record = (parsed ?? {}) as Record<string, unknown>;
  if (record.type !== 'service_account') {
    const what = typeof record.type === 'string' ? `a "${record.type}" credential` : 'not a service-account key';
    return { ok: false, problem: `${file} is ${what}; expected a JSON key with "type": "service_account" (an OAuth client secret or user credential will not work)` };
  }
  for (const field of ['client_email', 'private_key'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') {
      return { ok: false, problem: `${file} has no "${field}"; download a fresh JSON key for the service account` };
    }
  }
  if (!String(record.private_key).includes('PRIVATE KEY')) {
    return { ok: false, problem: `${file}: "private_key" is not a PEM private key; download a fresh JSON key` };
  }
  const warnings: string[] = [];
  try {
    const mode = statSync(file).mode;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      warnings.push(`${file} can be read by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
    }
  } catch {
    // The file was readable a moment ago; a failing stat only loses the warning.
  }
  return { ok: true, key: record as unknown as ServiceAccountKey, warnings };
}
