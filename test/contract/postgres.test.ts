import { freshPostgresStore } from '../support/postgres-store.js';
import { claimsContract } from './claims-contract.js';
import { storeContract } from './store-contract.js';

storeContract('postgres', () => freshPostgresStore());
claimsContract('postgres', () => freshPostgresStore());
