import { sampleRow } from '../test/support/sample-data.js';

const PROSE = [
  'Finished the data migration for the billing service and verified the totals against the old system.',
  'Next we load-test the new cluster with production traffic replayed at twice the usual peak.',
  'The vendor confirmed the delivery of the remaining licences; onboarding of the support team starts next week.',
  'Two risks remain open: the dependency on the identity team and the budget approval for the second phase.',
  'We will switch traffic by the due date if the error rate stays under the agreed threshold for three days.',
  'The retrospective found that reviews took too long; we now pair on every change touching the payment flow.',
  'Documentation for the public API is drafted and waiting for a review by the developer relations team.',
];

/** Golden-ratio sequence: evenly spread over [0, 1) in any prefix, and in no simple order. */
function spread(i: number): number {
  return (i * 0.6180339887498949) % 1;
}

/**
 * Rows whose comments range from `minChars` to `maxChars` characters, evenly spread and
 * shuffled (row i always has the same comment): short one-liners next to multi-paragraph
 * reports, so requests cost very different numbers of tokens. English prose, so a real
 * tokenizer sees realistic text.
 */
export function variedRows(count: number, minChars: number, maxChars: number): string[][] {
  return Array.from({ length: count }, (_, i) => {
    const [id = '', status = '', , due = ''] = sampleRow(i);
    const length = Math.round(minChars + (maxChars - minChars) * spread(i + 1));
    const suffix = ` (ref ${id})`;
    let body = '';
    for (let k = i; body.length < length; k++) body += `${PROSE[k % PROSE.length] ?? ''} `;
    return [id, status, `${body.slice(0, Math.max(0, length - suffix.length)).trimEnd()}${suffix}`, due];
  });
}
