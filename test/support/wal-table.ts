import Database from 'better-sqlite3';

/** A database file in WAL mode with one table `t (v TEXT PRIMARY KEY)`: what GroupCommit's tests commit to. The caller closes it. */
export function walTable(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (v TEXT PRIMARY KEY)');
  return db;
}
