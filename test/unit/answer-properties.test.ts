import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answersOf, resultLineOf } from '../../src/batch/lines.js';
import { answerSchema, parseAnswer, parsePacked } from '../../src/llm/answer.js';

const RUNS = 10_000;
const LABELS = ['r1', 'r2', 'r3'];

/** What a parser may return: an answer, or a short problem. Never a throw. */
function expectOutcome(result: { ok: true } | { ok: false; problem: string }): void {
  if (!result.ok) {
    expect(typeof result.problem).toBe('string');
    expect(result.problem.length).toBeGreaterThan(0);
    // The problem goes into a sheet cell: bounded, however large the answer was.
    expect(result.problem.length).toBeLessThan(2000);
  }
}

/** Answer-shaped objects whose every field may have the wrong type, with stray keys. */
const answerish = fc.record(
  {
    row: fc.oneof(fc.constantFrom(...LABELS), fc.anything()),
    is_valid: fc.oneof(fc.boolean(), fc.anything()),
    issues: fc.oneof(fc.array(fc.string()), fc.anything()),
    rewrite_suggestion: fc.oneof(fc.string(), fc.anything()),
    confidence: fc.oneof(fc.double(), fc.anything()),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);
const packedish = fc.oneof(fc.record({ results: fc.oneof(fc.array(answerish), fc.anything()) }), fc.array(answerish), fc.jsonValue());

/** Any content a provider might send: random text, random JSON, answer-like JSON, any value. */
const contents = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  answerish.map((v) => JSON.stringify(v)),
  packedish.map((v) => JSON.stringify(v)),
  packedish.map((v) => `\`\`\`json\n${JSON.stringify(v)}\n\`\`\``),
  fc.anything(),
);

describe('every parser of model answers, fed random input', () => {
  it('parseAnswer turns 10,000 random values and texts into an answer or a problem, never an exception', () => {
    fc.assert(
      fc.property(contents, (content) => expectOutcome(parseAnswer(content))),
      { numRuns: RUNS },
    );
  });

  it('parseAnswer accepts exactly what the schema accepts, with the same answer (keys in the same order), on 10,000 answer-like JSON values', () => {
    // Mostly valid answers near the limits (lengths around the caps in UTF-16 units, confidence around 0 and 1, confidence left out), then one field
    // spoiled at times: a wrong type, a stray key, a "__proto__" key.
    const near = fc.record(
      {
        is_valid: fc.boolean(),
        issues: fc.array(fc.oneof(fc.string(), fc.constantFrom('x'.repeat(2000), 'x'.repeat(2001), '😀'.repeat(1000), '😀'.repeat(1001))), { maxLength: 52 }),
        rewrite_suggestion: fc.oneof(fc.string(), fc.constantFrom('x'.repeat(20_000), 'x'.repeat(20_001), '😀'.repeat(10_001))),
        confidence: fc.oneof(fc.double({ min: -0.5, max: 1.5, noNaN: true }), fc.constantFrom(0, -0, 1, 1.0000001, -Number.MIN_VALUE)),
      },
      { requiredKeys: ['is_valid', 'issues', 'rewrite_suggestion'] },
    );
    const spoil = fc.option(fc.tuple(fc.constantFrom('is_valid', 'issues', 'rewrite_suggestion', 'confidence', 'extra', '__proto__'), fc.jsonValue()), { freq: 2 });
    const texts = fc.oneof(
      { arbitrary: fc.tuple(near, spoil).map(([answer, change]) => (change ? `{${JSON.stringify(change[0])}:${JSON.stringify(change[1])},${JSON.stringify(answer).slice(1)}` : JSON.stringify(answer))), weight: 4 },
      { arbitrary: answerish.map((v) => JSON.stringify(v)), weight: 1 },
      { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)), weight: 1 },
    );
    let accepted = 0;
    fc.assert(
      fc.property(texts, (text) => {
        const json: unknown = JSON.parse(text);
        const schema = answerSchema.safeParse(json);
        const ours = parseAnswer(text);
        expect(ours.ok).toBe(schema.success);
        if (ours.ok && schema.success) {
          accepted++;
          expect(ours.value).toEqual(schema.data);
          expect(JSON.stringify(ours.value)).toBe(JSON.stringify(schema.data));
          expect(Object.keys(ours.value)).toEqual(Object.keys(schema.data));
        }
      }),
      { numRuns: RUNS },
    );
    // Both outcomes are well represented (the comparison is not of refusals alone).
    expect(accepted).toBeGreaterThan(RUNS / 10);
    expect(accepted).toBeLessThan(RUNS * 0.9);
  });

  it('parsePacked turns 10,000 random values and texts into answers or a problem, never an exception', () => {
    fc.assert(
      fc.property(contents, fc.array(fc.string(), { maxLength: 5 }), (content, labels) => {
        const result = parsePacked(content, [...LABELS, ...labels]);
        expectOutcome(result);
        if (result.ok) for (const label of result.value.keys()) expect([...LABELS, ...labels]).toContain(label);
      }),
      { numRuns: RUNS },
    );
  });

  it('answersOf (batch line contents, one row or packed) never throws on 10,000 random contents', () => {
    fc.assert(
      fc.property(contents, fc.constantFrom([''], LABELS), (content, labels) => expectOutcome(answersOf(content, labels))),
      { numRuns: RUNS },
    );
  });
});

/** Result-file lines: random text, random JSON, and lines shaped like OpenAI's with random parts. */
const resultLines = fc.oneof(
  fc.string(),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        custom_id: fc.oneof(fc.constant('sv-1'), fc.anything()),
        response: fc.oneof(
          fc.record(
            {
              status_code: fc.oneof(fc.constantFrom(200, 400, 500), fc.anything()),
              body: fc.oneof(
                fc.record(
                  {
                    model: fc.anything(),
                    choices: fc.oneof(fc.array(fc.record({ finish_reason: fc.anything(), message: fc.oneof(fc.record({ content: contents }), fc.anything()) }, { requiredKeys: [] })), fc.anything()),
                    usage: fc.oneof(fc.record({ prompt_tokens: fc.anything(), completion_tokens: fc.anything(), prompt_tokens_details: fc.anything() }, { requiredKeys: [] }), fc.anything()),
                    error: fc.anything(),
                  },
                  { requiredKeys: [] },
                ),
                fc.anything(),
              ),
            },
            { requiredKeys: [] },
          ),
          fc.anything(),
        ),
        error: fc.anything(),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v) ?? 'undefined'),
);

describe('the Batch API result-line reader, fed random lines', () => {
  it('gives a record whose every field has its type, or nothing, for 10,000 random lines', () => {
    fc.assert(
      fc.property(resultLines, (line) => {
        const record = resultLineOf(line);
        if (record === undefined) return;
        expect(typeof record.custom_id).toBe('string');
        const body = record.response?.body;
        if (record.response) expect(typeof record.response.status_code).toBe('number');
        for (const n of [body?.usage?.prompt_tokens, body?.usage?.completion_tokens, body?.usage?.prompt_tokens_details?.cached_tokens]) {
          if (n !== undefined) expect(Number.isInteger(n) && n >= 0).toBe(true);
        }
        for (const t of [body?.model, body?.error?.message, record.error?.message, body?.choices?.[0]?.finish_reason]) {
          if (t !== undefined) expect(typeof t).toBe('string');
        }
        // The answer inside, whatever it is, still parses to answers or a problem.
        expectOutcome(answersOf(body?.choices?.[0]?.message?.content, LABELS));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('strange answers, by example', () => {
  const good = { is_valid: true, issues: [], rewrite_suggestion: '', confidence: 0.9 };

  it.each([
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"VALID"'],
    ['an array', '[1, 2]'],
    ['true', 'true'],
  ])('parsePacked says what is wrong with %s instead of throwing', (_what, content) => {
    const result = parsePacked(content, LABELS);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toBe('the answer has no "results" array');
  });

  it('parsePacked skips null, numbers and arrays among the results and keeps the good rows', () => {
    const result = parsePacked(JSON.stringify({ results: [null, 7, [], 'r2', { row: 'r1', ...good }] }), LABELS);
    expect(result.ok && [...result.value.keys()]).toEqual(['r1']);
  });

  it('parsePacked leaves out a label answered twice, even when both answers are well formed', () => {
    const result = parsePacked(JSON.stringify({ results: [{ row: 'r1', ...good }, { row: 'r1', ...good, is_valid: false }, { row: 'r2', ...good }] }), LABELS);
    expect(result.ok && [...result.value.keys()]).toEqual(['r2']);
  });

  it('parseAnswer refuses extra keys and wrong types, naming the key', () => {
    const extra = parseAnswer(JSON.stringify({ ...good, verdict: 'VALID' }));
    expect(extra.ok === false && extra.problem).toContain('verdict');
    const wrong = parseAnswer(JSON.stringify({ ...good, issues: 'none' }));
    expect(wrong.ok === false && wrong.problem).toContain('issues');
  });

  it('parseAnswer says a value that is not text is not text', () => {
    for (const value of [42, {}, [], true]) {
      const result = parseAnswer(value);
      expect(result.ok === false && result.problem).toMatch(/not text/);
    }
  });

  it('parseAnswer reads a deeply nested value and a huge string without throwing', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(parseAnswer(deep).ok).toBe(false);
    const huge = JSON.stringify({ ...good, rewrite_suggestion: 'x'.repeat(5_000_000) });
    const result = parseAnswer(huge);
    expect(result.ok === false && result.problem).toContain('rewrite_suggestion');
  });

  it('keeps the problem short when an answer has thousands of unknown keys', () => {
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`key_${i}_${'y'.repeat(50)}`, i]));
    const result = parseAnswer(JSON.stringify({ ...good, ...many }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.length).toBeLessThan(2000);
  });

  it('reads a Markdown fence followed by thousands of spaces as not JSON', () => {
    // The regex this replaced backtracked: 13 s for 3,000 spaces, hours for these 20,000.
    const result = parseAnswer(`\`\`\`${' '.repeat(20_000)}`);
    expect(result).toEqual({ ok: false, problem: 'the answer was not valid JSON' });
  });

  it('still reads an answer in a Markdown fence', () => {
    expect(parseAnswer(`\`\`\`json\n${JSON.stringify(good)}\n\`\`\``)).toEqual({ ok: true, value: good });
  });

  it('reads a result line of null, a number or an array as no line at all', () => {
    for (const line of ['null', '7', '[]', '"x"', '{"custom_id": 5}', 'not json']) expect(resultLineOf(line)).toBeUndefined();
  });

  it('reads token counts that are not whole numbers as 0, so sums stay numbers', () => {
    const record = resultLineOf(JSON.stringify({ custom_id: 'sv-1', response: { status_code: 200, body: { usage: { prompt_tokens: '12', completion_tokens: -3 } } } }));
    expect(record?.response?.body?.usage).toEqual({ prompt_tokens: 0, completion_tokens: 0 });
  });
});
