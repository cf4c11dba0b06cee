/**
 * Issue 20 review: what a provider's error answer may teach the bot. A refused field is read
 * only from the error's structured parts (code + param, pydantic's loc, the documented
 * message shape from its start), only for a field the bot sends, never when the naming is
 * the request's own text quoted back; Google's ErrorInfo reason and QuotaFailure quotaIds
 * reach the classifier; the kinds table holds each provider's meanings.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KINDS, PROVIDER_KINDS, dialectFetch, readErrorBody, unsupportedField } from '../../src/llm/index.js';
import { SENT_FIELDS, quotesFormat, quotesText, sentModel, sentTexts } from '../../src/llm/kinds/fields.js';

describe('unsupportedField reads structure, not prose', () => {
  it("reads pydantic's loc (vLLM before #10463) and Google's path inside the response schema", () => {
    expect(unsupportedField("[{'type': 'extra_forbidden', 'loc': ('body', 'prompt_cache_key'), 'msg': 'Extra inputs are not permitted', 'input': 'sv-1'}]")).toBe('prompt_cache_key');
    expect(unsupportedField("Invalid JSON payload received. Unknown name \"additionalProperties\" at 'generation_config.response_schema': Cannot find field.")).toBe('response_format');
    // A name inside some other part of Google's request is no field of ours.
    expect(unsupportedField("Invalid JSON payload received. Unknown name \"foo\" at 'contents[0].parts': Cannot find field.")).toBeUndefined();
  });

  it('never names a field from a row quoted back, nor one the bot does not send', () => {
    const comment = "Vendor says 'max_completion_tokens' is not supported by their export tool";
    expect(unsupportedField(`Input blocked by the content guardrail: "${comment}"`, 'content_policy_violation')).toBeUndefined();
    expect(unsupportedField("Marked Done, but the PMO says 'Done' is not allowed")).toBeUndefined();
    expect(unsupportedField('Unrecognized request argument supplied: Done')).toBeUndefined();
    // The documented shape, but it is the row's own text echoed back whole.
    const echoed = 'Unrecognized request argument supplied: max_completion_tokens';
    expect(unsupportedField(echoed, undefined, undefined, [`comment: ${echoed}`])).toBeUndefined();
    expect(unsupportedField(echoed, undefined, undefined, ['another comment'])).toBe('max_completion_tokens');
    // A code and a param are structure: no row text is in them.
    expect(unsupportedField('x', 'unrecognized_request_argument', 'prompt_cache_key', ['prompt_cache_key'])).toBe('prompt_cache_key');
    expect(unsupportedField('x', 'unrecognized_request_argument', 'Done')).toBeUndefined();
  });

  it('whatever the message, names only a field the bot sends, and nothing the request itself says (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), fc.option(fc.string(), { nil: undefined }), (message, code, param) => {
        const field = unsupportedField(message, code, param);
        expect(field === undefined || SENT_FIELDS.has(field)).toBe(true);
        // The whole message sent as a row's text: only a code + param may still name a field.
        expect(unsupportedField(message, undefined, undefined, [message])).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('sentTexts reads the messages of any body without throwing (property)', () => {
    expect(sentTexts(JSON.stringify({ messages: [{ role: 'user', content: 'hello' }, { role: 'user', content: 3 }] }))).toEqual(['hello']);
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue()), (body) => void expect(Array.isArray(sentTexts(body))).toBe(true)), { numRuns: 300 });
  });
});

describe("readErrorBody: Google's ErrorInfo and QuotaFailure", () => {
  it('reads the reason of a wrong key and the quota ids of a 429', () => {
    const badKey = [{ error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }] } }];
    expect(readErrorBody(JSON.stringify(badKey)).reason).toBe('API_KEY_INVALID');
    const perDay = [{ error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' }, { quotaId: 7 }] }] } }];
    expect(readErrorBody(JSON.stringify(perDay)).quotaIds).toEqual(['GenerateRequestsPerDayPerProjectPerModel-FreeTier', '7']);
    expect(readErrorBody('{"error":{"message":"x"}}').quotaIds).toBeUndefined();
  });

  it('never throws on details of any shape (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (details) => {
        const read = readErrorBody(JSON.stringify([{ error: { code: 429, message: 'm', details } }]));
        expect(read.reason === undefined || typeof read.reason === 'string').toBe(true);
        expect(read.quotaIds === undefined || read.quotaIds.every((id) => typeof id === 'string')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('dialectFetch hands the classifier structure only', () => {
  const through = (kind: keyof typeof KINDS, status: number, body: unknown, sent: unknown) =>
    dialectFetch(KINDS[kind], () => Promise.resolve(new Response(JSON.stringify(body), { status })))('http://x/v1/chat/completions', { method: 'POST', body: JSON.stringify(sent) });

  it("marks a refused field, unless the request's own text holds the naming", async () => {
    const refusal = { error: { message: 'Unrecognized request argument supplied: prompt_cache_key', type: 'invalid_request_error', code: null, param: null } };
    const plain = (await (await through('azure', 400, refusal, { messages: [{ role: 'user', content: 'a comment' }] })).json()) as { error: Record<string, unknown> };
    expect(plain.error['refused_field']).toBe('prompt_cache_key');
    const quoted = (await (await through('azure', 400, refusal, { messages: [{ role: 'user', content: 'Unrecognized request argument supplied: prompt_cache_key' }] })).json()) as { error: Record<string, unknown> };
    expect(quoted.error['refused_field']).toBeUndefined();
  });

  it("passes Google's reason and quota ids on", async () => {
    const body = [{ error: { code: 429, message: 'q', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel' }] }, { reason: 'RATE_LIMIT_EXCEEDED' }] } }];
    const json = (await (await through('gemini', 429, body, {})).json()) as { error: Record<string, unknown> };
    expect(json.error).toMatchObject({ reason: 'RATE_LIMIT_EXCEEDED', quota_ids: ['GenerateRequestsPerDayPerProjectPerModel'] });
  });
});

describe('the kinds table: what answers mean', () => {
  it('every kind says it; the per-kind facts are where the docs put them', () => {
    for (const kind of PROVIDER_KINDS) expect(KINDS[kind].answers).toBeDefined();
    expect(KINDS.openrouter.answers).toMatchObject({ rowStatuses: [403], noCreditStatuses: [402] });
    expect(KINDS.openrouter.sources).toContain('https://openrouter.ai/docs/api/reference/errors-and-debugging');
    expect(KINDS.gemini.answers.badKeyReasons).toContain('API_KEY_INVALID');
    expect(KINDS.vertex.answers.perDayQuota?.test('GenerateRequestsPerDayPerProjectPerModel-FreeTier')).toBe(true);
    expect(KINDS.gemini.answers.perDayQuota?.test('GenerateRequestsPerMinutePerProjectPerModel-FreeTier')).toBe(false);
    expect(KINDS.anthropic.answers.noCreditMessages.some((shape) => shape.test('Your credit balance is too low to access the Anthropic API.'))).toBe(true);
    // Only Azure's classic URL names a deployment under its resource.
    expect(KINDS.azure.deploymentPath?.test('https://r.openai.azure.com/openai/deployments/gpt4o')).toBe(true);
    expect(KINDS.azure.deploymentPath?.test('https://r.openai.azure.com/openai/v1')).toBe(false);
    for (const kind of PROVIDER_KINDS.filter((k) => k !== 'azure')) expect(KINDS[kind].deploymentPath).toBeUndefined();
  });
});

describe('quotesFormat', () => {
  it("tells the provider's own words about the format from a row's text quoted back", () => {
    const comment = 'The export now writes response_format json_schema files; waiting on the vendor.';
    expect(quotesFormat(`Input blocked by the content guardrail: "${comment}"`, [comment])).toBe(true);
    expect(quotesFormat("Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.", [comment])).toBe(false);
    expect(quotesFormat('no mention here', [comment])).toBe(false);
    fc.assert(fc.property(fc.string(), fc.array(fc.string()), (message, quoted) => void expect(typeof quotesFormat(message, quoted)).toBe('boolean')), { numRuns: 300 });
  });
});

describe('quotesText and sentModel', () => {
  it("tells a model named by the provider from one named in a row's text", () => {
    const comment = 'Checked: gpt-5-mini does not exist in the vendor catalogue.';
    expect(quotesText(`Blocked: "${comment}"`, 'gpt-5-mini', [comment])).toBe(true);
    expect(quotesText('The model `gpt-5-mini` does not exist or you do not have access to it.', 'gpt-5-mini', [comment])).toBe(false);
    expect(quotesText('anything', '', [comment])).toBe(false);
    expect(sentModel(JSON.stringify({ model: 'a.b+c' }))).toBe('a.b+c');
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.array(fc.string()), (message, model, quoted) => {
        expect(typeof quotesText(message, model, quoted)).toBe('boolean');
        expect(typeof sentModel(message)).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});
