/**
 * providerGates on the async Store: the limits an earlier run learned are read once at setup
 * (awaited), and what a provider's headers state is saved without waiting; a save that fails
 * becomes a warning, never an unhandled rejection that would end the process.
 */
import { expect, it } from 'vitest';
import type { LimitStore, SqliteStore } from '../../src/cache/index.js';
import type { Config, Secrets } from '../../src/config/index.js';
import { providerGates } from '../../src/pipeline/index.js';
import { scratchStoreEach } from '../support/scratch-store.js';

let store: SqliteStore;
let config: Config;
const secrets = { apiKeys: new Map([['primary', 'sk-test-gates-0123456789']]), all: [] } as unknown as Secrets;
const of = { provider: 'https://api.openai.com/v1', model: 'gpt-5-mini', apiKey: 'sk-test-gates-0123456789' };

scratchStoreEach('sv-gates-store-', (made) => ({ store, config } = made));

const headers = (rpm: number) => new Headers({ 'x-ratelimit-limit-requests': String(rpm), 'x-ratelimit-remaining-requests': String(rpm - 1), 'x-ratelimit-reset-requests': '1s' });
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

it('saves what the headers state, for the next process to start from', async () => {
  const gates = await providerGates(config, secrets, store.limitMemory());
  gates.get('primary')?.observe(headers(1_200));
  await settle();
  expect(await store.limitMemory().recall(of)).toEqual({ rpm: 1_200, tpm: undefined });
});

it('turns a failed save into a warning', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const broken: LimitStore = { recall: () => Promise.resolve(undefined), learn: () => Promise.reject(new Error('database unreachable')) };
    const warnings: string[] = [];
    const gates = await providerGates(config, secrets, broken, (text) => warnings.push(text));
    gates.get('primary')?.observe(headers(600));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(warnings).toEqual(['provider "primary": could not save the limits learned in the cache: database unreachable']);
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
