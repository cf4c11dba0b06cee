/**
 * Issue 20, item 1: `check-config --online` checks a key with the free call of its
 * provider kind. OpenRouter lists its models to anyone (GET /models needs no key), so a
 * wrong key passes that; its GET /key is what proves one
 * (https://openrouter.ai/docs/api_reference/limits). Azure takes its key in an api-key header.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import type { ProfileName } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

async function profiled(profile: ProfileName, kind: string = profile): Promise<Bed> {
  bed = await startBed({ rows: sampleRows(3), llm: { profile } });
  bed.setConfig({ llm: { providers: [{ name: profile, kind, model: 'gpt-5-mini', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
  return bed;
}

const check = (b: Bed) => b.cli(['check-config', '--config', b.configPath, '--online']);

describe('check-config --online, per provider kind', () => {
  it('openrouter: a wrong key is found by GET /key although GET /models lists models to anyone (exit 2)', async () => {
    const b = await profiled('openrouter');
    b.env.TEST_OPENAI_KEY = 'sk-or-v1-wrong-0123456789';
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toMatch(/PROBLEM +llm\.providers\[0\]\.api_key_env: 127\.0\.0\.1:\d+ refused the key in \$TEST_OPENAI_KEY \(401\)/);
    expect(b.llm.requests.map((r) => r.path)).toContain('/v1/key');
    expect(stdout).not.toContain('sk-or-v1-wrong-0123456789');
  });

  it('openrouter: the right key passes GET /key, then the model is found in the list (exit 0)', async () => {
    const b = await profiled('openrouter');
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/ok +llm\.providers\[0\]\.model: model "gpt-5-mini" is listed/);
  });

  it('generic against the same front: a wrong key slips through GET /models, which is why the kind matters', async () => {
    const b = await profiled('openrouter', 'generic');
    b.env.TEST_OPENAI_KEY = 'sk-or-v1-wrong-0123456789';
    const { stdout } = await check(b);
    expect(b.llm.requests.map((r) => r.path)).not.toContain('/v1/key');
    expect(stdout).not.toMatch(/refused the key/);
  });

  it('azure: the key goes in the api-key header, and is accepted there (exit 0)', async () => {
    const b = await profiled('azure');
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(0);
    const models = b.llm.requests.find((r) => r.path === '/v1/models');
    expect(models?.headers['api-key']).toBeDefined();
    expect(models?.headers.authorization).toBeUndefined();
  });
});
