/**
 * What: Gemini's OpenAI endpoint maps response_format.json_schema onto its own
 * response_schema, and has refused JSON Schema keywords it does not map with
 * `400 Invalid JSON payload received. Unknown name "additionalProperties" at
 * 'generation_config.response_schema': Cannot find field.` (JSON array body) — reports:
 * https://github.com/QuantumNous/new-api/pull/1037 (the same message for "$schema" through
 * the OpenAI-compatible path), https://github.com/mozilla-ai/any-llm/issues/1143,
 * https://github.com/bestruirui/octopus/pull/43. The bot's strict schema carries
 * additionalProperties: false. The fault below is that answer to every json_schema request.
 *
 * Why it is a defect: the message says WHERE the unknown name is — inside the response
 * schema — but the bot only reads the name, takes "additionalProperties" for a top-level
 * request field it cannot do without, and stops the run (exit 1: "does not accept the
 * request field additionalProperties"). It is a structured-outputs refusal: with
 * structured_outputs: auto (the default) the bot must fall back to json_object, as it does
 * for any other "json_schema not supported" answer, and finish with every verdict right.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const MODEL = 'gemini-2.0-flash';
const message = "Invalid JSON payload received. Unknown name \"additionalProperties\" at 'generation_config.response_schema': Cannot find field.";

describe('Gemini refuses a keyword inside the json_schema', () => {
  it('falls back to json_object (structured_outputs: auto) instead of stopping the run', async () => {
    const rows = sampleRows(12);
    bed = await startBed({ rows, llm: { profile: 'gemini', models: [MODEL] }, config: { llm: { max_workers: 3, max_retries: 2 } } });
    bed.setConfig({ llm: { providers: [{ name: 'gemini', kind: 'gemini', model: MODEL, base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    bed.llm.injectFault(
      {
        kind: 'status',
        status: 400,
        body: [{ error: { code: 400, message, status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'generation_config.response_schema', description: message }] }] } }],
      },
      { times: Infinity, match: (_row, req) => (req.response_format as { type?: unknown } | undefined)?.type === 'json_schema' },
    );
    const result = await bed.run('--json');
    expect(result.code, result.stdout).toBe(0);
    const values = bed.values();
    rows.forEach((row, i) => expect(values[i + 1]?.[col(values, 'Validation')], row[0]).toBe(expectedCells(row).verdict));
  });
});
