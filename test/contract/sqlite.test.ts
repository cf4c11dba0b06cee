import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { SqliteStore } from '../../src/cache/index.js';
import { claimsContract } from './claims-contract.js';
import { storeContract } from './store-contract.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sv-contract-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const open = () => Promise.resolve(SqliteStore.open(path.join(dir, `cache-${++n}.sqlite`)));
storeContract('sqlite', open);
claimsContract('sqlite', open);
