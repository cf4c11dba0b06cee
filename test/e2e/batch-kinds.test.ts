/**
 * Issue 20, item 4: the Batch API where the provider has one, in its own words (the kinds
 * table's batch facts): a whole `run --mode batch` through the Gemini, Groq and Azure
 * profiles, each of which checks the job's endpoint, its lines' url and completion_window
 * as that provider documents. Every verdict right, exit 0, no synchronous call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/commands/context.js';
import { col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import type { ProfileName } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** A clock whose sleeps finish every batch at once: no real waiting. */
function finishingClock(b: Bed): Clock {
  return {
    now: () => new Date(),
    sleep: async () => {
      for (const batch of b.llm.batches()) if (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) await b.llm.advanceBatch(batch.id, 'completed');
    },
  };
}

async function profiled(profile: ProfileName, rows: string[][], acceptedFields?: string[]): Promise<Bed> {
  bed = await startBed({ rows, llm: { profile, ...(acceptedFields ? { acceptedFields } : {}) } });
  bed.setConfig({ llm: { providers: [{ name: `my-${profile}`, kind: profile, model: 'gpt-5-mini', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
  return bed;
}

describe('run --mode batch through a provider with a Batch API of its own', () => {
  it.each([
    ['gemini', '/v1/chat/completions'],
    ['groq', '/v1/chat/completions'],
    ['azure', '/chat/completions'],
  ] as const)('%s: the job in its words, every verdict right, exit 0, nothing asked synchronously', async (profile, endpoint) => {
    const rows = sampleRows(10);
    // An Azure deployment that takes prompt_cache_key (newer ones do: "set the prompt_cache_key
    // parameter", https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/prompt-caching);
    // one that refuses it fails every line of the first job, and the next job leaves it out
    // (test/review/azure-batch-refused-field.test.ts).
    const b = await profiled(profile, rows, profile === 'azure' ? ['prompt_cache_key'] : undefined);
    const result = await b.cli(['run', '--config', b.configPath, '--mode', 'batch', '--every', '1s'], { clock: finishingClock(b) });
    expect(result.code, result.stderr).toBe(0);
    const values = b.values();
    rows.forEach((row, i) => {
      const cells = values[i + 1] ?? [];
      expect({ verdict: cells[col(values, 'Validation')], suggestion: cells[col(values, 'Suggested rewrite')] }, row[0]).toEqual(expectedCells(row));
    });
    expect(b.llm.callCount()).toBe(0);
    const [batch, ...more] = b.llm.batches();
    expect(more).toEqual([]);
    expect(batch?.status).toBe('completed');
    expect(batch?.endpoint).toBe(endpoint);
    expect(batch?.completion_window).toBe('24h');
    // Every line names the job's endpoint and carries only what the kind accepts (Gemini and Groq refuse prompt_cache_key).
    const lines = (b.llm.fileText(batch?.input_file_id ?? '') ?? '').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { url: string; body: Record<string, unknown> });
    expect(lines).toHaveLength(rows.length);
    for (const line of lines) {
      expect(line.url).toBe(endpoint);
      if (profile !== 'azure') expect(line.body).not.toHaveProperty('prompt_cache_key');
    }
  });

  it("the emulator holds each provider to its words: Azure refuses OpenAI's /v1/chat/completions, Groq a window past 7d", async () => {
    const b = await profiled('azure', sampleRows(1));
    const post = (body: unknown) =>
      fetch(`${b.llm.url}/batches`, { method: 'POST', headers: { 'api-key': String(b.env['TEST_OPENAI_KEY']), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const azure = await post({ input_file_id: 'file-x', endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(azure.status).toBe(400);
    expect(await azure.text()).toContain("Supported values are: '/chat/completions'");
    await b.close();
    const g = await profiled('groq', sampleRows(1));
    const groq = await fetch(`${g.llm.url}/batches`, { method: 'POST', headers: { authorization: `Bearer ${String(g.env['TEST_OPENAI_KEY'])}`, 'content-type': 'application/json' }, body: JSON.stringify({ input_file_id: 'file-x', endpoint: '/v1/chat/completions', completion_window: '8d' }) });
    expect(groq.status).toBe(400);
    expect(await groq.text()).toContain("'24h' to '7d'");
  });
});
