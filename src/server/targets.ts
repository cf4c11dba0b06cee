import type { Config } from '../config/index.js';
import type { Caller } from './auth.js';
import type { RunAsk } from './request.js';

/** Which targets a request runs, or the answer that refuses it. */
export type Resolution = { ok: true; targets: Config[] } | { ok: false; status: 404 | 422; body: Record<string, unknown> };

const clip = (text: string) => JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);

/**
 * Maps what a request names to the targets it runs. The Apps Script sends the
 * spreadsheet it is in and the tab it is on; a cron caller may name a target, or none
 * to run them all. A person must end at one target: row ids and per-person limits are
 * per tab. A refusal names the targets of the spreadsheet the caller named (it is in
 * that spreadsheet already) and never another spreadsheet's id; only the machine token
 * (the operator's cron) is told every target.
 */
export function resolveTargets(all: readonly Config[], ask: RunAsk, caller: Caller): Resolution {
  const machine = caller.kind === 'machine';
  const everyTarget = () => (machine ? { targets: all.map((t) => ({ name: t.target.name, spreadsheet_id: t.sheets.spreadsheet_id, sheet: t.sheets.sheet })) } : {});
  // A person starts only what their own sheet names: the Apps Script sends the
  // spreadsheet and the tab it is used in; a bare "target" would let anyone allowed run
  // (and see) any spreadsheet of the server.
  if (!machine && (ask.spreadsheetId === undefined || ask.sheet === undefined)) {
    return refuse(422, 'name the spreadsheet and the tab the request comes from: "spreadsheet_id" and "sheet" (the sheet\'s menu, docs/apps-script.gs, sends both); "target", if sent too, must be that tab\'s', {});
  }
  let candidates = [...all];
  let inBook: Config[] | undefined;
  const ofBook = () => ({ targets: (inBook ?? []).map((t) => ({ name: t.target.name, sheet: t.sheets.sheet })) });
  if (ask.spreadsheetId !== undefined) {
    const id = ask.spreadsheetId;
    inBook = all.filter((t) => t.sheets.spreadsheet_id === id);
    if (inBook.length === 0) {
      return refuse(404, `no target of this server is in the spreadsheet ${clip(id)}: ask the bot's operator to add its tab to the config (targets:)`, everyTarget());
    }
    candidates = inBook;
  }
  if (ask.sheet !== undefined) {
    const tab = ask.sheet;
    const found = tabTargets(candidates, tab);
    if (found.length === 0) {
      const names = candidates.map((t) => `"${t.sheets.sheet}" (target ${t.target.name})`).join(', ');
      return refuse(404, `the tab ${clip(tab)} is not checked by this server; in this spreadsheet it checks ${names}: open one of those tabs and try again`, ofBook());
    }
    candidates = found;
  }
  if (ask.target !== undefined) {
    const wanted = ask.target.toLocaleLowerCase();
    const chosen = candidates.find((t) => t.target.name.toLocaleLowerCase() === wanted);
    if (!machine && !chosen) {
      // A person is on a tab (both are required above): a name that is not that tab's
      // target gets one answer, whether it names another tab's target, another
      // spreadsheet's or none, so that no one learns which names exist elsewhere.
      const mine = candidates.map((t) => `"${t.target.name}"`).join(', ');
      return refuse(422, `the target ${clip(ask.target)} is not the tab ${clip(ask.sheet ?? '')} of this spreadsheet (its target: ${mine}): send no "target", the tab you are on names it`, ofBook());
    }
    if (!chosen) {
      const named = all.find((t) => t.target.name.toLocaleLowerCase() === wanted);
      if (!named) {
        const listed = inBook ? ofBook() : everyTarget();
        const which = inBook ? `; this spreadsheet's targets: ${inBook.map((t) => `"${t.target.name}"`).join(', ')}` : `; the targets: ${all.map((t) => `"${t.target.name}"`).join(', ')}`;
        return refuse(404, `no target is named ${clip(ask.target)}${which}`, listed);
      }
      const where = ask.sheet !== undefined ? `the tab ${clip(ask.sheet)} of this spreadsheet` : 'in this spreadsheet';
      return refuse(422, `the target ${clip(named.target.name)} is not ${where}: send only "target", or the "spreadsheet_id" and "sheet" it checks`, inBook ? ofBook() : {});
    }
    candidates = [chosen];
  }
  if (candidates.length > 1 && !machine) {
    const here = inBook ? ' in this spreadsheet' : '';
    return refuse(422, `this server checks ${candidates.length} targets${here}: name one with "sheet" (the tab, with "spreadsheet_id") or "target"; row ids and limits are per tab`, inBook ? ofBook() : {});
  }
  if (candidates.length > 1 && ask.rows !== undefined) {
    return refuse(422, `"rows" names the rows of one tab: name its target with "target" (or "spreadsheet_id" and "sheet")`, everyTarget());
  }
  return { ok: true, targets: candidates };
}

/**
 * The targets checking a tab of a spreadsheet: its data tab, or its results tab
 * (`output.sheet`: "Validate now" from it runs that target), matched exactly, else as
 * Sheets compares tab names (case-insensitively).
 */
export function targetsOfTab(all: readonly Config[], spreadsheetId: string, tab: string): Config[] {
  return tabTargets(all.filter((t) => t.sheets.spreadsheet_id === spreadsheetId), tab);
}

function tabTargets(candidates: readonly Config[], tab: string): Config[] {
  const tabs = (t: Config) => [t.sheets.sheet, ...(t.output.sheet === undefined ? [] : [t.output.sheet])];
  const found = candidates.filter((t) => tabs(t).includes(tab));
  if (found.length > 0) return found;
  return candidates.filter((t) => tabs(t).some((name) => name.toLocaleLowerCase() === tab.trim().toLocaleLowerCase()));
}

function refuse(status: 404 | 422, error: string, extra: Record<string, unknown>): Resolution {
  return { ok: false, status, body: { error, ...extra } };
}
