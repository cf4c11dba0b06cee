/**
 * Issue 20: `--mode batch` on a provider kind without a Batch API (Ollama, vLLM,
 * Anthropic's OpenAI layer, OpenRouter) says so before anything is sent: exit 2, the
 * provider named, what to do instead. A kind that has one (Groq) submits as before.
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

async function profiled(profile: ProfileName): Promise<Bed> {
  bed = await startBed({ rows: sampleRows(4), llm: { profile } });
  bed.setConfig({ llm: { providers: [{ name: `my-${profile}`, kind: profile, model: 'gpt-5-mini', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
  return bed;
}

describe('--mode batch and the provider kind', () => {
  it.each(['ollama', 'vllm', 'anthropic', 'openrouter'] as const)('%s: not available, exit 2, nothing sent, the sheet untouched', async (profile) => {
    const b = await profiled(profile);
    const before = b.values();
    const result = await b.run('--mode', 'batch', '--every', '1s');
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`Batch API is not available for provider "my-${profile}"`));
    expect(result.stderr).toMatch(/Run without --mode batch/);
    expect(b.llm.requests).toEqual([]);
    expect(b.values()).toEqual(before);
  });

  it('batch submit says the same (exit 2)', async () => {
    const b = await profiled('ollama');
    const result = await b.cli(['batch', 'submit', '--config', b.configPath]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('Batch API is not available for provider "my-ollama"');
  });

  it('azure: a field a sync run learned is refused is left out of the batch lines too', async () => {
    const b = await profiled('azure');
    expect((await b.run('--limit', '1')).code).toBe(0);
    const lines = () => b.llm.files().flatMap((f) => (b.llm.fileText(f.id) ?? '').split('\n').filter((l) => l !== ''));
    const result = await b.cli(['batch', 'submit', '--config', b.configPath]);
    expect(result.code, result.stderr).toBe(0);
    expect(lines().length).toBe(3);
    for (const line of lines()) expect((JSON.parse(line) as { body: Record<string, unknown> }).body).not.toHaveProperty('prompt_cache_key');
  });

  it('groq has one: the rows are submitted as a job', async () => {
    const b = await profiled('groq');
    const result = await b.cli(['batch', 'submit', '--config', b.configPath]);
    expect(result.code, result.stderr).toBe(0);
    expect(b.llm.batches()).toHaveLength(1);
  });
});
