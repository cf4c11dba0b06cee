/**
 * cache.url holds a password (postgres://user:password@host/db): it is a secret like the
 * API keys. These helpers give the forms redact() must hide and the form messages may show.
 */

/**
 * The URL as node-postgres reads it. A Unix-socket URL may leave the host empty and name the
 * socket's folder in the `host` query parameter (Cloud SQL on Cloud Run:
 * postgres://USER:PASSWORD@/DATABASE?host=/cloudsql/PROJECT:REGION:INSTANCE). The WHATWG URL
 * parser refuses an empty host after credentials; pg-connection-string then parses it again
 * with a placeholder host and takes the host from the query
 * (https://github.com/brianc/node-postgres/blob/master/packages/pg-connection-string/index.js:
 * "The URL is invalid so try again with a dummy host"; "Only set the host if there is no
 * equivalent query param"), and so does this.
 */
export function parseCacheUrl(url: string): { url: URL; emptyHost: boolean } | undefined {
  if (URL.canParse(url)) return { url: new URL(url), emptyHost: false };
  const placeholder = url.replace('@/', `@${PLACEHOLDER_HOST}/`);
  return placeholder !== url && URL.canParse(placeholder) ? { url: new URL(placeholder), emptyHost: true } : undefined;
}

const PLACEHOLDER_HOST = 'empty-host.invalid';

/** postgres:// or postgresql:// with a host, or a socket folder in `host=` (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS). */
export function isPostgresUrl(value: string): boolean {
  const parsed = parseCacheUrl(value);
  if (!parsed) return false;
  const { url, emptyHost } = parsed;
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return false;
  const socket = url.searchParams.get('host') ?? '';
  return socket !== '' || (!emptyHost && url.hostname !== '');
}

/** The URL's password as written and as decoded (either may reach a text); empty when none. */
export function cacheUrlSecrets(url: string | undefined): string[] {
  const parsed = url === undefined ? undefined : parseCacheUrl(url);
  if (url === undefined || !parsed) return [];
  const { password } = parsed.url;
  if (password === '') return [];
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // A malformed escape: the raw form is the one to hide.
  }
  return [...new Set([password, decoded, url])];
}

/** The URL as messages show it: the password replaced (the user name, host, port and database kept). */
export function displayCacheUrl(url: string): string {
  const parsed = parseCacheUrl(url);
  if (!parsed) return '(cache.url)';
  const shown = parsed.url;
  if (shown.password !== '') shown.password = 'redacted';
  return parsed.emptyHost ? shown.toString().replace(`@${PLACEHOLDER_HOST}/`, '@/') : shown.toString();
}

/** Where the store lives, for messages: the database (cache.url, without its password) or the file. */
export function cacheLocation(cache: { path: string; url?: string | undefined }): string {
  return cache.url === undefined ? cache.path : displayCacheUrl(cache.url);
}
