/**
 * Review of issue 14: "unknown keys are an error" (DESIGN.md config contract). A
 * single-target file refuses `columns.__proto__`; the same key inside a target is merged
 * by targets.ts mergeOver with `out[key] = …`, which sets the object's prototype instead
 * of a key: check-config says OK, and the prototype's keys even take effect (the target
 * silently reads a "Due" column nobody configured by its name).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** The bed's config with a raw YAML tail (a `__proto__` key cannot be written through a JS object). */
function writeWith(b: Bed, patch: Record<string, unknown>, tail: string): void {
  b.setConfig(patch);
  writeFileSync(b.configPath, `${readFileSync(b.configPath, 'utf8')}${tail}`);
}

describe('a __proto__ key inside a target', () => {
  it('is refused like the same key at the top level', async () => {
    bed = await startBed({ rows: sampleRows(2), moreTabs: [{ title: 'Team B', rows: [HEADER, ...sampleRows(2)] }] });
    // Control: at the top level the key is refused.
    writeWith(bed, { columns: { completion_date: undefined } }, '');
    const top = readFileSync(bed.configPath, 'utf8').replace(/^columns:\n/m, 'columns:\n  __proto__: { completion_date: "Due date" }\n');
    writeFileSync(bed.configPath, top);
    const single = await bed.cli(['check-config', '--config', bed.configPath]);
    expect(single.code).toBe(2);
    expect(single.stderr).toContain('columns.__proto__');

    // The same key in a target.
    writeWith(bed, { columns: { completion_date: undefined } }, `targets:\n  - name: a\n    sheet: ${TAB}\n    columns:\n      __proto__: { completion_date: "Due date" }\n  - name: b\n    sheet: Team B\n`);
    const inTarget = await bed.cli(['check-config', '--config', bed.configPath]);
    expect(inTarget.stdout).not.toContain('OK');
    expect(inTarget.code).toBe(2);
    expect(inTarget.stderr).toContain('__proto__');
  });

  it('a target key named like an Object.prototype member (constructor) is named as itself, not as a garbled sheets path', async () => {
    bed = await startBed({ rows: sampleRows(2), moreTabs: [{ title: 'Team B', rows: [HEADER, ...sampleRows(2)] }] });
    // targets.ts reads SHEETS_KEYS[key] on a plain object: "constructor" finds Object itself.
    bed.setConfig({ targets: [{ name: 'a', sheet: TAB, constructor: 1 }, { name: 'b', sheet: 'Team B' }] });
    const result = await bed.cli(['check-config', '--config', bed.configPath]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('targets[0].constructor');
    expect(result.stderr).not.toContain('native code');
  });
});
