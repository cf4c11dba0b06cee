import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a json destination's body is signed in. */
export const SIGNATURE_HEADER = 'X-Status-Validator-Signature';

/**
 * `sha256=<hex HMAC-SHA256 of the raw body>` under the destination's secret. The body
 * carries its own `sentAt`, so a receiver that checks the signature and refuses a sentAt
 * older than a few minutes refuses a replayed message too (README: "Verifying a json notification").
 */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** What a receiver does (and the tests): constant-time comparison of the header with the body's signature. */
export function verifySignature(body: string, header: string | undefined, secret: string): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header.trim());
  return expected.length === given.length && timingSafeEqual(expected, given);
}
