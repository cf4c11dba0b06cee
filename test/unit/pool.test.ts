import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/pipeline/pool.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('WorkerPool', () => {
  it('handles every item once with at most `workers` at a time, each worker taking the next as it finishes', async () => {
    const pool = new WorkerPool(5);
    const items = range(0, 40);
    let running = 0;
    let peak = 0;
    const handled: number[] = [];
    await pool.add(items[Symbol.iterator](), items.length, async (item) => {
      peak = Math.max(peak, ++running);
      // Uneven durations: a slow item must not hold back the other workers.
      await sleep(item % 7 === 0 ? 20 : 1);
      handled.push(item);
      running--;
    }).done;
    expect(handled.toSorted((a, b) => a - b)).toEqual(items);
    expect(peak).toBe(5);
  });

  it('starts no more workers than there are items, and none for nothing', async () => {
    const pool = new WorkerPool(50);
    let calls = 0;
    const none = pool.add([][Symbol.iterator](), 0, () => {
      calls++;
      return Promise.resolve();
    });
    await Promise.all([none.taken, none.done]);
    expect(calls).toBe(0);
    let peak = 0;
    let running = 0;
    await pool.add([1, 2][Symbol.iterator](), 2, async () => {
      peak = Math.max(peak, ++running);
      await sleep(5);
      running--;
    }).done;
    expect(peak).toBe(2);
  });

  it("starts the next source's items as the last ones of the first are still in hand, never more than `workers` in all", async () => {
    const pool = new WorkerPool(4);
    const log: string[] = [];
    let running = 0;
    let peak = 0;
    const handle = (name: string, ms: (i: number) => number) => async (i: number) => {
      peak = Math.max(peak, ++running);
      log.push(`${name}${i} start`);
      await sleep(ms(i));
      log.push(`${name}${i} end`);
      running--;
    };
    // The first source's last item is slow: the others' workers must not wait for it.
    const first = pool.add(range(0, 6)[Symbol.iterator](), 6, handle('a', (i) => (i === 5 ? 60 : 5)));
    await first.taken;
    // Taken: every item is in a worker's hands, the slow one not yet handled.
    expect(log).toContain('a5 start');
    expect(log).not.toContain('a5 end');
    const second = pool.add(range(0, 6)[Symbol.iterator](), 6, handle('b', () => 5));
    await second.done;
    expect(log).not.toContain('a5 end');
    await first.done;
    expect(peak).toBe(4);
    expect(log.filter((line) => line.endsWith('end'))).toHaveLength(12);
  });

  it('takes no item before it is needed: an item is made when a worker asks for it', async () => {
    const pool = new WorkerPool(2);
    let made = 0;
    function* items() {
      for (let i = 0; i < 10; i++) {
        made++;
        yield i;
      }
    }
    let maxAhead = 0;
    let handled = 0;
    await pool.add(items(), 10, async () => {
      maxAhead = Math.max(maxAhead, made - handled);
      await sleep(1);
      handled++;
    }).done;
    expect(made).toBe(10);
    expect(maxAhead).toBeLessThanOrEqual(2);
  });

  it("rejects a source's done with the first error, once all its other items are handled; the pool goes on", async () => {
    const pool = new WorkerPool(3);
    const handled: number[] = [];
    const failing = pool.add(range(0, 9)[Symbol.iterator](), 9, async (i) => {
      await sleep(1);
      if (i === 2 || i === 4) throw new Error(`item ${i} failed`);
      handled.push(i);
    });
    await expect(failing.done).rejects.toThrow('item 2 failed');
    expect(handled.toSorted((a, b) => a - b)).toEqual([0, 1, 3, 5, 6, 7, 8]);
    const after: number[] = [];
    await pool.add([7, 8][Symbol.iterator](), 2, (i) => Promise.resolve(void after.push(i))).done;
    expect(after).toEqual([7, 8]);
  });

  it('whatever the sources, their sizes and durations: each item handled once, in order of sources, within the bound', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 8 }), { maxLength: 5 }), fc.boolean(), async (workers, sources, countShort) => {
        const pool = new WorkerPool(workers);
        let running = 0;
        let peak = 0;
        const started: string[] = [];
        const ended = new Set<string>();
        const runs = sources.map((durations, s) =>
          // A count below the items' number stops at the count; above it, at the iterator's end.
          pool.add(durations.entries(), countShort ? Math.max(0, durations.length - 1) : durations.length + 2, async ([i, ms]) => {
            const id = `${s}:${i}`;
            peak = Math.max(peak, ++running);
            started.push(id);
            await sleep(ms);
            ended.add(id);
            running--;
          }),
        );
        await Promise.all(runs.map((r) => r.done));
        const expected = sources.flatMap((durations, s) => durations.slice(0, countShort ? Math.max(0, durations.length - 1) : durations.length).map((_, i) => `${s}:${i}`));
        // Started in the order the sources were added and their items come.
        expect(started).toEqual(expected);
        expect(ended.size).toBe(expected.length);
        expect(peak).toBeLessThanOrEqual(workers);
      }),
      { numRuns: 60 },
    );
  });
});
