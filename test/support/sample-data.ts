/**
 * Realistic project status rows for the demo, the emulators run by hand and the
 * benchmarks. Deterministic: row i is always the same.
 */
export const SAMPLE_HEADER = ['Project', 'Status', 'Comment', 'Due date'] as const;

const STATUSES = ['Planned', 'In progress', 'Done', 'Cancelled', 'In progress', 'Blocked'];
const GOOD = [
  'Finished the data migration for the billing service; next we load-test the new cluster and switch traffic by the due date.',
  'Vendor contract signed and kickoff held with the team; next step is the requirements workshop on Monday, then the first draft of the plan.',
  'Released version 2.3 to all customers after the beta; collecting feedback now and the retrospective is scheduled for Friday.',
  'Hiring: two of three engineers onboarded, the third starts next week; training plan shared with the leads and approved.',
  'Security review closed with no blocking findings; remaining minor items are tracked in the backlog and owned by the platform team.',
];
const VAGUE = ['TBD', 'working on it, TBD', 'bad week, unclear', 'see above, unclear', 'in progress, more later, TBD'];

export function sampleRow(i: number, dueBase = Date.UTC(2026, 11, 1)): string[] {
  const id = `PRJ-${String(i + 1).padStart(4, '0')}`;
  const status = STATUSES[i % STATUSES.length] ?? 'Planned';
  const vague = i % 4 === 3;
  const pool = vague ? VAGUE : GOOD;
  const base = pool[i % pool.length] ?? '';
  // A per-row suffix keeps comments distinct, so each row is its own question.
  const comment = `${base} (ref ${id})`;
  const due = new Date(dueBase + (i % 90) * 86_400_000).toISOString().slice(0, 10);
  return [id, status, comment, due];
}

export function sampleRows(count: number): string[][] {
  return Array.from({ length: count }, (_, i) => sampleRow(i));
}

/**
 * A second kind of sheet (issue 14, rows of any shape): a risk register. Its status is the
 * risk level, its comment the mitigation, its date the next review; owner, likelihood and
 * impact are extra inputs (columns.inputs) its rulebook speaks of.
 */
export const RISK_HEADER = ['Risk ID', 'Risk level', 'Mitigation', 'Review by', 'Owner', 'Likelihood', 'Impact'] as const;
export const RISK_LEVELS = ['Low', 'Medium', 'High', 'Critical'] as const;

/** The config's columns for RISK_HEADER. */
export const RISK_COLUMNS = {
  id: 'Risk ID',
  status: 'Risk level',
  comment: 'Mitigation',
  completion_date: 'Review by',
  inputs: { owner: 'Owner', likelihood: 'Likelihood', impact: 'Impact' },
} as const;

/** The risk register's rulebook. The emulated model understands the `"Owner" must not be empty` line. */
export const RISK_RULES = [
  '"Owner" must not be empty: every risk has a named person who answers for it.',
  'Likelihood and Impact are whole numbers from 1 to 5.',
  'The risk level follows Likelihood × Impact: 1-4 Low, 5-9 Medium, 10-16 High, 20-25 Critical.',
  'The mitigation must say what is being done about the risk and by when; "TBD" or "monitoring" alone is not a mitigation.',
  'A High or Critical risk must be reviewed (Review by) within 30 days of today.',
].join('\n');

const MITIGATIONS = [
  'Second supplier qualified; switch-over plan tested in March and signed off by procurement before the review.',
  'Nightly backups restored to staging every Friday; a full failover drill is booked for the end of the quarter.',
  'Two engineers cross-trained on the billing system; runbook written and reviewed by the on-call team last week.',
  'Contract clause for late delivery penalties agreed with the vendor; weekly status call set up until go-live.',
];
const VAGUE_MITIGATIONS = ['TBD', 'monitoring', 'TBD, unclear who'];
const OWNERS = ['Ana Silva', 'Jonas Berg', 'Mei Tanaka', '', 'Olu Adeyemi'];

export function riskRow(i: number, reviewBase = Date.UTC(2026, 11, 1)): string[] {
  const id = `R-${String(i + 1).padStart(3, '0')}`;
  const likelihood = 1 + (i % 5);
  const impact = 1 + ((i * 3) % 5);
  const score = likelihood * impact;
  const level = score >= 20 ? 'Critical' : score >= 10 ? 'High' : score >= 5 ? 'Medium' : 'Low';
  const pool = i % 6 === 5 ? VAGUE_MITIGATIONS : MITIGATIONS;
  const mitigation = `${pool[i % pool.length] ?? ''} (ref ${id})`;
  const review = new Date(reviewBase + (i % 60) * 86_400_000).toISOString().slice(0, 10);
  return [id, level, mitigation, review, OWNERS[i % OWNERS.length] ?? '', String(likelihood), String(impact)];
}

export function riskRows(count: number): string[][] {
  return Array.from({ length: count }, (_, i) => riskRow(i));
}

/**
 * Sample rows for one target of a portfolio: ids that name the target (`A-1`, `A-2`…), so
 * a verdict on another target's row shows, and comments taken from `offset` on, so that
 * targets given different offsets share no cache key.
 */
export function targetRows(prefix: string, count: number, offset: number): string[][] {
  return sampleRows(count + offset).slice(offset).map((row, i) => [`${prefix}-${i + 1}`, ...row.slice(1)]);
}

/** Two rows that differ only by "!!" at the end of the comment: near-duplicates for cache.semantic. */
export const SEMANTIC_FIRST = ['C-1', 'Done', 'Shipped the new invoicing flow to all EU customers; the finance team validates the first month of invoices by Friday.', '2026-12-01'];
export const SEMANTIC_CLOSE = ['C-2', 'Done', 'Shipped the new invoicing flow to all EU customers; the finance team validates the first month of invoices by Friday!!', '2026-12-01'];
