/**
 * A fresh SqliteStore and the smallest config for each test of a unit file that drives
 * pipeline code on a real store (provider gates, the settler, the run lock's heartbeat).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { stringify } from 'yaml';
import { SqliteStore } from '../../src/cache/index.js';
import { parseConfig, type Config } from '../../src/config/index.js';

export interface ScratchStore {
  dir: string;
  store: SqliteStore;
  config: Config;
}

/**
 * Before each test, a temporary folder with a new cache file and a one-provider config (tab
 * Statuses of `spreadsheetId`), handed to `use`; after it, the store is closed and the folder removed.
 */
export function scratchStoreEach(prefix: string, use: (scratch: ScratchStore) => void, options: { spreadsheetId?: string; rulesText?: string } = {}): void {
  let current: ScratchStore | undefined;
  beforeEach(() => {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    const store = SqliteStore.open(path.join(dir, 'cache.sqlite'));
    const yaml = stringify({
      sheets: { spreadsheet_id: options.spreadsheetId ?? 's', sheet: 'Statuses' },
      columns: { status: 'Status', comment: 'Comment' },
      rules: { allowed_statuses: ['Done'], text: options.rulesText ?? 'x' },
      llm: { providers: [{ name: 'primary', model: 'gpt-5-mini' }] },
    });
    current = { dir, store, config: parseConfig(yaml, path.join(dir, 'config.yaml'), {}) };
    use(current);
  });
  afterEach(async () => {
    if (current === undefined) return;
    await current.store.close();
    rmSync(current.dir, { recursive: true, force: true });
    current = undefined;
  });
}
