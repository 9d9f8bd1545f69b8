import { z } from 'zod';
import { CellRole } from './shared';
import { JobKind } from './spec';

/** What the proxy's HTTP API answers: one schema per answer, the proxy's response schemas and the extension's types. */

export const JobState = z.enum(['pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'held', 'lost']);
export type JobState = z.infer<typeof JobState>;
/** The states after which a job never changes again. */
export const FINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'lost'];
export function isFinal(state: JobState): boolean {
  return FINAL_STATES.includes(state);
}

/**
 * How far a job is: cells for one run, items for a sweep. A sweep also says what each item is
 * doing: `items` has one letter per item, in item order — q queued, r running, h held,
 * d done, f failed, c cancelled.
 */
export const Progress = z.object({
  total: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
  items: z
    .string()
    .regex(/^[qrhdfc]*$/)
    .optional(),
});
export type Progress = z.infer<typeof Progress>;

export const JobError = z.object({
  ename: z.string(),
  evalue: z.string(),
  traceback: z.string(),
  cellId: z.string().nullable(),
});
export type JobError = z.infer<typeof JobError>;

/** A job's resources as the API answers them (the spec's, defaults filled in). */
export const JobResources = z.object({
  cpus: z.number(),
  memoryMiB: z.number(),
  walltimeSeconds: z.number(),
  /** Dask Gateway backends: a fixed number of workers (cpus and memoryMiB are per worker). */
  workers: z.number().optional(),
  /** Dask Gateway backends: an adaptive cluster instead of `workers`. */
  adaptiveWorkers: z.object({ minimum: z.number(), maximum: z.number() }).optional(),
});
export type JobResources = z.infer<typeof JobResources>;

export const Job = z
  .object({
    id: z.string(),
    user: z.string(),
    name: z.string(),
    kind: JobKind,
    backend: z.string(),
    account: z.string(),
    state: JobState,
    stateReason: z.string().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    exitCode: z.number().int().nullable(),
    resources: JobResources,
    progress: Progress.nullable(),
    outputDir: z.string(),
    outputNotebook: z.string().nullable(),
    error: JobError.nullable(),
    cost: z.object({ reservedCoreHours: z.number(), usedCoreHours: z.number().nullable() }),
    notebookPath: z.string(),
    /** Dask Gateway: the cluster's dashboard while it runs. */
    dashboardUrl: z.string().nullable().optional(),
  })
  .meta({ id: 'Job' });
export type Job = z.infer<typeof Job>;
export const JobList = z.object({ jobs: z.array(Job) });

export const QuotaLimits = z.object({
  concurrentJobs: z.number(),
  concurrentCores: z.number(),
  coreHours: z.number(),
  memoryPerJobMiB: z.number(),
  /** Dask workers one job's cluster may have (also passed to the gateway as the cluster's cap). */
  daskWorkersPerCluster: z.number(),
});
export type QuotaLimits = z.infer<typeof QuotaLimits>;
export const QuotaUsage = z.object({ concurrentJobs: z.number(), concurrentCores: z.number(), coreHours: z.number() });
export type QuotaUsage = z.infer<typeof QuotaUsage>;
export const QuotaStatus = z
  .object({
    user: z.string(),
    accounts: z.array(z.string()),
    windowHours: z.number(),
    limits: QuotaLimits,
    usage: QuotaUsage,
  })
  .meta({ id: 'QuotaStatus' });
export type QuotaStatus = z.infer<typeof QuotaStatus>;

/** Every `code` an error answer may carry; the sentence in `error` is for the person. */
export const ERROR_CODES = [
  'invalid_request',
  'body_too_large',
  'unauthorized',
  'not_found',
  'internal',
  'unknown_backend',
  'account_not_allowed',
  'idempotency_conflict',
  'quota_exceeded',
  'job_finished',
  'job_active',
  'not_held',
  'invalid_path',
  'not_hats',
  'invalid_region',
  'unknown_column',
  'catalog_not_allowed',
  'not_a_catalog_run',
  'no_preview',
  'pipeline_plan_failed',
  'plan_not_found',
  'repo_not_allowed',
  'unknown_standard_pipeline',
  'not_a_pipeline_run',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
export const ErrorBody = z
  .object({
    error: z.string(),
    /** One of ERROR_CODES (kept a string here so an older client still reads a newer code). */
    code: z.string(),
    details: z.unknown().optional(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const LogChunk = z.object({
  text: z.string(),
  from: z.number().int(),
  next: z.number().int(),
  size: z.number().int(),
  complete: z.boolean(),
});
export type LogChunk = z.infer<typeof LogChunk>;

export const OutputFile = z.object({ path: z.string(), size: z.number().int(), sha256: z.string(), jupyterPath: z.string() });
export type OutputFile = z.infer<typeof OutputFile>;
export const OutputList = z.object({ outputs: z.array(OutputFile) });

export const CodeEntry = z.object({
  sha256: z.string(),
  // notebook-file: the saved notebook the cells were taken from, as it was on disk at submit;
  // pipeline, config-file: a pipeline run's YAML and its override files, as read when its graph was built
  kind: z.enum(['cell', 'notebook', 'notebook-file', 'function', 'script', 'pipeline', 'config-file']),
  cellId: z.string().nullable(),
  role: CellRole.nullable(),
  bytes: z.number().int(),
});
export type CodeEntry = z.infer<typeof CodeEntry>;

export const Provenance = z
  .object({
    schemaVersion: z.literal(1),
    job: Job,
    spec: z.unknown(),
    specSha256: z.string(),
    code: z.array(CodeEntry),
    notebook: z.object({ path: z.string(), sha256: z.string().nullable() }),
    parameters: z.record(z.string(), z.unknown()),
    environment: z.unknown().nullable(),
    backend: z.object({ name: z.string(), ref: z.unknown().nullable() }),
    launch: z.unknown().nullable(),
    exit: z.unknown().nullable(),
    events: z.array(z.object({ at: z.string(), state: z.string(), reason: z.string().nullable() })),
    outputs: z.array(OutputFile),
    logs: z.array(z.object({ name: z.string(), size: z.number().int(), sha256: z.string() })),
    /** Catalog runs: the plan made at submit, and the driver's record (input, function, cluster, output files). */
    catalog: z.object({ plan: z.unknown().nullable(), run: z.unknown().nullable() }).nullable().optional(),
    /** Pipeline runs: the plan the graph was built with, and the runner's record (pipeline-provenance.json). */
    pipeline: z.object({ plan: z.unknown().nullable(), run: z.unknown().nullable() }).nullable().optional(),
    proxyVersion: z.string(),
  })
  .meta({ id: 'Provenance' });
export type Provenance = z.infer<typeof Provenance>;

/** What kind of backend runs a job; on `dask-gateway` the resources are per worker. */
export const BackendType = z.enum(['local', 'htcondor', 'dask-gateway']);
export type BackendType = z.infer<typeof BackendType>;
export const BackendInfo = z.object({
  name: z.string(),
  label: z.string(),
  default: z.boolean(),
  /** A sweep's items all at once (HTCondor: quota counts items × cores) or one after another (local). */
  sweepsInParallel: z.boolean(),
  /** What runs the jobs: on a dask-gateway backend the resources are per worker, with `workers` or `adaptiveWorkers`. */
  type: BackendType,
});
export type BackendInfo = z.infer<typeof BackendInfo>;
export const BackendList = z.object({ backends: z.array(BackendInfo) });
export type BackendList = z.infer<typeof BackendList>;

export const JobIdParams = z.object({ id: z.string().min(1).max(100) });

/** At most this many jobs in one `POST /api/jobs/delete`. */
export const MAX_DELETE_IDS = 1000;

/**
 * The body of `POST /api/jobs/delete`. `keepProvenance`: keep the provenance record readable
 * (`GET /api/jobs/:id/provenance`) while the job leaves the list and its files are removed.
 */
export const DeleteJobsRequest = z.object({
  ids: z
    .array(JobIdParams.shape.id)
    .min(1)
    .max(MAX_DELETE_IDS, `at most ${MAX_DELETE_IDS} jobs at once; delete the rest in another request`),
  keepProvenance: z.boolean().default(false),
});
export type DeleteJobsRequest = z.input<typeof DeleteJobsRequest>;

/** `DELETE /api/jobs/:id`: the job deleted, and the folders removed (relative to the Jupyter root). */
export const DeleteJobResult = z.object({ deleted: z.string(), removed: z.array(z.string()) });
export type DeleteJobResult = z.infer<typeof DeleteJobResult>;

/** `POST /api/jobs/delete`: the jobs deleted, and those refused with a sentence (and an ERROR_CODES code). */
export const DeleteJobsResult = z.object({
  deleted: z.array(z.string()),
  refused: z.array(z.object({ id: z.string(), error: z.string(), code: z.string() })),
});
export type DeleteJobsResult = z.infer<typeof DeleteJobsResult>;

/** The event stream's `job-deleted` event: the job left the store, drop it from any list. */
export const JobDeletedEvent = z.object({ id: z.string() });
export type JobDeletedEvent = z.infer<typeof JobDeletedEvent>;
