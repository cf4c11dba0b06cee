import type { Store } from '../cache/index.js';
import type { Secrets } from '../config/index.js';
import { redact } from '../errors.js';
import { keepDashboard, type SheetsClient } from '../sheets/index.js';
import type { RunPlan } from './run-plan.js';
import { appendRunsRow } from './sheet-io.js';
import type { RunSummary } from './summary.js';

/** The Runs tab row and the runs table: a failure of either is a warning, not a lost run. */
export async function recordEnd(plan: Pick<RunPlan, 'runsSheet' | 'dashboardSheet'>, secrets: Secrets, store: Store, sheets: SheetsClient, summary: RunSummary): Promise<void> {
  try {
    // A run stopped before it wrote anything (no provider usable, a tab it cannot read)
    // leaves the spreadsheet as it was, Runs tab included; the runs table keeps it.
    const stoppedUnwritten = summary.fatal !== undefined && summary.writes.calls === 0 && summary.writes.headersAdded.length === 0;
    if (plan.runsSheet && !stoppedUnwritten) await appendRunsRow(sheets, plan.runsSheet, summary, secrets);
    // report.dashboard_sheet: its charts follow the Runs tab; what fails there is a warning (keepDashboard never throws).
    if (plan.runsSheet && plan.dashboardSheet && !stoppedUnwritten) summary.warnings.push(...(await keepDashboard(sheets, { runsTab: plan.runsSheet, dashboardTab: plan.dashboardSheet })));
  } catch (error) {
    summary.warnings.push(`could not append this run to the "${plan.runsSheet ?? ''}" tab: ${redact(error instanceof Error ? error.message : String(error), secrets.all)}`);
  }
  try {
    await store.runs.end(summary.runId, summary.status, summary);
  } catch (error) {
    summary.warnings.push(`could not record this run's end in the cache (the verdicts are saved; \`runs\` will show it as running): ${redact(error instanceof Error ? error.message : String(error), secrets.all)}`);
  }
}
