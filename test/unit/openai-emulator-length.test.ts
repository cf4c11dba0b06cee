import OpenAI from 'openai';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { sizeAnswer } from '../support/openai-emulator/length.js';
import { defaultVerdict, startOpenAIEmulator, type OpenAIEmulator, type OpenAIEmulatorOptions, type RowInput } from '../support/openai-emulator/index.js';

const API_KEY = 'sk-test-emulator-key-0123456789abcd';
const ROW: RowInput = { id: 'P-001', status: 'Done', comment: 'Shipped the API; next: docs by 2026-12-01', completion_date: '2026-12-01' };

let emu: OpenAIEmulator | undefined;

async function start(opts: OpenAIEmulatorOptions = {}): Promise<{ emu: OpenAIEmulator; client: OpenAI }> {
  emu = await startOpenAIEmulator({ apiKey: API_KEY, ...opts });
  return { emu, client: new OpenAI({ apiKey: API_KEY, baseURL: emu.url, maxRetries: 0 }) };
}

function ask(client: OpenAI, cap: { max_completion_tokens?: number; max_tokens?: number }) {
  return client.chat.completions.create({
    model: 'gpt-5-mini',
    response_format: { type: 'json_object' },
    messages: [
      { role: 'system', content: 'Answer in JSON.' },
      { role: 'user', content: `Row to validate:\n${JSON.stringify(ROW)}` },
    ],
    ...cap,
  });
}

afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

describe('openai emulator: answers as long as the model makes them, cut at the cap', () => {
  it('answers within the cap whole, its drawn size as completion_tokens with the rest as reasoning tokens', async () => {
    const { client } = await start({ answerTokens: () => 150 });
    const completion = await ask(client, { max_completion_tokens: 1000 });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toEqual(defaultVerdict(ROW));
    expect(completion.usage?.completion_tokens).toBe(150);
    const visible = Math.ceil(JSON.stringify(defaultVerdict(ROW)).length / 4);
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(150 - visible);
  });

  it('cuts an answer larger than max_completion_tokens: finish_reason length, completion_tokens the cap, reasoning spent first', async () => {
    const { client, emu } = await start({ answerTokens: () => 600 });
    const completion = await ask(client, { max_completion_tokens: 200 });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    // 600 tokens, of which ~570 reasoning: the cap is spent before any text.
    expect(completion.choices[0]?.message.content).toBe('');
    expect(completion.usage?.completion_tokens).toBe(200);
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(200);
    expect(emu.requests[0]?.cap).toBe(200);
  });

  it('cuts a long text mid-JSON at max_tokens when no max_completion_tokens is sent', async () => {
    const long = 'x'.repeat(2000);
    const { client } = await start({ respond: (row) => ({ ...defaultVerdict(row), rewrite_suggestion: long }) });
    const completion = await ask(client, { max_tokens: 100 });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    const content = completion.choices[0]?.message.content ?? '';
    expect(content).toHaveLength(400);
    expect(JSON.stringify({ ...defaultVerdict(ROW), rewrite_suggestion: long }).startsWith(content)).toBe(true);
    expect(completion.usage?.completion_tokens).toBe(100);
  });

  it('as Ollama, reads max_tokens only: max_completion_tokens cuts nothing', async () => {
    const { client, emu } = await start({ profile: 'ollama', answerTokens: () => 600 });
    const ignored = await ask(client, { max_completion_tokens: 100 });
    expect(ignored.choices[0]?.finish_reason).toBe('stop');
    expect(ignored.usage?.completion_tokens).toBe(600);
    const read = await ask(client, { max_tokens: 100 });
    expect(read.choices[0]?.finish_reason).toBe('length');
    expect(emu.requests.map((r) => r.cap)).toEqual([undefined, 100]);
  });

  it('meters prompt + max_completion_tokens at admission, whatever the answer uses', async () => {
    // 60,000 tokens a minute over a one-second window: a share of 1,000 tokens a second. Every
    // answer is 5 tokens; only what the requests ask for differs.
    const { client, emu } = await start({ rateLimit: { tpm: 60_000 }, answerTokens: () => 5 });
    for (let i = 0; i < 2; i++) await ask(client, { max_completion_tokens: 100 });
    expect(emu.requests.map((r) => r.fault ?? 'ok')).toEqual(['ok', 'ok']);
    emu.reset();
    await ask(client, { max_completion_tokens: 1000 });
    await expect(ask(client, { max_completion_tokens: 1000 })).rejects.toMatchObject({ status: 429 });
    expect(emu.requests.map((r) => r.fault ?? 'ok')).toEqual(['ok', 'rate_limit:tokens']);
  });

  it('never throws and never reports more than the cap, whatever size is drawn', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 3000 }), fc.oneof(fc.double(), fc.integer({ min: -10, max: 100_000 })), fc.option(fc.integer({ min: -5, max: 5000 })), (content, drawn, cap) => {
        const sized = sizeAnswer(content, { model: 'm', messages: [], ...(cap === null ? {} : { max_completion_tokens: cap }) }, undefined, drawn);
        expect(content.startsWith(sized.content)).toBe(true);
        expect(sized.reasoningTokens).toBeLessThanOrEqual(sized.completionTokens);
        if (cap !== null && cap >= 1) expect(sized.completionTokens).toBeLessThanOrEqual(cap);
        expect(sized.finishReason === 'length').toBe(cap !== null && cap >= 1 && sized.completionTokens === cap && Math.max(Math.ceil(content.length / 4), Number.isFinite(drawn) ? Math.ceil(drawn) : 0) > cap);
      }),
    );
  });
});
