import type { JobPatch, JobRecord } from '../store/jobs';
import type { JobKind, OutputFile } from '@user-batch/contract';

/**
 * What a backend learned about a job; the service turns it into a state change. The fields are
 * the store's own patch, less what only the service decides (a cancel being requested).
 */
export interface JobUpdate extends Omit<JobPatch, 'cancelRequested'> {
  jobId: string;
  /** reconcile(): the job was stored but never started (crash between store and backend). */
  needsSubmit?: boolean;
  /** With a final state: what the job really used, when the backend knows better than cores × elapsed (a sweep's items). */
  usedCoreHours?: number;
}

export interface LogChunk {
  text: string;
  from: number;
  next: number;
  size: number;
}

/** One interface for every place jobs can run. */
export interface Backend {
  readonly name: string;
  /** Whether a sweep's items may all run at once (HTCondor) or run one after another (local). */
  readonly sweepsInParallel: boolean;
  /** Whether the job's resources are per Dask worker (the quota counts workers × cores). */
  readonly usesDaskWorkers?: boolean;
  /** How a pipeline run's graph runs here: `bps` hands it to BPS (HTCondor); otherwise `pipetask run`. */
  readonly pipelineEngine?: 'pipetask' | 'bps';
  /** Why this backend cannot run a job of this kind, as a sentence; null (or no method) when it can. */
  refusesKind?(kind: JobKind): string | null;
  /** Start a stored job whose directory is written; returns its first update. */
  submit(job: JobRecord): Promise<JobUpdate>;
  /** One pass over all the backend's active jobs (one query, never one per job). */
  poll(jobs: readonly JobRecord[]): Promise<JobUpdate[]>;
  /** Stop the job; resolves once the backend confirms it is gone. */
  cancel(job: JobRecord): Promise<JobUpdate>;
  /** Let a held job run again (only backends that hold jobs). */
  release?(job: JobRecord): Promise<JobUpdate>;
  /** The job's log; `item`: one sweep item's, where the backend keeps them apart. */
  logs(job: JobRecord, from: number, maxBytes: number, item?: number): Promise<LogChunk>;
  /** The batch system's own log of the job (HTCondor's user log: submitted, executing, held, terminated). */
  userLog?(job: JobRecord, from: number, maxBytes: number): Promise<LogChunk>;
  outputs(job: JobRecord): Promise<OutputFile[]>;
  /** After a restart: match stored non-final jobs against what really exists. */
  reconcile(jobs: readonly JobRecord[]): Promise<JobUpdate[]>;
  /** Call `listener` when one of its jobs' processes ends here, so the end is seen before the next poll. */
  onJobExit?(listener: () => void): void;
}
