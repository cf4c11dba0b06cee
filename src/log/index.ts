/**
 * `--log-format json` (run, watch, schedule, serve): one JSON object per line on stderr,
 * in the shape Cloud Logging reads from a container's output (`severity`, `message`,
 * `time`; https://cloud.google.com/logging/docs/structured-logging) and the common log
 * shippers take as is; `level` repeats the severity in lower case for those that look
 * for it. The default stays the human line: a timestamp and the text.
 */
export type LogFormat = 'human' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['human', 'json'];

export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

/** Figures a line carries besides its text (run id, target, counts): numbers, texts, booleans, null. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** The severity a human line implies: its "warning:" or "Error:" prefix, a FAILING or FAILED word. */
export function severityOf(text: string): Severity {
  if (/^\s*warning\b/i.test(text)) return 'WARNING';
  if (/^\s*error\b|\bFAILING\b|\bFAILED\b|\binternal error\b/.test(text)) return 'ERROR';
  return 'INFO';
}

/** One log line, ending in a newline, in the chosen format. */
export function formatLog(format: LogFormat, time: Date, text: string, event = 'log', fields: LogFields = {}, severity: Severity = severityOf(text)): string {
  if (format === 'human') return `${time.toISOString()} ${text}\n`;
  const entry: Record<string, unknown> = { time: time.toISOString(), severity, level: severity.toLowerCase(), event, message: text };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined && !(key in entry)) entry[key] = value;
  // JSON.stringify escapes every line break: one object per line, whatever the text holds.
  return `${JSON.stringify(entry)}\n`;
}
