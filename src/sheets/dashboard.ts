/**
 * report.dashboard_sheet: a tab of native Sheets charts over the Runs tab, kept by the
 * bot. After each run's row is appended, the Runs tab is read by its headers (never by
 * position: people move its columns), and for every target found in it the dashboard
 * gets a block of numbers (written as numbers, never parsed: the Runs tab's cells are
 * text, which a chart cannot plot) and three charts over that block: the verdicts the
 * sheet shows after each run, the cost of each run, and its errors and retries (429s,
 * 5xx). The block is rewritten each time, so the charts grow with the Runs tab; no
 * formula is written at all (invariant 3).
 *
 * Invariant 11: the tab carries a developer metadata mark (it is the bot's), each chart
 * one (which target and which chart, by chart id). A chart with such a mark is the bot's
 * and is brought to its spec when it differs; any other chart on the tab is a person's
 * and is never touched. A tab of that name without the mark is a person's: the bot
 * writes nothing to it and says so. Everything goes in one atomic batchUpdate; nothing
 * here throws (invariant 12: a dashboard never fails a run).
 * References: https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/charts
 * and https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/request#UpdateCellsRequest
 */
import { createHash } from 'node:crypto';
import { Mutex } from 'async-mutex';
import type { sheets_v4 } from '@googleapis/sheets';
import { quoteSheetName } from './a1.js';
import type { SheetsClient } from './client.js';
import { list, messageOf, textOf } from './column-look.js';
import { normalizeHeader } from './layout.js';
import { OKABE_ITO, VERDICT_LOOKS, rgb } from './palette.js';
import { sameJson } from './same-json.js';

export const DASHBOARD_KEY = 'status-validator.dashboard';
export const CHART_KEY = 'status-validator.chart';

/** The Runs tab's columns the dashboard reads (pipeline/runs-row.ts names them). */
export const RUNS_COLUMNS = {
  started: 'Started (UTC)',
  target: 'Target',
  runId: 'Run id',
  valid: 'Sheet VALID',
  invalid: 'Sheet INVALID',
  needsReview: 'Sheet NEEDS REVIEW',
  error: 'Sheet ERROR',
  reviewer: 'Sheet reviewer verdicts',
  cost: 'Cost (USD)',
  errors: 'Errors',
  retries: 'Retries (429, 5xx)',
} as const;

type Field = keyof typeof RUNS_COLUMNS;

/** One target's block: its columns on the dashboard, in order. */
const BLOCK: ReadonlyArray<{ field: Field; title: string }> = [
  { field: 'started', title: 'Run started (UTC)' },
  { field: 'valid', title: 'VALID' },
  { field: 'invalid', title: 'INVALID' },
  { field: 'needsReview', title: 'NEEDS REVIEW' },
  { field: 'error', title: 'ERROR' },
  { field: 'reviewer', title: "Reviewer's verdicts" },
  { field: 'cost', title: 'Cost (USD)' },
  { field: 'errors', title: 'Rows in ERROR this run' },
  { field: 'retries', title: 'Retries (429, 5xx)' },
];
/** Blocks start right of the charts, one every BLOCK_STRIDE columns. */
export const FIRST_BLOCK_COLUMN = 20;
const BLOCK_STRIDE = BLOCK.length + 1;
/** At most this many runs per target are charted (the latest). */
export const MAX_RUNS = 500;
const CHART_ROWS = 20;

type Role = 'verdicts' | 'cost' | 'errors';
const ROLES: readonly Role[] = ['verdicts', 'cost', 'errors'];

export interface DashboardPlan {
  runsTab: string;
  dashboardTab: string;
}

interface TargetRuns {
  target: string;
  rows: Array<Array<string | number | undefined>>;
}

/**
 * Targets of a portfolio run at once and share one Dashboard tab: each would read "no
 * Dashboard tab" and send addSheet of the same tab, and Sheets refuses all but one batch.
 * Within a process the upkeep of one spreadsheet's dashboard takes turns; across processes
 * (a serve and a watch) a refusal for "already exists" means another got there first: the
 * tab is read again and the batch made again, once.
 */
const turns = new Map<string, Mutex>();
function turnOf(spreadsheetId: string, tab: string): Mutex {
  const key = `${spreadsheetId}\u0000${normalizeHeader(tab)}`;
  let mutex = turns.get(key);
  if (!mutex) turns.set(key, (mutex = new Mutex()));
  return mutex;
}

const FOUND_FIELDS = 'sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),charts(chartId,spec),developerMetadata(metadataId,metadataKey,metadataValue))';

/** Reads the Runs tab and keeps the dashboard; returns warnings (never throws). */
export async function keepDashboard(client: SheetsClient, plan: DashboardPlan): Promise<string[]> {
  try {
    return await turnOf(client.spreadsheetId, plan.dashboardTab).runExclusive(async () => {
      const runs = await client.read(quoteSheetName(plan.runsTab));
      const targets = runsByTarget(runs);
      if (targets.length === 0) return [];
      for (let attempt = 0; ; attempt++) {
        const found = await client.getSheets([], FOUND_FIELDS, `read the "${plan.dashboardTab}" tab's charts`);
        const requests = dashboardRequests(found, plan.dashboardTab, targets);
        if ('warning' in requests) return [requests.warning];
        try {
          await client.batchUpdate(requests.requests, `draw the "${plan.dashboardTab}" tab's charts`);
          return [];
        } catch (error) {
          // Another process added the tab or a chart between the read and the write: what it made is found on the next read.
          if (attempt > 0 || !/already exists/i.test(messageOf(error))) throw error;
        }
      }
    });
  } catch (error) {
    return [`could not update the "${plan.dashboardTab}" tab's charts (the run and its Runs row are kept): ${messageOf(error)}`];
  }
}

/**
 * The Runs tab's rows per target, in the order targets first appear; each target's runs
 * in time order (people sort the tab, newest first or by anything), the latest MAX_RUNS by
 * time. A row is a run only when its Started cell reads as a time and it names its target
 * or its run id: a note a person types in the tab is not a run.
 */
export function runsByTarget(values: readonly string[][]): TargetRuns[] {
  const header = (values[0] ?? []).map((h) => normalizeHeader(textOf(h)));
  const at = (field: Field): number => header.indexOf(normalizeHeader(RUNS_COLUMNS[field]));
  if (at('started') < 0) return [];
  const cell = (row: readonly string[], i: number): string => (i < 0 ? '' : textOf(row[i]).trim());
  const byTarget = new Map<string, TargetRuns & { times: number[] }>();
  for (const row of values.slice(1)) {
    if (!Array.isArray(row)) continue;
    const started = cell(row, at('started'));
    const time = timeOf(started);
    const target = cell(row, at('target'));
    if (time === undefined || (target === '' && cell(row, at('runId')) === '')) continue;
    let entry = byTarget.get(target);
    if (!entry) byTarget.set(target, (entry = { target, rows: [], times: [] }));
    entry.rows.push(BLOCK.map(({ field }) => (field === 'started' ? started : numberOf(cell(row, at(field))))));
    entry.times.push(time);
  }
  return [...byTarget.values()].map(({ target, rows, times }) => {
    // A stable sort by time: runs of the same instant keep the tab's order.
    const order = rows.map((_, i) => i).sort((a, b) => (times[a] as number) - (times[b] as number));
    return { target, rows: order.slice(-MAX_RUNS).map((i) => rows[i] as TargetRuns['rows'][number]) };
  });
}

/**
 * A Started cell as a time (ms), or undefined. The bot writes ISO 8601 times; a person may
 * have let Sheets show them another way ("12/5/2026 0:49:21"). A text without a four-digit
 * year is not a time, though Date.parse would read "Note 1" as one.
 */
export function timeOf(text: string): number | undefined {
  if (!/\b\d{4}\b|^\d{4}-/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

function numberOf(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

type Request = sheets_v4.Schema$Request;

export function dashboardRequests(sheets: sheets_v4.Schema$Sheet[], title: string, targets: TargetRuns[]): { requests: Request[] } | { warning: string } {
  // By its mark first: a person may rename the bot's tab, and it is still the bot's (invariant 11); by its name only when no tab carries the mark.
  const marked = list(sheets).find((s) => list(s?.developerMetadata).some((m) => m?.metadataKey === DASHBOARD_KEY));
  const sheet = marked ?? list(sheets).find((s) => normalizeHeader(textOf(s?.properties?.title)) === normalizeHeader(title));
  const requests: Request[] = [];
  const rowsNeeded = Math.max(targets.length * CHART_ROWS, ...targets.map((t) => t.rows.length + 2));
  const columnsNeeded = FIRST_BLOCK_COLUMN + targets.length * BLOCK_STRIDE;
  let sheetId: number;
  if (!sheet) {
    // An id of its own, so that the same batch can place charts on the new tab.
    sheetId = Number.parseInt(createHash('sha256').update(title).digest('hex').slice(0, 7), 16);
    if (list(sheets).some((s) => s?.properties?.sheetId === sheetId)) sheetId += 1;
    requests.push({ addSheet: { properties: { sheetId, title, gridProperties: { rowCount: Math.max(1000, rowsNeeded), columnCount: columnsNeeded } } } });
    requests.push({ createDeveloperMetadata: { developerMetadata: { metadataKey: DASHBOARD_KEY, metadataValue: 'dashboard', visibility: 'DOCUMENT', location: { sheetId } } } });
  } else {
    sheetId = typeof sheet.properties?.sheetId === 'number' ? sheet.properties.sheetId : 0;
    if (!list(sheet.developerMetadata).some((m) => m?.metadataKey === DASHBOARD_KEY)) {
      return { warning: `the "${title}" tab is not the bot's (someone made a tab of that name): no charts were drawn; set report.dashboard_sheet to a tab name not in use` };
    }
    const grid = sheet.properties?.gridProperties;
    const rowCount = typeof grid?.rowCount === 'number' ? grid.rowCount : 0;
    const columnCount = typeof grid?.columnCount === 'number' ? grid.columnCount : 0;
    if (rowCount < rowsNeeded) requests.push({ appendDimension: { sheetId, dimension: 'ROWS', length: rowsNeeded - rowCount } });
    if (columnCount < columnsNeeded) requests.push({ appendDimension: { sheetId, dimension: 'COLUMNS', length: columnsNeeded - columnCount } });
  }
  const marks = list(sheet?.developerMetadata).filter((m) => m?.metadataKey === CHART_KEY);
  const charts = list(sheet?.charts).filter((c) => c !== null && typeof c === 'object');
  targets.forEach((runs, k) => {
    const first = FIRST_BLOCK_COLUMN + k * BLOCK_STRIDE;
    requests.push({ updateCells: { range: { sheetId, startRowIndex: 0, startColumnIndex: first, endColumnIndex: first + BLOCK.length }, rows: blockRows(runs), fields: 'userEnteredValue' } });
    ROLES.forEach((role, j) => {
      const spec = chartSpec(role, runs.target, sheetId, first);
      const mark = marks.find((m) => sameMark(m.metadataValue, runs.target, role));
      const chartId = markedChart(mark?.metadataValue);
      const existing = charts.find((c) => c.chartId === chartId && chartId !== undefined);
      if (existing) {
        if (!sameJson(existing.spec, spec)) requests.push({ updateChartSpec: { chartId: existing.chartId ?? null, spec } });
        return;
      }
      // The bot's chart is gone (or never was): drawn again, its mark replaced.
      if (mark?.metadataId != null) requests.push({ deleteDeveloperMetadata: { dataFilter: { developerMetadataLookup: { metadataId: mark.metadataId } } } });
      const id = freshChartId(sheetId, runs.target, role, charts);
      requests.push({ addChart: { chart: { chartId: id, spec, position: { overlayPosition: { anchorCell: { sheetId, rowIndex: k * CHART_ROWS, columnIndex: j * 6 }, widthPixels: 560, heightPixels: 360 } } } } });
      requests.push({ createDeveloperMetadata: { developerMetadata: { metadataKey: CHART_KEY, metadataValue: JSON.stringify({ target: runs.target, chart: role, chartId: id }), visibility: 'DOCUMENT', location: { sheetId } } } });
    });
  });
  return { requests };
}

function sameMark(value: string | null | undefined, target: string, role: Role): boolean {
  try {
    const parsed = JSON.parse(value ?? '') as { target?: unknown; chart?: unknown };
    return parsed.target === target && parsed.chart === role;
  } catch {
    return false;
  }
}

function markedChart(value: string | null | undefined): number | undefined {
  try {
    const id = (JSON.parse(value ?? '') as { chartId?: unknown }).chartId;
    return typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A chart id from what the chart is (so two runs racing would pick the same), clear of the tab's charts. */
function freshChartId(sheetId: number, target: string, role: Role, charts: sheets_v4.Schema$EmbeddedChart[]): number {
  let id = Number.parseInt(createHash('sha256').update(`${sheetId}\u0000${target}\u0000${role}`).digest('hex').slice(0, 7), 16);
  while (charts.some((c) => c.chartId === id)) id += 1;
  return id;
}

function blockRows(runs: TargetRuns): sheets_v4.Schema$RowData[] {
  const text = (s: string): sheets_v4.Schema$CellData => ({ userEnteredValue: { stringValue: s } });
  return [
    { values: [text(runs.target === '' ? 'Runs' : `Runs of ${runs.target}`)] },
    { values: BLOCK.map((b) => text(b.title)) },
    ...runs.rows.map((row) => ({ values: row.map((v): sheets_v4.Schema$CellData => (v === undefined ? {} : typeof v === 'number' ? { userEnteredValue: { numberValue: v } } : text(v))) })),
  ];
}

const fillOf = (text: string): string => VERDICT_LOOKS.find((l) => l.text === text)?.fill ?? OKABE_ITO.black;

/** The same colour for a verdict in the charts as in the verdict column. */
const SERIES_COLOURS: Partial<Record<Field, string>> = {
  valid: fillOf('VALID'),
  invalid: fillOf('INVALID'),
  needsReview: fillOf('NEEDS REVIEW'),
  error: fillOf('ERROR'),
  reviewer: OKABE_ITO.skyBlue,
  cost: OKABE_ITO.blue,
  errors: OKABE_ITO.black,
  retries: OKABE_ITO.orange,
};

/** A chart over one block: the run start as domain, the role's columns as series, row 2 of the block as their names. */
export function chartSpec(role: Role, target: string, sheetId: number, first: number): sheets_v4.Schema$ChartSpec {
  const column = (field: Field): sheets_v4.Schema$ChartData => {
    const i = BLOCK.findIndex((b) => b.field === field);
    // From the block's header row down, open-ended: the chart grows as runs are added.
    return { sourceRange: { sources: [{ sheetId, startRowIndex: 1, startColumnIndex: first + i, endColumnIndex: first + i + 1 }] } };
  };
  const fields: Field[] = role === 'verdicts' ? ['valid', 'invalid', 'needsReview', 'error', 'reviewer'] : role === 'cost' ? ['cost'] : ['errors', 'retries'];
  const of = target === '' ? '' : ` — ${target}`;
  const title = role === 'verdicts' ? `What the sheet shows after each run${of}` : role === 'cost' ? `Cost per run (USD)${of}` : `Errors and retries (429, 5xx) per run${of}`;
  return {
    title,
    basicChart: {
      chartType: role === 'cost' ? 'LINE' : 'COLUMN',
      ...(role === 'verdicts' ? { stackedType: 'STACKED' } : {}),
      legendPosition: 'BOTTOM_LEGEND',
      headerCount: 1,
      axis: [
        { position: 'BOTTOM_AXIS', title: 'Run started (UTC)' },
        { position: 'LEFT_AXIS', title: role === 'verdicts' ? 'Rows' : role === 'cost' ? 'USD' : 'Count' },
      ],
      domains: [{ domain: column('started') }],
      series: fields.map((field) => ({ series: column(field), targetAxis: 'LEFT_AXIS', colorStyle: { rgbColor: rgb(SERIES_COLOURS[field] ?? OKABE_ITO.black) } })),
    },
  };
}
