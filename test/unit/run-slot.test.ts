import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/pipeline/index.js';
import { RunSlot } from '../../src/server/admission.js';

/** A run the test ends by hand. */
function controllable() {
  let finish!: (summary: RunSummary) => void;
  let fail!: (error: unknown) => void;
  const run = () =>
    new Promise<RunSummary[]>((resolve, reject) => {
      finish = (summary) => resolve([summary]);
      fail = reject;
    });
  return { run, finish: (s: Partial<RunSummary>) => finish(s as RunSummary), fail: (e: unknown) => fail(e) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the server run slots', () => {
  it('admits one claim at a time: a second claim gets the first one back as busy', () => {
    const slot = new RunSlot();
    const first = slot.claim(['tab']);
    const second = slot.claim(['tab']);
    expect('busy' in first).toBe(false);
    expect('busy' in second && second.busy.id).toBe('state' in first && first.state.id);
  });

  it('frees the slot when a claim is cancelled, and forgets that run', async () => {
    const slot = new RunSlot();
    const claim = slot.claim(['tab']);
    if ('busy' in claim) throw new Error('busy');
    expect(slot.get(claim.state.id)?.status).toBe('starting');
    claim.cancel();
    await slot.idle();
    expect(slot.active).toEqual([]);
    expect(slot.get(claim.state.id)).toBeUndefined();
    expect('busy' in slot.claim(['tab'])).toBe(false);
  });

  it('holds the slot until the run ends, then reports how it ended', async () => {
    const slot = new RunSlot();
    const claim = slot.claim(['tab']);
    if ('busy' in claim) throw new Error('busy');
    const run = controllable();
    claim.start(run.run, String);
    await settle();
    expect(slot.active.map((s) => s.status)).toEqual(['running']);
    let idle = false;
    void slot.idle().then(() => (idle = true));
    await settle();
    expect(idle).toBe(false);
    run.finish({ status: 'completed' });
    await slot.idle();
    expect(slot.active).toEqual([]);
    expect(slot.get(claim.state.id)).toMatchObject({ status: 'finished' });
  });

  it('records a run that throws as failed, with the message it is given', async () => {
    const slot = new RunSlot();
    const claim = slot.claim(['tab']);
    if ('busy' in claim) throw new Error('busy');
    const run = controllable();
    claim.start(run.run, (error) => `described: ${String(error)}`);
    await settle();
    run.fail(new Error('locked'));
    await slot.idle();
    expect(slot.get(claim.state.id)).toMatchObject({ status: 'failed', error: 'described: Error: locked' });
    expect(slot.active).toEqual([]);
  });

  it('holds one slot per target: another target is admitted while one runs; a claim over both waits for neither and is refused', async () => {
    const slot = new RunSlot();
    const a = slot.claim(['a']);
    const b = slot.claim(['b']);
    if ('busy' in a || 'busy' in b) throw new Error('busy');
    const both = slot.claim(['b', 'a']);
    expect('busy' in both && [both.busy.id, both.target]).toEqual([b.state.id, 'b']);
    const again = slot.claim(['a']);
    expect('busy' in again && again.busy.id).toBe(a.state.id);
    expect(slot.active.map((s) => s.targets)).toEqual([['a'], ['b']]);
    const run = controllable();
    a.start(run.run, String);
    b.cancel();
    let idle = false;
    void slot.idle().then(() => (idle = true));
    await settle();
    expect(idle).toBe(false);
    // b is free again at once; a only once its run has ended.
    expect('busy' in slot.claim(['b'])).toBe(false);
    run.finish({ status: 'failed', target: 'a', fatal: { message: 'no access' } });
    await settle();
    expect(slot.get(a.state.id)).toMatchObject({ status: 'failed', error: 'no access', targets: ['a'] });
    expect('busy' in slot.claim(['a'])).toBe(false);
  });

  it('with partial (a cron run of every target) takes the free targets and names the busy ones; refused only when none is free', () => {
    const slot = new RunSlot();
    const a = slot.claim(['a']);
    if ('busy' in a) throw new Error('busy');
    const cron = slot.claim(['a', 'b', 'c'], true);
    if ('busy' in cron) throw new Error('the cron run was refused for one busy target');
    expect(cron.state.targets).toEqual(['b', 'c']);
    expect(cron.state.skipped?.map((s) => [s.target, s.busy.id])).toEqual([['a', a.state.id]]);
    // All taken now: the next cron run gets the holder of the first target back.
    const none = slot.claim(['a', 'b', 'c'], true);
    expect('busy' in none && [none.target, none.busy.id]).toEqual(['a', a.state.id]);
    // Without partial, one busy target refuses the claim as before (a person's tab is all or nothing).
    cron.cancel();
    const whole = slot.claim(['a', 'b']);
    expect('busy' in whole && whole.target).toBe('a');
  });
});
