/**
 * Review of issue 20 item 4 (embeddings per kind, src/llm/kinds/embeddings.ts and
 * src/pipeline/semantic.ts) on Azure's classic URL.
 *
 * On a classic URL the DEPLOYMENT in the path picks the model; the body's `model` is not
 * what Azure serves: `POST {endpoint}/openai/deployments/{deployment-id}/embeddings?api-version=…`,
 * "deployment-id: the deployment name you chose when you deployed the model"
 * (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference#embeddings). The kinds
 * table says Azure's embedding model is "an embedding deployment of the user's own (its name
 * is the model)" and asks for cache.embedding_model, but the semantic cache embeds through
 * the primary provider's client, whose base URL is the CHAT deployment: the request goes to
 * /openai/deployments/<chat deployment>/embeddings, which Azure answers with its chat model
 * ("The embeddings operation does not work with the specified model"). cache.semantic can
 * never work on a classic Azure URL. The emulator maps every deployment path onto /v1 and
 * so never noticed; this test records the paths the bot sends through a pass-through front.
 *
 * Run: npx vitest run test/review/azure-classic-embeddings-deployment.test.ts
 */
import { createServer, request, type Server } from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
let front: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
  await bed?.close();
  bed = undefined;
  front = undefined;
});

/** A pass-through in front of the emulator that records each request's path as sent. */
async function recordingFront(target: string, paths: string[]): Promise<string> {
  const origin = new URL(target);
  front = createServer((req, res) => {
    paths.push(req.url ?? '');
    const upstream = request({ host: origin.hostname, port: origin.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => front?.listen(0, '127.0.0.1', resolve));
  const address = front.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

it('embeds at the embedding deployment cache.embedding_model names, not at the chat deployment of base_url', async () => {
  const b = (bed = await startBed({ rows: sampleRows(6), llm: { profile: 'azure' }, config: { cache: { semantic: true, embedding_model: 'text-embedding-3-small' } } }));
  const paths: string[] = [];
  const at = await recordingFront(b.llm.url, paths);
  b.setConfig({ llm: { providers: [{ name: 'azure', kind: 'azure', model: 'gpt-5-mini', base_url: `${at}/openai/deployments/gpt-5-mini?api-version=2024-10-21`, api_key_env: 'TEST_OPENAI_KEY' }] } });
  const result = await b.run('--json');
  expect(result.code, result.stdout + result.stderr).toBe(0);
  const embeddings = paths.filter((p) => /\/embeddings(\?|$)/.test(p));
  expect(embeddings.length).toBeGreaterThan(0);
  for (const p of embeddings) expect(p, 'the deployment that serves the embeddings').toMatch(/^\/openai\/deployments\/text-embedding-3-small\/embeddings\?/);
});
