/**
 * Conditional format rules and data validation (spreadsheets.batchUpdate requests
 * addConditionalFormatRule, updateConditionalFormatRule, deleteConditionalFormatRule,
 * setDataValidation), as https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/request
 * describes them. Rules are listed per tab, by index. "Only certain formatting types
 * (bold, italic, strikethrough, foreground color, and background color) can be
 * controlled through conditional formatting"
 * (https://developers.google.com/sheets/api/samples/conditional-formatting): any other
 * format field is refused, as Sheets refuses it.
 */
import { decorOf, gridRangeOf, type CfRule } from './decor.js';
import { checkCondition, checkGridRange, isObject, obj, shown, type Fail, type Json } from './grid-range.js';
import type { Spreadsheet } from './workbook.js';

type Handler = (book: Spreadsheet, req: Json, fail: Fail) => Json;

// "Conditional formatting can only apply a subset of formatting: bold, italic, strikethrough,
// foreground color and, background color" (reference: spreadsheets/sheets#BooleanRule).
const TEXT_FORMAT_FIELDS = new Set(['bold', 'italic', 'strikethrough', 'foregroundColor', 'foregroundColorStyle']);
const FORMAT_FIELDS = new Set(['backgroundColor', 'backgroundColorStyle', 'textFormat']);
const COLOR_PARTS = new Set(['red', 'green', 'blue', 'alpha']);

function checkColor(raw: unknown, where: string, fail: Fail): void {
  if (!isObject(raw)) throw fail(`${where} must be a Color.`);
  for (const [k, v] of Object.entries(raw)) {
    if (!COLOR_PARTS.has(k)) throw fail(`Invalid JSON payload received. Unknown name "${k}" at '${where}': Cannot find field.`);
    if (typeof v !== 'number' || v < 0 || v > 1) throw fail(`${where}.${k} must be a number from 0 to 1.`);
  }
}

function checkColorStyle(raw: unknown, where: string, fail: Fail): void {
  const style = obj(raw);
  const kinds = ['rgbColor', 'themeColor'].filter((k) => style[k] !== undefined);
  if (kinds.length !== 1) throw fail(`${where} must set exactly one of rgbColor or themeColor.`);
  if (style['rgbColor'] !== undefined) checkColor(style['rgbColor'], `${where}.rgbColor`, fail);
}

/** The format of a boolean rule: only what conditional formatting can control. */
function checkRuleFormat(raw: unknown, fail: Fail): void {
  const format = obj(raw);
  for (const [k, v] of Object.entries(format)) {
    if (!FORMAT_FIELDS.has(k)) throw fail(`Conditional formatting can only set bold, italic, strikethrough, foreground color and background color, not format.${k}.`);
    if (k === 'backgroundColor') checkColor(v, 'format.backgroundColor', fail);
    if (k === 'backgroundColorStyle') checkColorStyle(v, 'format.backgroundColorStyle', fail);
  }
  for (const [k, v] of Object.entries(obj(format['textFormat']))) {
    if (!TEXT_FORMAT_FIELDS.has(k)) throw fail(`Conditional formatting can only set bold, italic, strikethrough, foreground color and background color, not format.textFormat.${k}.`);
    if (k === 'foregroundColor') checkColor(v, 'format.textFormat.foregroundColor', fail);
    else if (k === 'foregroundColorStyle') checkColorStyle(v, 'format.textFormat.foregroundColorStyle', fail);
    else if (typeof v !== 'boolean') throw fail(`format.textFormat.${k} must be true or false.`);
  }
}

/** A ConditionalFormatRule: ranges on one tab, and exactly one of booleanRule or gradientRule. */
function checkRule(book: Spreadsheet, raw: unknown, fail: Fail): CfRule {
  const rule = obj(raw);
  const ranges = rule['ranges'];
  if (!Array.isArray(ranges) || ranges.length === 0) throw fail('At least one range must be specified.');
  const checked = ranges.map((r, i) => checkGridRange(book, r, fail, `rule.ranges[${i}]`));
  const sheetId = checked[0]?.sheet.sheetId ?? 0;
  if (checked.some((c) => c.sheet.sheetId !== sheetId)) throw fail('All ranges of a conditional format rule must be on the same sheet.');
  const kinds = ['booleanRule', 'gradientRule'].filter((k) => rule[k] !== undefined);
  if (kinds.length !== 1) throw fail(kinds.length === 0 ? 'A conditional format rule must have a booleanRule or a gradientRule.' : "oneof field 'rule' is already set. Cannot set 'gradientRule'");
  const extra = Object.keys(rule).find((k) => k !== 'ranges' && k !== 'booleanRule' && k !== 'gradientRule');
  if (extra !== undefined) throw fail(`Invalid JSON payload received. Unknown name "${extra}" at 'rule': Cannot find field.`);
  if (rule['booleanRule'] !== undefined) {
    const boolean = obj(rule['booleanRule']);
    checkCondition(boolean['condition'], 'conditional formatting', fail);
    if (boolean['format'] === undefined) throw fail('A boolean rule must have a format.');
    checkRuleFormat(boolean['format'], fail);
    return { sheetId, ranges: checked.map((c) => c.span), body: { booleanRule: structuredClone(boolean) } };
  }
  const gradient = obj(rule['gradientRule']);
  if (!isObject(gradient['minpoint']) || !isObject(gradient['maxpoint'])) throw fail('A gradient rule needs a minpoint and a maxpoint.');
  return { sheetId, ranges: checked.map((c) => c.span), body: { gradientRule: structuredClone(gradient) } };
}

function sheetRules(book: Spreadsheet, sheetId: number): CfRule[] {
  return decorOf(book).rules.filter((r) => r.sheetId === sheetId);
}

/** Puts a tab's rules back in the book's list, in their new order. */
function setSheetRules(book: Spreadsheet, sheetId: number, rules: CfRule[]): void {
  const decor = decorOf(book);
  decor.rules = [...decor.rules.filter((r) => r.sheetId !== sheetId), ...rules];
}

function indexIn(raw: unknown, size: number, name: string, fail: Fail, allowEnd: boolean): number {
  const n = raw === undefined ? 0 : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > (allowEnd ? size : size - 1)) {
    throw fail(size === 0 && !allowEnd ? `No conditional format on sheet at index ${shown(n)}` : `Invalid ${name}: ${shown(n)} (the sheet has ${size} conditional format rule${size === 1 ? '' : 's'}).`);
  }
  return n;
}

/** The rule as spreadsheets.get returns it. */
export function ruleJson(rule: CfRule): Json {
  const body = structuredClone(rule.body);
  // Sheets answers each colour in both forms, the old (backgroundColor) and the new (…Style.rgbColor).
  const format = obj(obj(body['booleanRule'])['format']);
  if (isObject(format['backgroundColor']) && format['backgroundColorStyle'] === undefined) format['backgroundColorStyle'] = { rgbColor: format['backgroundColor'] };
  const text = obj(format['textFormat']);
  if (isObject(text['foregroundColor']) && text['foregroundColorStyle'] === undefined) text['foregroundColorStyle'] = { rgbColor: text['foregroundColor'] };
  return { ranges: rule.ranges.map((span) => gridRangeOf(rule.sheetId, span)), ...body };
}

export const formatHandlers: Record<string, Handler> = {
  addConditionalFormatRule(book, req, fail) {
    const rule = checkRule(book, req['rule'], fail);
    const rules = sheetRules(book, rule.sheetId);
    const at = indexIn(req['index'], rules.length, 'index', fail, true);
    rules.splice(at, 0, rule);
    setSheetRules(book, rule.sheetId, rules);
    return {};
  },
  updateConditionalFormatRule(book, req, fail) {
    const sheet = book.sheetById(req['sheetId']);
    if (!sheet) throw fail(`No grid with id: ${shown(req['sheetId'] ?? 0)}`);
    const rules = sheetRules(book, sheet.sheetId);
    const at = indexIn(req['index'], rules.length, 'index', fail, false);
    const kinds = ['rule', 'newIndex'].filter((k) => req[k] !== undefined);
    if (kinds.length !== 1) throw fail(kinds.length === 0 ? 'Either rule or newIndex must be specified.' : "oneof field 'instruction' is already set. Cannot set 'newIndex'");
    const oldRule = rules[at] as CfRule;
    if (req['rule'] !== undefined) {
      const rule = checkRule(book, req['rule'], fail);
      if (rule.sheetId !== sheet.sheetId) throw fail('The rule must be on the same sheet as the rule it replaces; delete it and add it to the other sheet.');
      rules[at] = rule;
      setSheetRules(book, sheet.sheetId, rules);
      return { updateConditionalFormatRule: { oldRule: ruleJson(oldRule), oldIndex: at, newRule: ruleJson(rule), newIndex: at } };
    }
    const to = indexIn(req['newIndex'], rules.length, 'newIndex', fail, false);
    rules.splice(at, 1);
    rules.splice(to, 0, oldRule);
    setSheetRules(book, sheet.sheetId, rules);
    return { updateConditionalFormatRule: { oldRule: ruleJson(oldRule), oldIndex: at, newRule: ruleJson(oldRule), newIndex: to } };
  },
  deleteConditionalFormatRule(book, req, fail) {
    const sheet = book.sheetById(req['sheetId']);
    if (!sheet) throw fail(`No grid with id: ${shown(req['sheetId'] ?? 0)}`);
    const rules = sheetRules(book, sheet.sheetId);
    const at = indexIn(req['index'], rules.length, 'index', fail, false);
    const [removed] = rules.splice(at, 1);
    setSheetRules(book, sheet.sheetId, rules);
    return { deleteConditionalFormatRule: { rule: ruleJson(removed as CfRule) } };
  },
  // "Sets a data validation rule to every cell in the range. To clear validation in a range, call this with no rule specified."
  setDataValidation(book, req, fail) {
    const { sheet, span } = checkGridRange(book, req['range'], fail);
    const box = { r0: span.r0, r1: span.r1 ?? sheet.rowCount, c0: span.c0, c1: span.c1 ?? sheet.columnCount };
    let rule: Json | undefined;
    if (req['rule'] !== undefined) {
      rule = obj(req['rule']);
      checkCondition(rule['condition'], 'data validation', fail);
      const extra = Object.keys(rule).find((k) => !['condition', 'inputMessage', 'strict', 'showCustomUi'].includes(k));
      if (extra !== undefined) throw fail(`Invalid JSON payload received. Unknown name "${extra}" at 'rule': Cannot find field.`);
      rule = structuredClone(rule);
    }
    const decor = decorOf(book);
    // What was there is cut out of the range (the rest of each old rectangle keeps its rule).
    decor.validations = decor.validations.flatMap((v) => (v.sheetId === sheet.sheetId ? subtract(v.span, box).map((s) => ({ ...v, span: s })) : [v]));
    if (rule && box.r1 > box.r0 && box.c1 > box.c0) decor.validations.push({ sheetId: sheet.sheetId, span: box, rule });
    return {};
  },
};

type Box = { r0: number; r1: number; c0: number; c1: number };

/** a minus b, as up to four rectangles. */
function subtract(a: Box, b: Box): Box[] {
  if (b.r0 >= a.r1 || b.r1 <= a.r0 || b.c0 >= a.c1 || b.c1 <= a.c0) return [a];
  const out: Box[] = [];
  if (a.r0 < b.r0) out.push({ ...a, r1: b.r0 });
  if (b.r1 < a.r1) out.push({ ...a, r0: b.r1 });
  const r0 = Math.max(a.r0, b.r0);
  const r1 = Math.min(a.r1, b.r1);
  if (a.c0 < b.c0) out.push({ r0, r1, c0: a.c0, c1: b.c0 });
  if (b.c1 < a.c1) out.push({ r0, r1, c0: b.c1, c1: a.c1 });
  return out;
}
