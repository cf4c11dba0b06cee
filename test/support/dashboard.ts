/** What the dashboard tests configure: a Runs tab and a Dashboard tab, Sheets quotas out of the way. */
export const DASHBOARD_REPORT = { sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 }, report: { runs_sheet: 'Runs', dashboard_sheet: 'Dashboard' } };

/** A chart's title, as spreadsheets.get returns its spec. */
export const chartTitle = (chart: Record<string, unknown>): string => String((chart['spec'] as { title?: string }).title);
