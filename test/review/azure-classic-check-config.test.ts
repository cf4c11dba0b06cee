/**
 * What: `check-config --online` with Azure's classic base_url
 * (…/openai/deployments/NAME?api-version=…), which the README offers for Azure. Azure lists
 * a resource's models at GET {endpoint}/openai/models?api-version=… (Models - List,
 * https://learn.microsoft.com/en-us/rest/api/azureopenai/models/list); nothing answers under
 * a deployment's path. The azure profile now serves that list, and 404s other paths under
 * a deployment, as Azure does.
 *
 * Why it is a defect: the bot asks GET /openai/deployments/NAME/models, gets 404 and reports
 * "UNCHECKED … has no GET /models … fix: Check that base_url is the API root" — telling the
 * user to change a base_url that is right, and never checking the key (a wrong api-key then
 * passes the online check). With a wrong key the check must fail naming the key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe("check-config --online and Azure's classic deployment URL", () => {
  it('checks the key (a wrong one fails) and does not call a right base_url wrong', async () => {
    bed = await startBed({ rows: sampleRows(2), llm: { profile: 'azure' } });
    const origin = new URL(bed.llm.url).origin;
    bed.setConfig({ llm: { providers: [{ name: 'az', kind: 'azure', model: 'gpt-5-mini', base_url: `${origin}/openai/deployments/gpt-5-mini?api-version=2024-10-21`, api_key_env: 'TEST_OPENAI_KEY' }] } });
    bed.env['TEST_OPENAI_KEY'] = 'not-the-azure-key-0000000000000000';
    const result = await bed.cli(['check-config', '--online', '--config', bed.configPath]);
    const out = `${result.stdout}\n${result.stderr}`;
    expect(out).not.toMatch(/base_url is the API root/);
    expect(out).toMatch(/TEST_OPENAI_KEY/);
    expect(result.code, out).not.toBe(0);
  });
});

describe("check-config --online and Azure's classic deployment URL, with the right key", () => {
  it('says the key is accepted, and does not call a deployment name a missing model (the list names models)', async () => {
    bed = await startBed({ rows: sampleRows(2), llm: { profile: 'azure' } });
    const origin = new URL(bed.llm.url).origin;
    bed.setConfig({ llm: { providers: [{ name: 'az', kind: 'azure', model: 'prod-mini', base_url: `${origin}/openai/deployments/prod-mini?api-version=2024-10-21`, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const result = await bed.cli(['check-config', '--online', '--config', bed.configPath]);
    const out = `${result.stdout}\n${result.stderr}`;
    expect(out).toMatch(/key in \$TEST_OPENAI_KEY is accepted/);
    expect(out).not.toMatch(/is not among the models/);
    expect(out).not.toMatch(/base_url is the API root/);
    // The models listed came from the resource's list, with the api-version.
    expect(bed.llm.requests.some((r) => r.path === '/v1/models' && r.query?.['api-version'] === '2024-10-21')).toBe(true);
  });
});
