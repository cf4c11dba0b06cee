/**
 * Embedded charts (spreadsheets.batchUpdate addChart, updateChartSpec,
 * deleteEmbeddedObject), as https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/request#AddChartRequest
 * and https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/charts
 * describe them. The emulator checks what a chart's data means: a basicChart's domains
 * and series read ChartSourceRanges, whose "sources" must name existing tabs, lie in the
 * grid, and "exactly one dimension must have a length of 1, and all sources in the list
 * must have the same dimension with length 1". Chart ids are unique in the spreadsheet
 * (an embedded object's id).
 */
import { decorOf, type Chart } from './decor.js';
import { checkGridRange, isObject, obj, shown, type Fail, type Json } from './grid-range.js';
import type { Spreadsheet } from './workbook.js';

type Handler = (book: Spreadsheet, req: Json, fail: Fail) => Json;

// BasicChartType (charts#BasicChartType).
const BASIC_TYPES = new Set(['BAR', 'LINE', 'AREA', 'COLUMN', 'SCATTER', 'COMBO', 'STEPPED_AREA']);
const SPEC_KINDS = ['basicChart', 'pieChart', 'bubbleChart', 'candlestickChart', 'orgChart', 'histogramChart', 'waterfallChart', 'treemapChart', 'scorecardChart'];
const SPEC_FIELDS = new Set([...SPEC_KINDS, 'title', 'subtitle', 'altText', 'fontName', 'hiddenDimensionStrategy', 'backgroundColor', 'backgroundColorStyle', 'maximized', 'titleTextFormat', 'titleTextPosition', 'subtitleTextFormat', 'subtitleTextPosition', 'dataSourceChartProperties', 'filterSpecs', 'sortSpecs']);

function checkSource(book: Spreadsheet, raw: unknown, where: string, fail: Fail): void {
  const sources = obj(obj(raw)['sourceRange'])['sources'];
  if (!Array.isArray(sources) || sources.length === 0) throw fail(`${where}.sourceRange must list at least one source.`);
  let along: 'row' | 'column' | undefined;
  sources.forEach((s, i) => {
    const { sheet, span } = checkGridRange(book, s, fail, `${where}.sourceRange.sources[${i}]`);
    const rows = (span.r1 ?? sheet.rowCount) - span.r0;
    const cols = (span.c1 ?? sheet.columnCount) - span.c0;
    const one: 'row' | 'column' | undefined = cols === 1 ? 'column' : rows === 1 ? 'row' : undefined;
    if (one === undefined || (along !== undefined && one !== along)) {
      throw fail(`Invalid ${where}.sourceRange: exactly one dimension must have a length of 1, and all sources in the list must have the same dimension with length 1.`);
    }
    along = one;
  });
}

function checkSpec(book: Spreadsheet, raw: unknown, fail: Fail): Json {
  if (!isObject(raw)) throw fail('A chart must have a spec.');
  const extra = Object.keys(raw).find((k) => !SPEC_FIELDS.has(k));
  if (extra !== undefined) throw fail(`Invalid JSON payload received. Unknown name "${extra}" at 'spec': Cannot find field.`);
  const kinds = SPEC_KINDS.filter((k) => raw[k] !== undefined);
  if (kinds.length !== 1) throw fail(kinds.length === 0 ? 'ChartSpec must have a chart type set.' : `oneof field 'chart' is already set. Cannot set '${kinds[1] ?? ''}'`);
  if (kinds[0] !== 'basicChart') return structuredClone(raw);
  const basic = obj(raw['basicChart']);
  if (typeof basic['chartType'] !== 'string' || !BASIC_TYPES.has(basic['chartType'])) {
    throw fail(`Invalid value at 'spec.basicChart.chartType' (type.googleapis.com/google.apps.sheets.v4.BasicChartType), ${JSON.stringify(basic['chartType'] ?? null)}`);
  }
  const domains = basic['domains'] ?? [];
  const series = basic['series'] ?? [];
  if (!Array.isArray(domains) || !Array.isArray(series)) throw fail('basicChart.domains and basicChart.series must be lists.');
  if (domains.length > 1) throw fail('Only one domain is supported for this chart type.');
  domains.forEach((d, i) => checkSource(book, obj(d)['domain'], `spec.basicChart.domains[${i}].domain`, fail));
  series.forEach((s, i) => checkSource(book, obj(s)['series'], `spec.basicChart.series[${i}].series`, fail));
  const headers = basic['headerCount'];
  if (headers !== undefined && (typeof headers !== 'number' || !Number.isInteger(headers) || headers < 0)) throw fail('basicChart.headerCount must be a whole number ≥ 0.');
  return structuredClone(raw);
}

/** EmbeddedObjectPosition: on a tab of its own (sheetId), over a tab (overlayPosition), or on a new tab. */
function placeChart(book: Spreadsheet, raw: unknown, fail: Fail): { sheetId: number; position: Json } {
  const position = obj(raw);
  const kinds = ['sheetId', 'overlayPosition', 'newSheet'].filter((k) => position[k] !== undefined);
  if (kinds.length !== 1) throw fail(kinds.length === 0 ? 'The chart position must be specified.' : `oneof field 'location' is already set. Cannot set '${kinds[1] ?? ''}'`);
  if (position['overlayPosition'] !== undefined) {
    const overlay = obj(position['overlayPosition']);
    const anchor = obj(overlay['anchorCell']);
    const sheet = book.sheetById(anchor['sheetId']);
    if (!sheet) throw fail(`No grid with id: ${shown(anchor['sheetId'] ?? 0)}`);
    const row = anchor['rowIndex'] ?? 0;
    const column = anchor['columnIndex'] ?? 0;
    if (typeof row !== 'number' || typeof column !== 'number' || row < 0 || column < 0 || row >= sheet.rowCount || column >= sheet.columnCount) {
      throw fail(`The anchor cell of the chart is outside the grid of sheet ${sheet.sheetId} (${sheet.rowCount} rows, ${sheet.columnCount} columns).`);
    }
    return { sheetId: sheet.sheetId, position: structuredClone(position) };
  }
  if (position['newSheet'] !== undefined) {
    const sheet = book.addSheet({});
    return { sheetId: sheet.sheetId, position: { sheetId: sheet.sheetId } };
  }
  const sheet = book.sheetById(position['sheetId']);
  if (!sheet) throw fail(`No grid with id: ${shown(position['sheetId'])}`);
  return { sheetId: sheet.sheetId, position: { sheetId: sheet.sheetId } };
}

function findChart(book: Spreadsheet, id: unknown, fail: Fail): Chart {
  const chart = decorOf(book).charts.find((c) => c.chartId === id);
  if (!chart) throw fail(`No chart with id: ${shown(id)}`);
  return chart;
}

/** The chart as spreadsheets.get returns it (Sheet.charts[]). */
export function chartJson(chart: Chart): Json {
  return { chartId: chart.chartId, spec: structuredClone(chart.spec), position: structuredClone(chart.position) };
}

export const chartHandlers: Record<string, Handler> = {
  addChart(book, req, fail) {
    const chart = obj(req['chart']);
    const spec = checkSpec(book, chart['spec'], fail);
    const decor = decorOf(book);
    const given = chart['chartId'];
    if (given !== undefined && (typeof given !== 'number' || !Number.isInteger(given) || given < 0)) throw fail('chartId must be a non-negative whole number.');
    if (given !== undefined && decor.charts.some((c) => c.chartId === given)) throw fail(`An object with id ${given} already exists.`);
    const { sheetId, position } = placeChart(book, chart['position'], fail);
    const chartId = typeof given === 'number' ? given : 1_000_000 + decor.charts.reduce((max, c) => Math.max(max, c.chartId - 999_999), 0);
    const added: Chart = { sheetId, chartId, spec, position };
    decor.charts.push(added);
    return { addChart: { chart: chartJson(added) } };
  },
  updateChartSpec(book, req, fail) {
    const chart = findChart(book, req['chartId'], fail);
    chart.spec = checkSpec(book, req['spec'], fail);
    return {};
  },
  deleteEmbeddedObject(book, req, fail) {
    const decor = decorOf(book);
    const chart = findChart(book, req['objectId'], fail);
    decor.charts = decor.charts.filter((c) => c !== chart);
    return {};
  },
};
