import type { Db } from './db';
import { CodeEntry, type Job, JobError, JobKind, JobState, type JobSpec, Progress } from '@user-batch/contract';
import { z } from 'zod';

/** A job as stored: the API's Job plus what only the proxy needs. */
export interface JobRecord extends Job {
  spec: JobSpec;
  specSha256: string;
  code: CodeEntry[];
  backendRef: Record<string, unknown> | null;
  cancelRequested: boolean;
}

interface JobRow {
  id: string;
  user: string;
  name: string;
  kind: string;
  backend: string;
  account: string;
  state: string;
  state_reason: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  exit_code: number | null;
  cpus: number;
  memory_mib: number;
  walltime_seconds: number;
  progress_json: string | null;
  error_json: string | null;
  notebook_path: string;
  output_dir: string;
  output_notebook: string | null;
  spec_json: string;
  spec_sha256: string;
  code_json: string;
  backend_ref_json: string | null;
  cancel_requested: number;
  reserved_core_hours: number | null;
  used_core_hours: number | null;
}

/** Fields a state change may update. */
export interface JobPatch {
  state?: JobState;
  stateReason?: string | null;
  startedAt?: string | null;
  endedAt?: string | null;
  exitCode?: number | null;
  progress?: Progress | null;
  error?: JobError | null;
  backendRef?: Record<string, unknown> | null;
  cancelRequested?: boolean;
}

export interface JobEvent {
  at: string;
  state: string;
  reason: string | null;
}

const parseJson = <T>(schema: z.ZodType<T>, text: string | null): T | null => (text === null ? null : schema.parse(JSON.parse(text)));

/** Live jobs only: a deleted job (deleted_at set) is gone for every reader but its kept provenance. */
const SELECT = `SELECT j.*, r.reserved_core_hours, r.used_core_hours
  FROM jobs j LEFT JOIN quota_reservations r ON r.job_id = j.id WHERE j.deleted_at IS NULL`;

/** A deleted job whose files may still be on disk. */
export interface PendingDeletion {
  id: string;
  user: string;
  outputDir: string;
}

export class JobStore {
  constructor(private readonly db: Db) {}

  insert(job: JobRecord): void {
    const seq = this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM jobs').get() as { n: number };
    this.db
      .prepare(
        `INSERT INTO jobs (id, user, name, kind, backend, account, state, state_reason, created_at,
           started_at, ended_at, exit_code, cpus, memory_mib, walltime_seconds, progress_json, error_json,
           notebook_path, output_dir, output_notebook, spec_json, spec_sha256, code_json, backend_ref_json,
           cancel_requested, seq)
         VALUES (@id, @user, @name, @kind, @backend, @account, @state, @stateReason, @createdAt,
           @startedAt, @endedAt, @exitCode, @cpus, @memoryMiB, @walltimeSeconds, @progress, @error,
           @notebookPath, @outputDir, @outputNotebook, @spec, @specSha256, @code, @backendRef, 0, @seq)`,
      )
      .run({
        ...job,
        ...job.resources,
        progress: job.progress && JSON.stringify(job.progress),
        error: job.error && JSON.stringify(job.error),
        spec: JSON.stringify(job.spec),
        code: JSON.stringify(job.code),
        backendRef: job.backendRef && JSON.stringify(job.backendRef),
        seq: seq.n,
      });
    this.addEvent(job.id, job.state, job.stateReason, job.createdAt);
  }

  get(id: string): JobRecord | null {
    const row = this.db.prepare(`${SELECT} AND j.id = ?`).get(id) as JobRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** The job if it belongs to the user; another user's job looks exactly like a missing one. */
  getOwned(id: string, user: string): JobRecord | null {
    const row = this.db.prepare(`${SELECT} AND j.id = ? AND j.user = ?`).get(id, user) as JobRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** Whether any stored job (deleted ones whose files remain too) has this output folder. */
  hasOutputDir(outputDir: string): boolean {
    return this.db.prepare('SELECT 1 FROM jobs WHERE output_dir = ? LIMIT 1').get(outputDir) !== undefined;
  }

  listOwned(user: string): JobRecord[] {
    const rows = this.db.prepare(`${SELECT} AND j.user = ? ORDER BY j.seq DESC`).all(user) as JobRow[];
    return rows.map(toRecord);
  }

  listActive(): JobRecord[] {
    const rows = this.db.prepare(`${SELECT} AND j.state NOT IN ('succeeded','failed','cancelled','lost') ORDER BY j.seq`).all() as JobRow[];
    return rows.map(toRecord);
  }

  update(id: string, patch: JobPatch): void {
    const sets: string[] = [];
    const values: Record<string, unknown> = { id };
    const put = (column: string, value: unknown): void => {
      sets.push(`${column} = @${column}`);
      values[column] = value;
    };
    if (patch.state !== undefined) put('state', patch.state);
    if (patch.stateReason !== undefined) put('state_reason', patch.stateReason);
    if (patch.startedAt !== undefined) put('started_at', patch.startedAt);
    if (patch.endedAt !== undefined) put('ended_at', patch.endedAt);
    if (patch.exitCode !== undefined) put('exit_code', patch.exitCode);
    if (patch.progress !== undefined) put('progress_json', patch.progress && JSON.stringify(patch.progress));
    if (patch.error !== undefined) put('error_json', patch.error && JSON.stringify(patch.error));
    if (patch.backendRef !== undefined) put('backend_ref_json', patch.backendRef && JSON.stringify(patch.backendRef));
    if (patch.cancelRequested !== undefined) put('cancel_requested', patch.cancelRequested ? 1 : 0);
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE id = @id`).run(values);
  }

  addEvent(jobId: string, state: string, reason: string | null, at: string = new Date().toISOString()): void {
    this.db.prepare('INSERT INTO events (job_id, at, state, reason) VALUES (?, ?, ?, ?)').run(jobId, at, state, reason);
  }

  events(jobId: string): JobEvent[] {
    return this.db.prepare('SELECT at, state, reason FROM events WHERE job_id = ? ORDER BY id').all(jobId) as JobEvent[];
  }

  /**
   * Mark a live job deleted (its idempotency keys go: a retried submit makes a new job).
   * `provenance`: the record to keep readable, or null to drop the row once its files are gone.
   * Call inside the transaction that checked the job may be deleted.
   */
  markDeleted(id: string, at: string, provenance: string | null): void {
    this.db.prepare('UPDATE jobs SET deleted_at = ?, provenance_json = ? WHERE id = ? AND deleted_at IS NULL').run(at, provenance, id);
    this.db.prepare('DELETE FROM idempotency_keys WHERE job_id = ?').run(id);
  }

  /** Deleted jobs whose files are not known to be removed yet (after a crash, too). */
  pendingDeletions(): PendingDeletion[] {
    return this.db
      .prepare(
        `SELECT id, user, output_dir AS outputDir FROM jobs
         WHERE deleted_at IS NOT NULL AND files_removed = 0 ORDER BY seq`,
      )
      .all() as PendingDeletion[];
  }

  /** The files of a deleted job are gone: drop its row and events, or keep them when its provenance is kept. */
  finishDeletion(id: string): void {
    this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT provenance_json FROM jobs WHERE id = ? AND deleted_at IS NOT NULL').get(id) as
          { provenance_json: string | null } | undefined;
        if (!row) return;
        if (row.provenance_json === null) {
          this.db.prepare('DELETE FROM events WHERE job_id = ?').run(id);
          this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
        } else {
          this.db.prepare('UPDATE jobs SET files_removed = 1 WHERE id = ?').run(id);
        }
      })
      .immediate();
  }

  /** The provenance record kept when the user's job was deleted, as stored (JSON text); null if none. */
  keptProvenance(id: string, user: string): string | null {
    const row = this.db
      .prepare('SELECT provenance_json FROM jobs WHERE id = ? AND user = ? AND deleted_at IS NOT NULL AND provenance_json IS NOT NULL')
      .get(id, user) as { provenance_json: string } | undefined;
    return row?.provenance_json ?? null;
  }

  findIdempotency(user: string, key: string): { specSha256: string; jobId: string } | null {
    const row = this.db
      .prepare('SELECT spec_sha256 AS specSha256, job_id AS jobId FROM idempotency_keys WHERE user = ? AND key = ?')
      .get(user, key) as { specSha256: string; jobId: string } | undefined;
    return row ?? null;
  }

  insertIdempotency(user: string, key: string, specSha256: string, jobId: string, at: string): void {
    this.db
      .prepare('INSERT INTO idempotency_keys (user, key, spec_sha256, job_id, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(user, key, specSha256, jobId, at);
  }
}

function toRecord(row: JobRow): JobRecord {
  const spec = JSON.parse(row.spec_json) as JobSpec;
  return {
    id: row.id,
    user: row.user,
    name: row.name,
    kind: JobKind.parse(row.kind),
    backend: row.backend,
    account: row.account,
    state: JobState.parse(row.state),
    stateReason: row.state_reason,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    exitCode: row.exit_code,
    resources: { cpus: row.cpus, memoryMiB: row.memory_mib, walltimeSeconds: row.walltime_seconds },
    progress: parseJson(Progress, row.progress_json),
    outputDir: row.output_dir,
    outputNotebook: row.output_notebook,
    error: parseJson(JobError, row.error_json),
    cost: { reservedCoreHours: row.reserved_core_hours ?? 0, usedCoreHours: row.used_core_hours },
    notebookPath: row.notebook_path,
    spec,
    specSha256: row.spec_sha256,
    code: z.array(CodeEntry).parse(JSON.parse(row.code_json)),
    backendRef: parseJson(z.record(z.string(), z.unknown()), row.backend_ref_json),
    cancelRequested: row.cancel_requested === 1,
  };
}

/** The public view of a stored job. */
export function toJob(record: JobRecord): Job {
  return {
    id: record.id,
    user: record.user,
    name: record.name,
    kind: record.kind,
    backend: record.backend,
    account: record.account,
    state: record.state,
    stateReason: record.stateReason,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    exitCode: record.exitCode,
    resources: {
      ...record.resources,
      ...(record.spec.resources.workers !== undefined ? { workers: record.spec.resources.workers } : {}),
      ...(record.spec.resources.adaptiveWorkers ? { adaptiveWorkers: record.spec.resources.adaptiveWorkers } : {}),
    },
    progress: record.progress,
    outputDir: record.outputDir,
    outputNotebook: record.outputNotebook,
    error: record.error,
    cost: record.cost,
    notebookPath: record.notebookPath,
    dashboardUrl: typeof record.backendRef?.dashboardUrl === 'string' ? record.backendRef.dashboardUrl : null,
  };
}
