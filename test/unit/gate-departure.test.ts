import { describe, expect, it } from 'vitest';
import { ProviderGate } from '../../src/llm/index.js';

const answered = { kind: 'answered', promptTokens: 100 } as const;

describe('what a request reserves is decided when it leaves the gate', () => {
  it('asks completionAtDeparture as the request leaves, reserves it and carries it on the ticket', async () => {
    // 6,000 tokens a minute: the second request waits for the first's tokens to be paid back.
    const gate = new ProviderGate({ tpm: 6000, maxConcurrency: 5 });
    let learned = 1000;
    const asked: number[] = [];
    const estimate = () => Promise.resolve({ prompt: 100, completion: 1000, completionAtDeparture: () => (asked.push(learned), learned) });
    const first = await gate.enter(estimate);
    expect([first.tokens, first.completion]).toEqual([1100, 1000]);
    const waiting = gate.enter(estimate);
    // Answers arrive while the second waits: what it reserves is what they taught.
    learned = 200;
    gate.leave(first, answered);
    const second = await waiting;
    expect(second.completion).toBe(200);
    // Its prompt as estimated (the provider reported the same count: calibration 1), plus 200.
    expect(second.tokens).toBe(300);
    expect(asked).toEqual([1000, 200]);
    gate.leave(second, answered);
  });

  it('without completionAtDeparture the completion estimate is reserved; without a token budget nothing is', async () => {
    const metered = new ProviderGate({ tpm: 1_000_000, maxConcurrency: 2 });
    const ticket = await metered.enter(() => Promise.resolve({ prompt: 10, completion: 300 }));
    expect([ticket.tokens, ticket.completion]).toEqual([310, 300]);
    metered.leave(ticket, answered);
    const unmetered = new ProviderGate({ rpm: 6000, maxConcurrency: 2 });
    let estimated = false;
    const free = await unmetered.enter(() => {
      estimated = true;
      return Promise.resolve({ prompt: 10, completion: 300, completionAtDeparture: () => 50 });
    });
    expect([free.tokens, free.completion, estimated]).toEqual([0, 0, false]);
    unmetered.leave(free, answered);
  });
});
