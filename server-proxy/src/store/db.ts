import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/** Migrations in order; PRAGMA user_version records how many have run. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     user TEXT NOT NULL,
     name TEXT NOT NULL,
     kind TEXT NOT NULL,
     backend TEXT NOT NULL,
     account TEXT NOT NULL,
     state TEXT NOT NULL,
     state_reason TEXT,
     created_at TEXT NOT NULL,
     started_at TEXT,
     ended_at TEXT,
     exit_code INTEGER,
     cpus INTEGER NOT NULL,
     memory_mib INTEGER NOT NULL,
     walltime_seconds INTEGER NOT NULL,
     progress_json TEXT,
     error_json TEXT,
     notebook_path TEXT NOT NULL,
     output_dir TEXT NOT NULL,
     output_notebook TEXT,
     spec_json TEXT NOT NULL,
     spec_sha256 TEXT NOT NULL,
     code_json TEXT NOT NULL,
     backend_ref_json TEXT,
     cancel_requested INTEGER NOT NULL DEFAULT 0,
     seq INTEGER NOT NULL
   );
   CREATE INDEX jobs_user ON jobs(user, seq);
   CREATE INDEX jobs_state ON jobs(state);
   CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     job_id TEXT NOT NULL REFERENCES jobs(id),
     at TEXT NOT NULL,
     state TEXT NOT NULL,
     reason TEXT
   );
   CREATE INDEX events_job ON events(job_id, id);
   CREATE TABLE idempotency_keys (
     user TEXT NOT NULL,
     key TEXT NOT NULL,
     spec_sha256 TEXT NOT NULL,
     job_id TEXT NOT NULL REFERENCES jobs(id),
     created_at TEXT NOT NULL,
     PRIMARY KEY (user, key)
   );
   CREATE TABLE quota_reservations (
     job_id TEXT PRIMARY KEY REFERENCES jobs(id),
     user TEXT NOT NULL,
     account TEXT NOT NULL,
     cpus INTEGER NOT NULL,
     memory_mib INTEGER NOT NULL,
     reserved_core_hours REAL NOT NULL,
     used_core_hours REAL,
     created_at TEXT NOT NULL,
     settled_at TEXT
   );
   CREATE INDEX reservations_user ON quota_reservations(user, settled_at, created_at);`,
  // Deleting jobs. A deleted job is marked first (deleted_at; with its provenance snapshot when
  // that is kept), its files are removed, then its row goes (or, when the provenance is kept,
  // stays with files_removed = 1). The quota ledger keeps every reservation, so its rows no
  // longer reference jobs: a deleted job's core-hours still count for their window.
  `ALTER TABLE jobs ADD COLUMN deleted_at TEXT;
   ALTER TABLE jobs ADD COLUMN provenance_json TEXT;
   ALTER TABLE jobs ADD COLUMN files_removed INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX jobs_deleted ON jobs(deleted_at) WHERE deleted_at IS NOT NULL;
   CREATE TABLE quota_ledger (
     job_id TEXT PRIMARY KEY,
     user TEXT NOT NULL,
     account TEXT NOT NULL,
     cpus INTEGER NOT NULL,
     memory_mib INTEGER NOT NULL,
     reserved_core_hours REAL NOT NULL,
     used_core_hours REAL,
     created_at TEXT NOT NULL,
     settled_at TEXT
   );
   INSERT INTO quota_ledger SELECT job_id, user, account, cpus, memory_mib, reserved_core_hours,
     used_core_hours, created_at, settled_at FROM quota_reservations;
   DROP TABLE quota_reservations;
   ALTER TABLE quota_ledger RENAME TO quota_reservations;
   CREATE INDEX reservations_user ON quota_reservations(user, settled_at, created_at);`,
];

export function openDb(file: string): Db {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const done = Number(db.pragma('user_version', { simple: true }));
  for (let i = done; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i]);
      db.pragma(`user_version = ${i + 1}`);
    }).immediate();
  }
}
