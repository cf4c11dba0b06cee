import type { RowInputs } from '../sheets/index.js';

export interface Routing {
  small: string;
  large: string;
  /** Rows scoring at or above this go to the large model. */
  threshold: number;
}

const DATE = /\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|\bweek\s+\d{1,2}\b|\bq[1-4]\b/gi;

/**
 * How hard a row is to judge, 0 to 1: long comments, several dates to reconcile and
 * several parts (sentences, bullets, extra input cells) make a small model likelier to slip.
 */
export function complexity(inputs: RowInputs): number {
  // Extra inputs are more text to judge against the rules: each counts like a part of the comment.
  const text = inputs.extra === undefined ? inputs.comment : [inputs.comment, ...inputs.extra].join('\n');
  const length = Math.min(1, text.length / 600);
  const dates = Math.min(1, (text.match(DATE) ?? []).length / 3);
  const parts = Math.min(1, (text.split(/[\n;•]|\. |\s-\s/).filter((p) => p.trim().length > 3).length - 1) / 4);
  return 0.5 * length + 0.3 * dates + 0.2 * Math.max(0, parts);
}

/** The model a row goes to: the small one for simple rows, the large one for the rest. */
export function routeModel(inputs: RowInputs, routing: Routing): string {
  return complexity(inputs) >= routing.threshold ? routing.large : routing.small;
}
