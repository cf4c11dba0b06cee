import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { testPrivateKey, type Bed } from './bed.js';
import { startGoogleTokenEmulator, type GoogleTokenEmulator, type TokenRefusal } from './google-token-emulator.js';

export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
export const BED_ACCOUNT = 'bot@status-validator-test.iam.gserviceaccount.com';

/** Vertex AI's side of a bed: a token endpoint, and the check its OpenAI endpoint makes of a bearer token. */
export interface VertexAuthority {
  tokens: GoogleTokenEmulator;
  /** For the OpenAI emulator's `authorize` option. */
  authorize: (authorization: string | undefined) => TokenRefusal | undefined;
  /** Points the bed's key file at the token endpoint (its token_uri) and, unless told not to, makes its account known there. */
  adopt(bed: Bed, options?: { knownAccount?: boolean }): void;
}

export async function startVertexAuthority(): Promise<VertexAuthority> {
  const tokens = await startGoogleTokenEmulator();
  return {
    tokens,
    authorize: (authorization) => tokens.check(authorization, CLOUD_PLATFORM),
    adopt(bed, options = {}) {
      const keyFile = path.join(bed.dir, 'credentials.json');
      const key = JSON.parse(readFileSync(keyFile, 'utf8')) as Record<string, unknown>;
      writeFileSync(keyFile, JSON.stringify({ ...key, token_uri: tokens.url }), { mode: 0o600 });
      if (options.knownAccount !== false) tokens.addAccount(BED_ACCOUNT, testPrivateKey());
    },
  };
}

/** Vertex's OpenAI-compatible base_url at the emulator (…/v1/projects/{PROJECT}/locations/{LOCATION}/endpoints/openapi). */
export function vertexBaseUrl(bed: Bed): string {
  return `${new URL(bed.llm.url).origin}/v1/projects/status-validator-test/locations/us-central1/endpoints/openapi`;
}
