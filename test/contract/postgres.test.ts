import { freshPostgresStore } from '../support/postgres-store.js';
import { storeContract } from './store-contract.js';

storeContract('postgres', () => freshPostgresStore());
