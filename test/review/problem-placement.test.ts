/**
 * Review of issue 14: "check-config reports problems per target, naming it", and the
 * brief's "every user-facing failure names the field/row/target". An extra input that a
 * target sets, whose header is an output header, is reported at the top-level
 * `output.columns.verdict` (which neither the file nor the target sets) and, when every
 * target has that clash, without naming a target or the `targets[i].columns.inputs` key
 * the user has to change (placeProblems sees the problem under the inherited path).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('a target extra input whose header is an output header', () => {
  it('is reported under the target key that sets it', async () => {
    bed = await startBed({ rows: sampleRows(2), moreTabs: [{ title: 'Team B', rows: [HEADER, ...sampleRows(2)] }] });
    bed.setConfig({
      targets: [
        { name: 'a', sheet: TAB, columns: { inputs: { result: 'Validation' } } },
        { name: 'b', sheet: 'Team B', columns: { inputs: { result: 'Validation' } } },
      ],
    });
    const result = await bed.cli(['check-config', '--config', bed.configPath]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Validation');
    expect(result.stderr).toContain('targets[0].columns.inputs.result');
    expect(result.stderr).toContain('targets[1].columns.inputs.result');
  });
});
