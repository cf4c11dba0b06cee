import { redact } from '../errors.js';

/**
 * A webhook URL is a credential: Google Chat's carries `key` and `token` query
 * parameters, Slack's its secret in the path (hooks.slack.com/services/T…/B…/XXXX).
 * Messages, logs and errors name a destination by its format and host only.
 */
export function destinationName(format: string, url: string): string {
  return `${format} webhook at ${hostOf(url)}`;
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host || '(no host)';
  } catch {
    return '(not a URL)';
  }
}

/**
 * Every part of a webhook URL that may be a credential: the whole URL, its user
 * information, every query value and every path segment. redact() scrubs them (those
 * of 6 characters and more) from any text an HTTP client's error may have put them in.
 */
export function urlSecrets(url: string): string[] {
  const out = [url];
  try {
    const parsed = new URL(url);
    out.push(parsed.href, parsed.username, parsed.password, decodeURIComponentSafe(parsed.password));
    for (const value of parsed.searchParams.values()) out.push(value, encodeURIComponent(value));
    if (parsed.search.length > 1) out.push(parsed.search.slice(1));
    // Each query value as written too, and every way of decoding it: URLSearchParams
    // reads '+' as a space, but a receiver echoing the token (`?token=Ab+Cd`) gives it
    // back as written, or percent-decoded with its '+' kept (invariant 7).
    for (const pair of parsed.search.slice(1).split('&')) {
      const raw = pair.slice(pair.indexOf('=') + 1);
      out.push(raw, decodeURIComponentSafe(raw), decodeURIComponentSafe(raw.replace(/\+/g, '%20')), encodeURIComponent(decodeURIComponentSafe(raw)));
    }
    for (const segment of parsed.pathname.split('/')) out.push(segment, decodeURIComponentSafe(segment));
  } catch {
    // Not a URL: the whole text is all there is to scrub.
  }
  // Longest first, so that a segment inside the URL does not break the URL's own match.
  return [...new Set(out.filter((s) => s.length >= 6))].sort((a, b) => b.length - a.length);
}

/** `text` with every credential part of these URLs replaced by [redacted]. */
export function scrub(text: string, urls: readonly string[], more: readonly string[] = []): string {
  return redact(text, [...urls.flatMap(urlSecrets), ...more]);
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
