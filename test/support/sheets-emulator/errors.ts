/** Google-shaped API errors: `{ error: { code, message, status } }`. */

const STATUS_BY_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const DEFAULT_MESSAGE: Record<number, string> = {
  500: 'Internal error encountered.',
  502: 'Bad Gateway',
  503: 'The service is currently unavailable.',
  504: 'The request timed out. Please try again.',
};

export function googleStatus(code: number): string {
  return STATUS_BY_CODE[code] ?? (code >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
}

export function defaultMessage(code: number): string {
  return DEFAULT_MESSAGE[code] ?? `HTTP ${code}`;
}

export interface ErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] };
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly status: string = googleStatus(code),
    readonly details?: unknown[],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message, status: this.status };
    if (this.details) error.details = this.details;
    return { error };
  }
}

export const invalidArgument = (message: string): ApiError => new ApiError(400, message);

export const unparsableRange = (range: string): ApiError => invalidArgument(`Unable to parse range: ${range}`);

export const notFound = (): ApiError => new ApiError(404, 'Requested entity was not found.');

export const permissionDenied = (): ApiError => new ApiError(403, 'The caller does not have permission');

export const unauthenticated = (): ApiError =>
  new ApiError(
    401,
    'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
  );

export function quotaExceeded(kind: 'read' | 'write', limit: number, scope: 'user' | 'project' = 'user'): ApiError {
  const noun = kind === 'read' ? 'Read' : 'Write';
  const metric = `sheets.googleapis.com/${kind}_requests`;
  const limitName = `${noun}RequestsPerMinute${scope === 'user' ? 'PerUser' : ''}`;
  const message =
    `Quota exceeded for quota metric '${noun} requests' and limit '${noun} requests per minute${scope === 'user' ? ' per user' : ''}' ` +
    `of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.`;
  return new ApiError(429, message, 'RESOURCE_EXHAUSTED', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'RATE_LIMIT_EXCEEDED',
      domain: 'googleapis.com',
      metadata: {
        quota_metric: metric,
        quota_limit: limitName,
        quota_limit_value: String(limit),
        quota_location: 'global',
        service: 'sheets.googleapis.com',
        consumer: 'projects/000000000000',
      },
    },
  ]);
}

/**
 * Google's Sheets API "Usage limits" page: "While Sheets API has no hard size limits for
 * an API request, users might experience limits from different processing components not
 * controlled by Google Sheets. To speed up requests, we recommend a 2 MB maximum
 * payload." (https://developers.google.com/sheets/api/limits). The component that does
 * refuse is Google's front end, at 10 MiB, with a 400 whose message is "Request payload
 * size exceeds the limit: 10485760 bytes." (reason badRequest, as reported against the
 * Sheets API in scrt-hq/psgsuite#62 and googleworkspace/dotnet-samples#23).
 */
export const PAYLOAD_LIMIT_BYTES = 10_485_760;

export const payloadTooLarge = (limit: number): ApiError => invalidArgument(`Request payload size exceeds the limit: ${limit} bytes.`);

/**
 * Longest request target (path and query) Google's front end takes. A GET carries its
 * parameters in the URL (values.batchGet: one `ranges=` per range), and the front end
 * refuses a URL past about 8 KB before the API sees it: "HTTP GET requests URLs are
 * limited to 8192 symbols" against Google's APIs (googleapis/google-api-nodejs-client#972,
 * where the maintainers answer that servers stop at about 8k characters and the limit
 * will not change); Google's own Python client turns a GET whose URI passes 2,048
 * characters into a POST with `X-HTTP-Method-Override: GET` (googleapiclient/http.py,
 * MAX_URI_LENGTH), and Sheets importers chunk their ranges to stay under it
 * (dust-tt/dust#4042). The refusal is an HTML page, not a JSON error (below).
 */
export const URL_LIMIT_BYTES = 8192;

/**
 * The page Google's front end answers a URL too long with: status 414 and HTML, not the
 * API's JSON error ("The requested URL … is too large to process. That’s all we know.",
 * as quoted in mohamedmansour/extended-share-extension#36).
 */
export function urlTooLargePage(path: string): string {
  const shown = path.length > 60 ? `${path.slice(0, 60)}...` : path;
  return [
    '<!DOCTYPE html>',
    '<html lang=en>',
    '  <meta charset=utf-8>',
    '  <title>Error 414 (Request-URI Too Large)!!1</title>',
    '  <p><b>414.</b> <ins>That’s an error.</ins>',
    `  <p>The requested URL <code>${shown.replace(/[<>&]/g, '')}</code> is too large to process.  <ins>That’s all we know.</ins>`,
    '',
  ].join('\n');
}
