import { describe, expect, it } from 'vitest';
import { byModel, drain, requestsOf } from '../../src/pipeline/requests.js';
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

describe('drain', () => {
  it('handles every item once with at most `workers` at a time, each worker taking the next as it finishes', async () => {
    const items = Array.from({ length: 40 }, (_, i) => i);
    let running = 0;
    let peak = 0;
    const handled: number[] = [];
    await drain(items[Symbol.iterator](), items.length, 5, async (item) => {
      running++;
      peak = Math.max(peak, running);
      // Uneven durations: a slow item must not hold back the other workers.
      await new Promise((resolve) => setTimeout(resolve, item % 7 === 0 ? 20 : 1));
      handled.push(item);
      running--;
    });
    expect(handled.toSorted((a, b) => a - b)).toEqual(items);
    expect(peak).toBe(5);
  });

  it('starts no more workers than there are items, and none for nothing', async () => {
    let calls = 0;
    await drain([][Symbol.iterator](), 0, 5, () => {
      calls++;
      return Promise.resolve();
    });
    expect(calls).toBe(0);
    let peak = 0;
    let running = 0;
    await drain([1, 2][Symbol.iterator](), 2, 50, async () => {
      peak = Math.max(peak, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
    });
    expect(peak).toBe(2);
  });
});
