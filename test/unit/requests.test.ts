import { describe, expect, it } from 'vitest';
import { byModel, requestsOf } from '../../src/pipeline/requests.js';
import type { Job } from '../../src/pipeline/select.js';

const job = (n: number, status = 'Done'): Job => ({ key: `k${n}`, inputs: { status, comment: `comment ${n}`, completion_date: '' }, entries: [] });

describe('requestsOf', () => {
  it('packs the jobs of each model by the request size, never two models in one request, and counts the requests', () => {
    const jobs = Array.from({ length: 7 }, (_, n) => job(n, n % 3 === 0 ? 'Blocked' : 'Done'));
    const routes = byModel(jobs, (j) => (j.inputs.status === 'Blocked' ? 'large' : 'small'));
    expect([...routes].map(([model, list]) => [model, list.map((j) => j.key)])).toEqual([
      ['large', ['k0', 'k3', 'k6']],
      ['small', ['k1', 'k2', 'k4', 'k5']],
    ]);
    const { count, requests } = requestsOf(routes, 2);
    const made: string[][] = [];
    for (let r = requests.next(); !r.done; r = requests.next()) made.push(r.value.map((j) => j.key));
    expect(made).toEqual([['k0', 'k3'], ['k6'], ['k1', 'k2'], ['k4', 'k5']]);
    expect(count).toBe(made.length);
  });
});
