import type { CalibrationStore, StoredCalibration } from '../contract.js';
import type { Db } from './db.js';
import { parsedJson } from './json.js';

/** A cascade's calibrations (issue 24), as SQLite keeps them: one JSON text per scope. */
export class PostgresCalibrations implements CalibrationStore {
  constructor(private readonly db: Db) {}

  async get(scope: string): Promise<StoredCalibration | undefined> {
    const [row] = await this.db.rows<{ scope: string; record: string; calibrated_at: string }>('SELECT scope, record, calibrated_at FROM calibrations WHERE scope = $1', [scope]);
    return row && { scope: row.scope, record: parsedJson(row.record), calibratedAt: row.calibrated_at };
  }

  async put(scope: string, record: unknown, calibratedAt: string): Promise<void> {
    await this.db.query(
      `INSERT INTO calibrations (scope, record, calibrated_at) VALUES ($1, $2, $3)
       ON CONFLICT (scope) DO UPDATE SET record = excluded.record, calibrated_at = excluded.calibrated_at`,
      [scope, JSON.stringify(record), calibratedAt],
    );
  }
}
