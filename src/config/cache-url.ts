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

/**
 * Query parameters that carry a credential. libpq takes any connection parameter as a query
 * parameter (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS),
 * and node-postgres's pg-connection-string reads `password` and `sslpassword` from the query
 * too; sslkey/sslcert/sslrootcert are file paths, not secrets.
 */
const SECRET_PARAMS = ['password', 'sslpassword'];

/** The URL's password(s) as written and as decoded (either may reach a text); empty when none. */
export function cacheUrlSecrets(url: string | undefined): string[] {
  const parsed = url === undefined ? undefined : parseCacheUrl(url);
  if (url === undefined || !parsed) return [];
  const found: string[] = [];
  const { password } = parsed.url;
  if (password !== '') found.push(password, safeDecode(password));
  for (const [name, value] of parsed.url.searchParams) {
    if (SECRET_PARAMS.includes(name.toLowerCase()) && value !== '') found.push(value, encodeURIComponent(value), ...rawQueryValues(url, name));
  }
  if (found.length === 0) return [];
  return [...new Set([...found, url])].filter((s) => s !== '');
}

/** The value of query parameter `name` exactly as written in the URL (what an echo would show). */
function rawQueryValues(url: string, name: string): string[] {
  const query = url.split('#')[0]?.split('?').slice(1).join('?') ?? '';
  return query
    .split('&')
    .map((pair) => pair.split('='))
    .filter(([key]) => safeDecode(key ?? '').toLowerCase() === name.toLowerCase())
    .map((pair) => pair.slice(1).join('='))
    .filter((value) => value !== '');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A malformed escape: the raw form is the one to hide.
    return text;
  }
}

/** The URL as messages show it: the passwords replaced (the user name, host, port and database kept). */
export function displayCacheUrl(url: string): string {
  const parsed = parseCacheUrl(url);
  if (!parsed) return '(cache.url)';
  const shown = parsed.url;
  if (shown.password !== '') shown.password = 'redacted';
  for (const name of [...new Set([...shown.searchParams.keys()])]) {
    if (SECRET_PARAMS.includes(name.toLowerCase())) shown.searchParams.set(name, 'redacted');
  }
  return parsed.emptyHost ? shown.toString().replace(`@${PLACEHOLDER_HOST}/`, '@/') : shown.toString();
}

/** Where the store lives, for messages: the database (cache.url, without its password) or the file. */
export function cacheLocation(cache: { path: string; url?: string | undefined }): string {
  return cache.url === undefined ? cache.path : displayCacheUrl(cache.url);
}
