/**
 * What: `batch submit` with Azure's classic base_url (…/openai/deployments/NAME?api-version=…),
 * which the README's providers table offers for Azure next to "Batch: yes". Azure's Files
 * and Batches belong to the resource, not to a deployment: POST {endpoint}/openai/files and
 * POST {endpoint}/openai/batches, each with ?api-version
 * (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/batch, REST). The azure
 * profile now serves them there, and answers 404 "Resource not found" for any other path
 * under a deployment, as Azure does.
 *
 * Why it is a defect: the bot appends /files and /batches to the deployment URL
 * (/openai/deployments/NAME/files), gets 404 and stops with "has no such model or endpoint
 * … base_url may not be the API root" — the base_url is right and the deployment exists.
 * The batch must be submitted (or, if the bot will not support classic URLs for batches,
 * refused before sending with a message that says to use the /openai/v1/ base_url).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe("Azure's classic deployment URL and the Batch API", () => {
  it('batch submit reaches the resource-level /openai/files and /openai/batches', async () => {
    bed = await startBed({ rows: sampleRows(4), llm: { profile: 'azure' } });
    const origin = new URL(bed.llm.url).origin;
    bed.setConfig({ llm: { providers: [{ name: 'az', kind: 'azure', model: 'gpt-5-mini', base_url: `${origin}/openai/deployments/gpt-5-mini?api-version=2024-10-21`, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const result = await bed.cli(['batch', 'submit', '--config', bed.configPath]);
    expect(result.code, result.stderr).toBe(0);
    expect(bed.llm.batches()).toHaveLength(1);
  });
});
