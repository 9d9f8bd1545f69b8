/**
 * The public contract of the User Batch extension: the model token, the API
 * types (mirroring docs/contract.md), command IDs and the typed error.
 */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';
import type * as Contract from '@user-batch/contract';

import type { IPreview } from './preview';

/**
 * Command IDs. The UI tests drive these, keep them in step with docs/contract.md.
 */
export namespace CommandIDs {
  export const runCells = 'user-batch:run-cells';
  export const runNotebook = 'user-batch:run-notebook';
  export const open = 'user-batch:open';
  export const runCatalog = 'user-batch:run-catalog';
  export const runScript = 'user-batch:run-script';
  export const runPipeline = 'user-batch:run-pipeline';
  /** The main-area "Batch jobs" panel: every job in a table. */
  export const openJobsPanel = 'user-batch:open-jobs-panel';
  /** A job's details in a main-area tab (args: `jobId`, optional `item`). */
  export const openJobTab = 'user-batch:open-job-tab';
}

/**
 * The id of the settings plugin; its schema is `schema/plugin.json`.
 */
export const SETTINGS_PLUGIN_ID = 'user-batch:plugin';

/**
 * Types shared with the proxy's HTTP API: aliases of the contract's
 * (`@user-batch/contract`, inferred from the zod schemas the proxy validates
 * and answers with), so they cannot drift from what the proxy sends. Type-only
 * imports: no zod in the extension's bundle.
 */
export namespace Batch {
  export type JobState = Contract.JobState;
  export type JobKind = Contract.JobKind;
  /** What kind of backend runs the job; `dask-gateway` jobs get a Dask cluster. */
  export type BackendType = Contract.BackendType;
  /** Dask Gateway: a cluster that scales itself between the two counts. */
  export type IAdaptiveWorkers = NonNullable<
    Contract.JobResources['adaptiveWorkers']
  >;
  export type IResources = Contract.JobResources;
  /** A sky region a catalog run reads; ra/dec in degrees. */
  export type Region = Contract.Region;
  /** What a catalog run reads and the function it maps over partitions. */
  export type ICatalogSource = Contract.CatalogSource;
  /** The body of `POST /api/catalogs/plan`. */
  export type IPlanRequest = Contract.PlanRequest;
  /** The proxy's plan: what a catalog run would touch and cost (the parts the extension reads). */
  export type ICatalogPlan = Pick<
    Contract.CatalogPlan,
    'catalog' | 'totals' | 'estimate' | 'partitionsShown' | 'quota'
  >;
  /** One partition of a catalog run, from `GET /api/jobs/:id/partitions`. */
  export type IPartition = Contract.PartitionState;
  /** A pipeline run's pipeline, repo, collections, query and overrides. */
  export type IPipelineDefinition = Contract.PipelineDefinition;
  export type IConfigOverride = Contract.ConfigOverride;
  export type IConfigFile = Contract.ConfigFile;
  /** The body of `POST /api/pipelines/plan`. */
  export type IPipelinePlanRequest = Contract.PipelinePlanRequest;
  /** The proxy's plan of a pipeline run: quanta per task label, output run, estimate. */
  export type IPipelinePlan = Contract.PipelinePlan;
  /** A standard pipeline of the site (`GET /api/pipelines/standard`). */
  export type IStandardPipeline = Contract.StandardPipeline;
  /** `GET /api/jobs/:id/pipeline`: progress per label, failed quanta, outputs. */
  export type IPipelineStatus = Contract.PipelineStatus;
  /** A quantum that failed: its task label, data ID, exception and the end of its log. */
  export type IFailedQuantum = Contract.FailedQuantum;
  export type ISpecCell = Contract.Cell;
  /** The body of `POST /api/jobs`, as the dialogs build it up. */
  export type IJobSpec = Contract.JobSpecRequest;
  export type ParameterValue = Contract.ParameterValue;
  export type IJobError = Contract.JobError;
  /** How far a job is: cells for one run, runs for a sweep (`items`: one letter per item). */
  export type IProgress = Contract.Progress;
  export type IJob = Contract.Job;
  export type QuotaLimitName = Exclude<
    keyof Contract.QuotaLimits,
    'daskWorkersPerCluster'
  >;
  /** The quota; older proxies omit `limits.daskWorkersPerCluster`. */
  export type IQuotaStatus = Omit<Contract.QuotaStatus, 'limits'> & {
    limits: Contract.QuotaView['limits'];
  };
  /** A backend; older proxies omit `sweepsInParallel` and `type`. */
  export type IBackend = Omit<
    Contract.BackendInfo,
    'sweepsInParallel' | 'type'
  > &
    Partial<Pick<Contract.BackendInfo, 'sweepsInParallel' | 'type'>>;
  export type ILogChunk = Contract.LogChunk;
  /** `DELETE /api/jobs/:id`: the job and the folders removed (relative to the Jupyter root). */
  export type IDeleteJobResult = Contract.DeleteJobResult;
  /** `POST /api/jobs/delete`: the jobs deleted and those refused, with a sentence each. */
  export type IDeleteJobsResult = Contract.DeleteJobsResult;
  export type IOutput = Contract.OutputFile;

  /**
   * The provenance record is owned by the proxy; the UI only summarises it.
   */
  export type Provenance = Record<string, unknown>;

  /**
   * The states after which a job never changes again.
   */
  export const FINAL_STATES: ReadonlyArray<JobState> = [
    'succeeded',
    'failed',
    'cancelled',
    'lost'
  ];

  export function isFinal(state: JobState): boolean {
    return FINAL_STATES.includes(state);
  }
}

/**
 * The error every API call rejects with.
 *
 * `kind` tells a proxy that could not be reached (`network`) apart from one
 * that answered with an error (`response`, carrying the proxy's sentence).
 */
export class BatchError extends Error {
  constructor(options: BatchError.IOptions) {
    super(options.message);
    this.name = 'BatchError';
    this.kind = options.kind;
    this.status = options.status ?? null;
    this.code = options.code ?? null;
    this.details = options.details;
  }

  readonly kind: 'network' | 'response';
  /** HTTP status, for `response` errors. */
  readonly status: number | null;
  /** The proxy's machine code, e.g. `quota_exceeded`. */
  readonly code: string | null;
  readonly details: unknown;
}

export namespace BatchError {
  export interface IOptions {
    kind: 'network' | 'response';
    message: string;
    status?: number;
    code?: string;
    details?: unknown;
  }
}

/**
 * The state of the live connection to the proxy.
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'unreachable';

/**
 * Details of the job open in the sidebar, fetched once it has ended.
 */
export interface IJobDetails {
  jobId: string;
  outputs: Batch.IOutput[] | null;
  provenance: Batch.Provenance | null;
}

/**
 * The live tail of the selected job's log.
 */
export interface ILogTail {
  jobId: string;
  text: string;
  next: number;
  complete: boolean;
  /** The sweep item whose log this is; null for the server's default. */
  item?: number | null;
}

/**
 * The Batch model: the jobs, the quota and the live connection, shared by
 * every part of the extension.
 */
export interface IBatchModel {
  readonly jobs: ReadonlyArray<Batch.IJob>;
  readonly quota: Batch.IQuotaStatus | null;
  readonly backends: ReadonlyArray<Batch.IBackend>;
  readonly connection: ConnectionStatus;
  readonly connectionError: BatchError | null;
  /** The proxy's base URL, for messages. */
  readonly serviceUrl: string;

  readonly selectedJobId: string | null;
  /** The sweep item whose log the open job follows; null: the server's pick. */
  readonly selectedItem: number | null;
  readonly logTail: ILogTail | null;
  readonly details: IJobDetails | null;

  readonly jobsChanged: ISignal<IBatchModel, ReadonlyArray<Batch.IJob>>;
  readonly quotaChanged: ISignal<IBatchModel, Batch.IQuotaStatus | null>;
  readonly backendsChanged: ISignal<IBatchModel, ReadonlyArray<Batch.IBackend>>;
  /** A job reached a final state while we were watching it live. */
  readonly jobEnded: ISignal<IBatchModel, Batch.IJob>;
  readonly connectionChanged: ISignal<IBatchModel, ConnectionStatus>;
  readonly selectionChanged: ISignal<IBatchModel, string | null>;
  readonly logChanged: ISignal<IBatchModel, ILogTail | null>;
  readonly detailsChanged: ISignal<IBatchModel, IJobDetails | null>;

  getJob(id: string): Batch.IJob | undefined;
  selectJob(id: string | null): void;
  /** Follow one sweep item's log of the open job (null: the server's pick). */
  selectItem(item: number | null): void;
  refreshBackends(): Promise<void>;
  refreshQuota(): Promise<void>;
  submit(spec: Batch.IJobSpec): Promise<Batch.IJob>;
  cancel(id: string): Promise<Batch.IJob>;
  /**
   * Submit a job again from its record (its spec as recorded; a pipeline gets
   * a new graph and output run). Resolves with the new job.
   */
  rerun(id: string): Promise<Batch.IJob>;
  /**
   * A job's spec as recorded (from its provenance), ready to edit and submit
   * as a new job: without its idempotency key, a pipeline without its plan.
   */
  recordedSpec(id: string): Promise<Batch.IJobSpec>;
  /** Release a held job (backends that hold jobs, e.g. HTCondor). */
  release(id: string): Promise<Batch.IJob>;
  /**
   * Delete a finished job (its output folder, job folder and record; with
   * `keepProvenance` its provenance record stays readable). It leaves `jobs`.
   */
  delete(id: string, keepProvenance: boolean): Promise<Batch.IDeleteJobResult>;
  /** A URL the browser can follow to download a job's provenance record. */
  provenanceDownloadUrl(id: string): string;
  /** A new planner for a "Run over catalog" dialog; the dialog disposes it. */
  createCatalogPlanner(): ICatalogPlanner;
  /** A new planner for a "Run pipeline in batch" dialog; the dialog disposes it. */
  createPipelinePlanner(): IPipelinePlanner;
  /** The site's standard pipelines (empty when it lists none). */
  standardPipelines(): Promise<Batch.IStandardPipeline[]>;
  /** The open pipeline run's progress per task label and failed quanta, read as the run changes. */
  readonly pipelineRun: IPipelineRun;
  /** The open catalog run's partitions and preview, read as the run changes. */
  readonly catalogRun: ICatalogRun;
  /** The batch system's own log of a job (HTCondor's user log), read while unfolded. */
  readonly batchSystemLog: IBatchSystemLog;
  /** Whether the view of the open job is shown: its logs are read only while it is. */
  setDetailsVisible(visible: boolean): void;

  /**
   * Submissions sent but never answered by the proxy (e.g. the page was
   * reloaded while one was on its way): they outlive a reload.
   */
  readonly pendingSubmissions: ReadonlyArray<IPendingSubmission>;
  readonly pendingSubmissionsChanged: ISignal<IBatchModel, void>;
  /** Send an unconfirmed submission again, with its idempotency key: never a second job. */
  resubmitPending(key: string): Promise<Batch.IJob>;
  /** Forget an unconfirmed submission. */
  discardPending(key: string): void;

  /**
   * Watch one job apart from the sidebar's open job (a details tab): its log
   * is read only while `visible()` says so. The caller disposes it.
   */
  watchJob(jobId: string, visible: () => boolean): IJobWatch;
}

/** A submission the proxy has not confirmed. */
export interface IPendingSubmission {
  /** The spec's idempotency key: a re-send with it can never make a second job. */
  key: string;
  /** The job's name, to say which submission this was. */
  name: string;
  /** When it was sent (ISO). */
  at: string;
  /** The spec as sent; null when the browser's storage had no room for it (it can then only be discarded). */
  spec: Batch.IJobSpec | null;
}

/**
 * One job watched by a view of its own: the job as the model knows it, its
 * log tail (a sweep item's once picked), and once it ended its outputs and
 * provenance; `changed` fires whenever any of them does.
 */
export interface IJobWatch {
  readonly jobId: string;
  readonly job: Batch.IJob | undefined;
  readonly log: ILogTail | null;
  /** The sweep item whose log is followed; null: the server's pick. */
  readonly item: number | null;
  readonly details: IJobDetails | null;
  readonly catalogRun: ICatalogRun;
  readonly pipelineRun: IPipelineRun;
  readonly batchSystemLog: IBatchSystemLog;
  readonly changed: ISignal<IJobWatch, void>;
  readonly isDisposed: boolean;
  selectItem(item: number | null): void;
  dispose(): void;
}

/**
 * Where a catalog plan stands: nothing to ask yet (with what to fix), asking,
 * or the proxy's plan or sentence.
 */
export type CatalogPlanState =
  | { status: 'incomplete'; message: string }
  | { status: 'loading' }
  | { status: 'ok'; plan: Batch.ICatalogPlan }
  | { status: 'error'; message: string };

/** Asks the proxy for the plan of the fields as they change; signals each answer. */
export interface ICatalogPlanner {
  readonly state: CatalogPlanState;
  readonly changed: ISignal<ICatalogPlanner, CatalogPlanState>;
  /** Plan this request after a pause in typing; null: these problems first. */
  request(request: Batch.IPlanRequest | null, problems: string[]): void;
  readonly isDisposed: boolean;
  dispose(): void;
}

/**
 * Where a pipeline plan stands: fields to fix first, building the graph, the
 * proxy's plan (with the values it was made for) or its sentence.
 */
export type PipelinePlanState =
  | { status: 'incomplete'; message: string }
  | { status: 'loading' }
  | { status: 'ok'; plan: Batch.IPipelinePlan; key: string }
  | { status: 'error'; message: string };

/**
 * Builds the quantum graph of the fields when asked (a graph takes seconds to
 * build, so not on every keystroke); an answer to an older request is dropped.
 */
export interface IPipelinePlanner {
  readonly state: PipelinePlanState;
  readonly changed: ISignal<IPipelinePlanner, PipelinePlanState>;
  /** Build the graph of this request now; null: these problems first. */
  plan(request: Batch.IPipelinePlanRequest | null, problems: string[]): void;
  readonly isDisposed: boolean;
  dispose(): void;
}

/** What the open pipeline run shows besides its job. */
export interface IPipelineRunState {
  jobId: string;
  status: Batch.IPipelineStatus | null;
  /** The last read's failure; read again on the next change. */
  error: string | null;
}

export interface IPipelineRun {
  readonly state: IPipelineRunState | null;
  readonly changed: ISignal<IPipelineRun, IPipelineRunState | null>;
}

/** What the open catalog run shows besides its job. */
export interface ICatalogRunState {
  jobId: string;
  partitions: ReadonlyArray<Batch.IPartition>;
  /** The result's first rows, or why there are none; null until read. */
  preview: IPreview | { error: string } | null;
}

export interface ICatalogRun {
  readonly state: ICatalogRunState | null;
  readonly changed: ISignal<ICatalogRun, ICatalogRunState | null>;
}

export interface IBatchSystemLogState {
  jobId: string;
  text: string;
  /** The last read's failure; the reads go on, backing off. */
  error: string | null;
}

export interface IBatchSystemLog {
  readonly state: IBatchSystemLogState | null;
  readonly changed: ISignal<IBatchSystemLog, IBatchSystemLogState | null>;
  /** Read this job's log until complete; null stops reading. */
  follow(jobId: string | null): void;
}

export const IBatchModel = new Token<IBatchModel>(
  'user-batch:IBatchModel',
  'The User Batch model: jobs, quota and the live connection to the proxy.'
);

/**
 * The user's settings (schema/plugin.json).
 */
export interface IBatchSettings {
  proxyUrl: string;
  defaultBackend: string;
  defaultResources: {
    cpus: number;
    memoryMiB: number;
    walltimeMinutes: number;
  };
  /** The catalog folder "Run over catalog" starts with. */
  defaultCatalog: string;
  /** The butler repository and input collections "Run pipeline in batch" starts with. */
  defaultButlerRepo: string;
  defaultInputCollections: string;
}

export const DEFAULT_SETTINGS: IBatchSettings = {
  proxyUrl: 'user-batch/',
  defaultBackend: '',
  defaultCatalog: 'catalogs/synthetic',
  defaultButlerRepo: 'butler-repo',
  defaultInputCollections: 'demo/raw',
  defaultResources: { cpus: 1, memoryMiB: 2048, walltimeMinutes: 60 }
};
