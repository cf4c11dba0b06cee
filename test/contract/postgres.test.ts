import { freshPostgresStore, testCluster } from '../support/postgres-store.js';
import { storeContract } from './store-contract.js';

// Started before the suite's tests (afterAll is registered at the file's top level).
void testCluster();
storeContract('postgres', () => freshPostgresStore());
