/**
 * What: `batch submit` to an Azure deployment that refuses prompt_cache_key
 * ("Unrecognized request argument supplied: prompt_cache_key", code
 * unrecognized_request_argument: https://learn.microsoft.com/en-us/answers/questions/5555284,
 * the source the azure profile already cites), with no sync run before it to learn that.
 * A batch line's body is an ordinary request: the provider refuses it the same way, and the
 * line lands in the error file (https://platform.openai.com/docs/guides/batch, error_file_id;
 * Azure: https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/batch). The
 * emulator's batch engine used to skip the profile's refusals (kinder than Azure); it now
 * applies them to every line.
 *
 * Why it is a defect: every line fails on the field, `batch results` says so, and nothing
 * is learned from it: the next `batch submit` sends prompt_cache_key again, and the job fails
 * again a day later, forever. Issue 20's "learn, don't fail" must hold for the Batch API:
 * a field refused by name in the error file is remembered and left out of the next lines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('Azure Batch API and a refused field', () => {
  it('a field refused in the error file is left out of the next batch', async () => {
    bed = await startBed({ rows: sampleRows(3), llm: { profile: 'azure' } });
    bed.setConfig({ llm: { providers: [{ name: 'az', kind: 'azure', model: 'gpt-5-mini', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    expect((await bed.cli(['batch', 'submit', '--config', bed.configPath])).code).toBe(0);
    for (const batch of bed.llm.batches()) await bed.llm.advanceBatch(batch.id, 'completed');
    const results = await bed.cli(['batch', 'results', '--config', bed.configPath]);
    expect(results.stdout).toContain('Unrecognized request argument supplied: prompt_cache_key');

    const before = new Set(bed.llm.files().map((f) => f.id));
    expect((await bed.cli(['batch', 'submit', '--config', bed.configPath])).code).toBe(0);
    const lines = bed.llm
      .files()
      .filter((f) => !before.has(f.id))
      .flatMap((f) => (bed?.llm.fileText(f.id) ?? '').split('\n').filter((l) => l.trim() !== ''))
      .map((l) => JSON.parse(l) as { body?: Record<string, unknown> })
      .filter((l) => l.body !== undefined);
    expect(lines.length).toBe(3);
    for (const line of lines) expect(line.body).not.toHaveProperty('prompt_cache_key');
  });
});
