import type { Database } from 'better-sqlite3';
import type { CalibrationStore } from '../contract.js';
import { settled } from './settled.js';

/** A cascade's calibrations (issue 24): one JSON record per scope. */
export function sqliteCalibrations(db: Database): CalibrationStore {
  const select = db.prepare<[string], { scope: string; record: string; calibrated_at: string }>('SELECT scope, record, calibrated_at FROM calibrations WHERE scope = ?');
  const upsert = db.prepare<[string, string, string]>(
    `INSERT INTO calibrations (scope, record, calibrated_at) VALUES (?, ?, ?)
     ON CONFLICT (scope) DO UPDATE SET record = excluded.record, calibrated_at = excluded.calibrated_at`,
  );
  return {
    get: (scope) =>
      settled(() => {
        const row = select.get(scope);
        return row && { scope: row.scope, record: parsedJson(row.record), calibratedAt: row.calibrated_at };
      }),
    put: (scope, record, calibratedAt) =>
      settled(() => {
        upsert.run(scope, JSON.stringify(record), calibratedAt);
      }),
  };
}

/** A damaged record (a hand edit) reads as null: the cascade calibrates again rather than failing. */
function parsedJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
