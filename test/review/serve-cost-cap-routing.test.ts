// Review 3 (of the issue 18 fixes), finding: serve.max_cost_usd is checked against a model the run
// does not use when llm.routing is set.
//
// With llm.routing the rows are asked of routing.small / routing.large, "replaces the first
// provider's model" (src/config/schema.ts; src/pipeline/ask.ts). But serve's plan prices the run at
// primaryModel() = llm.providers[0].model (src/server/plan.ts), and the start-up check of issue 18
// item 10 (src/server/caps.ts, serveCapProblems, also run by check-config) looks only at that
// model's price. So:
//  - a cap set while the routed models have no price (self-hosted small/large) passes
//    check-config and serve's start, though no run could be checked against it (item 10);
//  - a person's run routed to an expensive large model is estimated at the cheap first model's
//    price and admitted far over the cap the operator set (the cap is the per-person spending
//    limit of docs/apps-script.md; here a 25x under-estimate).
import { describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, startBed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts } from '../support/google-certs.js';
import { sampleRows } from '../support/sample-data.js';
import { closeAfterEach, startServe } from '../support/serve.js';

const later = closeAfterEach();

const provider = (model: string, url: string) => [{ name: 'emulator', model, base_url: url, api_key_env: 'TEST_OPENAI_KEY' }];

describe('serve.max_cost_usd with llm.routing', () => {
  it('check-config refuses a cap when a routed model has no known price', async () => {
    const b = later(await startBed({ rows: sampleRows(2) }));
    b.setConfig({
      llm: { providers: provider('gpt-5-mini', b.llm.url), routing: { small: 'llama3.1:8b', large: 'llama3.1:70b' } },
      serve: { max_cost_usd: 1 },
    });
    const checked = await b.cli(['check-config', '--config', b.configPath]);
    console.log(`check-config: exit ${checked.code}\n${checked.stdout}${checked.stderr}`);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toContain('llama3.1:70b');
  });

  it("refuses a person's run over the cap at the price of the model the rows are routed to", async () => {
    const certs = later(await startGoogleCerts());
    const b = later(await startBed({ rows: sampleRows(40) }));
    const serveWith = async (llm: Record<string, unknown>) => {
      b.setConfig({ llm, serve: { allow: ['alice@example.com'], google_client_id: CLIENT_ID, google_certs_url: certs.url, max_rows: 1000, max_cost_usd: 0.02 } });
      const served = later(await startServe(b));
      const res = await fetch(`${served.base}/runs`, { method: 'POST', headers: { authorization: `Bearer ${certs.sign(idClaims('alice@example.com'))}` }, body: JSON.stringify({ spreadsheet_id: SPREADSHEET_ID, sheet: TAB }) });
      const body = (await res.json()) as Record<string, unknown>;
      await served.close();
      return { status: res.status, estimatedUsd: body.estimatedUsd };
    };
    // Every row asked of gpt-5 (no routing): over the cap, refused. The cap works for that price.
    const plain = await serveWith({ providers: provider('gpt-5', b.llm.url), routing: undefined });
    // The same rows, every one routed to gpt-5 (threshold 0), the first provider naming gpt-5-nano.
    const routed = await serveWith({ providers: provider('gpt-5-nano', b.llm.url), routing: { small: 'gpt-5-nano', large: 'gpt-5', threshold: 0 } });
    console.log(`gpt-5 alone: ${plain.status} ($${String(plain.estimatedUsd)}); routed to gpt-5: ${routed.status} (estimated $${String(routed.estimatedUsd)})`);
    expect(plain.status).toBe(422);
    expect(routed.status, 'the routed run was estimated at the first provider model price').toBe(422);
  }, 60_000);
});
