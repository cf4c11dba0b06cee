import type { CachedVerdict, Store } from '../cache/index.js';
import { embeddingModelOf } from '../llm/index.js';
import { SemanticCache, semanticPartition, semanticText } from '../semantic/index.js';
import { primaryProviderOf } from './ask.js';
import type { RunPlan } from './run-plan.js';
import type { Job } from './select.js';

export interface SemanticPass {
  /** Jobs answered by a neighbour's verdict: their records, ready to commit and write. */
  reused: Array<{ job: Job; record: CachedVerdict }>;
  /** Jobs still to ask. */
  ask: Job[];
  /** Call after an answer is committed, so later rows can reuse it. */
  remember: (job: Job) => Promise<void>;
}

/**
 * cache.semantic: a question whose comment (and due date) is very close to an
 * answered row's with the same status reuses that verdict, marked as reused, without
 * its rewrite (written for the other comment). See src/semantic for when it is safe.
 */
export async function semanticPass(plan: RunPlan, store: Store, jobs: Job[], dryRun: boolean, now: Date): Promise<SemanticPass> {
  const semantic = plan.semantic;
  if (!semantic || jobs.length === 0) return { reused: [], ask: jobs, remember: () => Promise.resolve() };
  // Resolved here, not in the plan: a run with nothing to ask never needs (nor refuses) an embedding model.
  const model = embeddingModelOf(plan);
  const cache = new SemanticCache(store, {
    client: primaryProviderOf(plan).embeddingsApi(model),
    model,
    threshold: semantic.threshold,
    scope: semantic.scope,
  });
  const headers = semantic.headers;
  const vectors = await cache.embed(jobs.map((job) => semanticText(job.inputs, headers)));
  const vectorOf = new Map(jobs.map((job, i) => [job, vectors[i]] as const));
  const reused: SemanticPass['reused'] = [];
  const ask: Job[] = [];
  for (const job of jobs) {
    const vector = vectorOf.get(job);
    // A row chosen to be asked again (a ticked box, --force, an old verdict) gets a fresh
    // answer, not a neighbour's stored one: that would untick its box unasked.
    const match = vector && !job.again ? await cache.nearest(vector, semanticPartition(job.inputs)) : undefined;
    const neighbour = match ? await store.get(match.key) : undefined;
    if (!match || !neighbour) {
      ask.push(job);
      continue;
    }
    reused.push({
      job,
      record: {
        ...neighbour,
        key: job.key,
        provider: 'semantic cache',
        suggestion: '',
        issues: [...neighbour.issues, `Verdict reused from a row ${Math.round(match.similarity * 100)}% similar (cache.semantic).`],
        checkedAt: now.toISOString(),
        promptTokens: 0,
        completionTokens: 0,
        cachedTokens: 0,
      },
    });
  }
  return {
    reused,
    ask,
    remember: async (job) => {
      const vector = vectorOf.get(job);
      if (vector && !dryRun) await cache.remember(job.key, semanticPartition(job.inputs), vector);
    },
  };
}
