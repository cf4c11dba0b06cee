import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/pipeline/index.js';
import { RunSlot } from '../../src/server/admission.js';

/** A run the test ends by hand. */
function controllable() {
  let finish!: (summary: RunSummary) => void;
  let fail!: (error: unknown) => void;
  const run = () =>
    new Promise<RunSummary>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
  return { run, finish: (s: Partial<RunSummary>) => finish(s as RunSummary), fail: (e: unknown) => fail(e) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the server run slot', () => {
  it('admits one claim at a time: a second claim gets the first one back as busy', () => {
    const slot = new RunSlot();
    const first = slot.claim();
    const second = slot.claim();
    expect('busy' in first).toBe(false);
    expect('busy' in second && second.busy.id).toBe('state' in first && first.state.id);
  });

  it('frees the slot when a claim is cancelled, and forgets that run', async () => {
    const slot = new RunSlot();
    const claim = slot.claim();
    if ('busy' in claim) throw new Error('busy');
    expect(slot.get(claim.state.id)?.status).toBe('starting');
    claim.cancel();
    await slot.idle();
    expect(slot.active).toBeUndefined();
    expect(slot.get(claim.state.id)).toBeUndefined();
    expect('busy' in slot.claim()).toBe(false);
  });

  it('holds the slot until the run ends, then reports how it ended', async () => {
    const slot = new RunSlot();
    const claim = slot.claim();
    if ('busy' in claim) throw new Error('busy');
    const run = controllable();
    claim.start(run.run, String);
    await settle();
    expect(slot.active?.status).toBe('running');
    let idle = false;
    void slot.idle().then(() => (idle = true));
    await settle();
    expect(idle).toBe(false);
    run.finish({ status: 'completed' });
    await slot.idle();
    expect(slot.active).toBeUndefined();
    expect(slot.get(claim.state.id)).toMatchObject({ status: 'finished' });
  });

  it('records a run that throws as failed, with the message it is given', async () => {
    const slot = new RunSlot();
    const claim = slot.claim();
    if ('busy' in claim) throw new Error('busy');
    const run = controllable();
    claim.start(run.run, (error) => `described: ${String(error)}`);
    await settle();
    run.fail(new Error('locked'));
    await slot.idle();
    expect(slot.get(claim.state.id)).toMatchObject({ status: 'failed', error: 'described: Error: locked' });
    expect(slot.active).toBeUndefined();
  });
});
