/**
 * cache.url holds a password (postgres://user:password@host/db): it is a secret like the
 * API keys. These helpers give the forms redact() must hide and the form messages may show.
 */

/** The URL's password as written and as decoded (either may reach a text); empty when none. */
export function cacheUrlSecrets(url: string | undefined): string[] {
  if (url === undefined || !URL.canParse(url)) return [];
  const { password } = new URL(url);
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
  if (!URL.canParse(url)) return '(cache.url)';
  const shown = new URL(url);
  if (shown.password !== '') shown.password = 'redacted';
  return shown.toString();
}

/** Where the store lives, for messages: the database (cache.url, without its password) or the file. */
export function cacheLocation(cache: { path: string; url?: string | undefined }): string {
  return cache.url === undefined ? cache.path : displayCacheUrl(cache.url);
}
