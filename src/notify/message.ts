import type { NotifyFormat } from '../config/index.js';
import type { RunSummary } from '../pipeline/index.js';
import { eventsOf, eventsOfRun, rowLink, type NotifiedRun, type NotifiedTarget } from './run.js';

/** Rows of the newly-INVALID digest a chat message lists before "and N more". */
export const DIGEST_ROWS = 10;
/** Target lines a chat message lists before "and N more targets" (a portfolio of hundreds of tabs). */
const TARGET_LINES = 25;
/** A line's length at most: a long error message must not crowd out the rest. */
const LINE_CHARS = 400;

/** The schema name and version a json receiver dispatches on. */
export const JSON_SCHEMA = 'status-validator.notification/1';

/**
 * The body of one message, by format. Chat messages are `{ "text": … }`, the shape both
 * incoming webhooks document:
 * - Google Chat: https://developers.google.com/workspace/chat/quickstart/webhooks (a Message
 *   resource; `text` with `<url|label>` links, *bold*; at most 32,000 bytes a message,
 *   https://developers.google.com/workspace/chat/api/reference/rest/v1/spaces.messages/create).
 * - Slack: https://api.slack.com/messaging/webhooks (`text`, mrkdwn, `<url|label>` links;
 *   `&`, `<` and `>` escaped as https://api.slack.com/reference/surfaces/formatting#escaping says).
 * Lines and rows are capped, so that a portfolio of many tabs stays far below both limits.
 */
export function messageBody(format: NotifyFormat, run: NotifiedRun, sentAt: Date): string {
  if (format === 'json') return JSON.stringify(jsonPayload(run, sentAt));
  return JSON.stringify({ text: chatText(run, format === 'slack' ? slackEscape : chatEscape) });
}

type Escape = (text: string) => string;

/** Slack's three control characters, escaped as its formatting reference asks. */
const slackEscape: Escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Google Chat reads `<…|…>` as a link: a person's text must not open one, nor close ours. */
const chatEscape: Escape = (text) => text.replace(/</g, '‹').replace(/>/g, '›');

const STATUS_WORDS: Record<RunSummary['status'], string> = {
  completed: 'finished',
  completed_with_errors: 'finished with ERROR rows',
  interrupted: 'interrupted',
  failed: 'FAILED',
};

function headline(run: NotifiedRun): string {
  const events = eventsOfRun(run);
  const what = events.has('failed') ? 'FAILED' : events.has('errors') ? 'finished with ERROR rows' : run.exitCode === 130 ? 'interrupted' : 'finished';
  const invalid = run.targets.reduce((n, t) => n + (t.summary.newlyInvalid?.count ?? 0), 0);
  return `status-validator ${run.trigger} run ${what} (exit ${run.exitCode})${invalid > 0 ? `: ${invalid} ${invalid === 1 ? 'row' : 'rows'} newly INVALID` : ''}`;
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= LINE_CHARS ? flat : `${flat.slice(0, LINE_CHARS - 1)}…`;
}

function targetLine(t: NotifiedTarget, escape: Escape): string {
  const s = t.summary;
  const where = `*${escape(s.target)}* ("${escape(s.sheet)}")`;
  if (t.locked) return `• ${where}: skipped, another run holds its lock (exit 4)`;
  const status = STATUS_WORDS[s.status];
  if (s.fatal) return `• ${where}: ${status} (exit ${t.exitCode}): ${escape(clip(`${s.fatal.message}${s.fatal.hint ? ` Fix: ${s.fatal.hint}` : ''}`))}`;
  const cost = s.llm.costUsd === null ? 'cost unknown' : `$${s.llm.costUsd.toFixed(4)}`;
  const v = s.verdicts;
  return `• ${where}: ${status} (exit ${t.exitCode}), ${s.rows.read} rows read, ${s.rows.asked} asked: ${v.valid} VALID, ${v.invalid} INVALID, ${v.error} ERROR; ${s.writes.rowsWritten} written, ${cost}`;
}

function chatText(run: NotifiedRun, escape: Escape): string {
  const lines = [escape(headline(run))];
  const shown = run.targets.slice(0, TARGET_LINES);
  for (const t of shown) lines.push(targetLine(t, escape));
  if (run.targets.length > shown.length) lines.push(`… and ${run.targets.length - shown.length} more targets`);
  const digest = digestRows(run);
  if (digest.total > 0) {
    lines.push('', `Newly INVALID (${digest.total}):`);
    for (const r of digest.rows) {
      const label = `${r.target} row ${r.row}${r.id ? ` (${r.id})` : ''}`;
      lines.push(`• <${r.link}|${escape(clip(label)).replace(/\|/g, '¦')}>`);
    }
    if (digest.total > digest.rows.length) lines.push(`… and ${digest.total - digest.rows.length} more`);
  }
  return lines.join('\n');
}

interface DigestRow {
  target: string;
  row: number;
  id: string;
  link: string;
}

/** The newly INVALID rows of every target, the first DIGEST_ROWS of them listed. */
function digestRows(run: NotifiedRun): { total: number; rows: DigestRow[] } {
  let total = 0;
  const rows: DigestRow[] = [];
  for (const t of run.targets) {
    const found = t.summary.newlyInvalid;
    if (!found) continue;
    total += found.count;
    for (const r of found.rows) {
      if (rows.length >= DIGEST_ROWS) break;
      rows.push({ target: t.summary.target, row: r.row, id: r.id, link: rowLink(t.summary.spreadsheetId, t.gid, r.row) });
    }
  }
  return { total, rows };
}

/** The json format's body (README: "The json notification"). */
export function jsonPayload(run: NotifiedRun, sentAt: Date): Record<string, unknown> {
  return {
    schema: JSON_SCHEMA,
    sentAt: sentAt.toISOString(),
    trigger: run.trigger,
    group: run.group ?? null,
    exitCode: run.exitCode,
    events: [...eventsOfRun(run)],
    targets: run.targets.map((t) => {
      const s = t.summary;
      return {
        runId: s.runId,
        target: s.target,
        spreadsheetId: s.spreadsheetId,
        sheet: s.sheet,
        status: t.locked ? 'locked' : s.status,
        exitCode: t.exitCode,
        events: [...eventsOf(t)],
        startedAt: s.startedAt,
        endedAt: s.endedAt,
        rows: { read: s.rows.read, asked: s.rows.asked, fromCache: s.rows.fromCache, upToDate: s.rows.upToDate, deferred: s.rows.deferred },
        verdicts: s.verdicts,
        rowsWritten: s.writes.rowsWritten,
        costUsd: s.llm.costUsd,
        error: s.fatal ? { message: s.fatal.message, fix: s.fatal.hint ?? null } : null,
        newlyInvalid: {
          count: s.newlyInvalid?.count ?? 0,
          rows: (s.newlyInvalid?.rows ?? []).map((r) => ({ row: r.row, id: r.id, link: rowLink(s.spreadsheetId, t.gid, r.row) })),
        },
      };
    }),
  };
}
