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
