import { createHash } from 'node:crypto';
import { defaultVerdict } from './responder.js';
import type { Answer, ChatRequest, RespondFn, RowInput } from './types.js';

/**
 * Two models with different error profiles (issue 24), for the cascade: deterministic per row
 * (a hash of the row and a salt, never a random draw) so that a rerun, or a test, sees the same
 * answers.
 *
 * - The large model: the emulator's ground truth (defaultVerdict), wrong on `largeErrors` of
 *   the rows, unsure there (confidence 0.55–0.8), sure elsewhere (0.8–0.99).
 * - The small model, judged against the large one: `easy` of the rows it answers as the large
 *   model does, sure of it (0.86–0.99); `sureMistakes` of the rows it gets wrong while just as
 *   sure (0.86–0.93), so that no threshold is perfect; the rest are hard: it is unsure
 *   (0.3–0.8) and wrong on `hardWrong` of them.
 *
 * Any other model answers as the default responder does.
 */
export interface TwoModelProfile {
  small: string;
  large: string;
  largeErrors?: number;
  easy?: number;
  sureMistakes?: number;
  hardWrong?: number;
}

export const TWO_MODEL_DEFAULTS = { largeErrors: 0.01, easy: 0.855, sureMistakes: 0.005, hardWrong: 0.6 } as const;

/** A number in [0, 1) fixed by the row and the salt. */
export function rowHash(row: RowInput, salt: string): number {
  const digest = createHash('sha256').update(salt).update('\u0000').update(JSON.stringify(row)).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

const between = (u: number, lo: number, hi: number) => Math.round((lo + u * (hi - lo)) * 1000) / 1000;

function flipped(answer: Answer, row: RowInput): Answer {
  return answer.is_valid
    ? { ...answer, is_valid: false, issues: [`The comment "${String(row.comment ?? '').slice(0, 30)}" does not say what is next`] }
    : { ...answer, is_valid: true, issues: [] };
}

/** The large model's answer to a row (the reference the small one is measured against). */
export function largeAnswer(row: RowInput, req: Pick<ChatRequest, 'messages'> | undefined, profile: TwoModelProfile): Answer {
  const truth = defaultVerdict(row, req);
  const wrong = rowHash(row, 'large-wrong') < (profile.largeErrors ?? TWO_MODEL_DEFAULTS.largeErrors);
  const sure = rowHash(row, 'large-confidence');
  return wrong ? { ...flipped(truth, row), confidence: between(sure, 0.55, 0.8) } : { ...truth, confidence: between(sure, 0.8, 0.99) };
}

export function smallAnswer(row: RowInput, req: Pick<ChatRequest, 'messages'> | undefined, profile: TwoModelProfile): Answer {
  const reference = largeAnswer(row, req, profile);
  const easy = profile.easy ?? TWO_MODEL_DEFAULTS.easy;
  const sureMistakes = profile.sureMistakes ?? TWO_MODEL_DEFAULTS.sureMistakes;
  const kind = rowHash(row, 'small-kind');
  const sure = rowHash(row, 'small-confidence');
  if (kind < easy) return { ...reference, confidence: between(sure, 0.86, 0.99) };
  if (kind < easy + sureMistakes) return { ...flipped(reference, row), confidence: between(sure, 0.86, 0.93) };
  const wrong = rowHash(row, 'small-hard-wrong') < (profile.hardWrong ?? TWO_MODEL_DEFAULTS.hardWrong);
  return { ...(wrong ? flipped(reference, row) : reference), confidence: between(sure, 0.3, 0.8) };
}

/** The responder: each request answered as the model it names. */
export function twoModels(profile: TwoModelProfile): RespondFn {
  return (row, req) => (req.model === profile.large ? largeAnswer(row, req, profile) : req.model === profile.small ? smallAnswer(row, req, profile) : defaultVerdict(row, req));
}
