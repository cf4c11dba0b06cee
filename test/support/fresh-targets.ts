/**
 * The beds the review tests cross "one target" with "a portfolio of two": the sample tab of
 * `rows` rows with no output headers yet (a tab the bot has not written to), alone, or with
 * a second target beside it in the same spreadsheet, Team B, whose rows are its own
 * (targetRows('B', …)): two targets that ask different questions.
 */
import { HEADER, TAB, startBed, type Bed, type ConfigPatch } from './bed.js';
import { sampleRows, targetRows } from './sample-data.js';

export const TEAM_B = 'Team B';

export interface FreshTargets {
  /** The sample tab's rows. */
  rows: number;
  /** Team B's rows and where their inputs start among targetRows' (so that they differ from the sample tab's). */
  teamB: { rows: number; offset: number; target?: ConfigPatch };
  config?: ConfigPatch;
}

export async function freshTargets(portfolio: boolean, options: FreshTargets): Promise<Bed> {
  const { rows, teamB, config } = options;
  const bed = await startBed({
    rows: sampleRows(rows),
    header: [...HEADER],
    ...(config ? { config } : {}),
    ...(portfolio ? { moreTabs: [{ title: TEAM_B, rows: [HEADER, ...targetRows('B', teamB.rows, teamB.offset)] }] } : {}),
  });
  if (portfolio) bed.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B, ...teamB.target }] });
  return bed;
}
