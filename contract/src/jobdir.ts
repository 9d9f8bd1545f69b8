import { z } from 'zod';
import { JobError, Progress } from './api';
import { PartitionState } from './plan';
import { PipelinePlanErrorFile, PipelinePlanFile, PipelineProgressFile, PipelineProvenanceFile } from './pipeline';
import { Region } from './region';
import { Cell } from './shared';

/**
 * The job folder: the seam between the proxy and the Python runner. The proxy writes the inputs
 * and reads back everything else; each file has a name, who writes it, and a schema. The Python
 * side's constants (user_batch/jobfiles.py) and the JSON Schemas under docs/jobdir/ are generated
 * from this module (`npm run generate -w contract`).
 */

/** run.json: what the runner runs. A script job arrives as kind "cells" (argv set-up cell, then the file). */
export const RunFile = z.looseObject({
  jobId: z.string(),
  kind: z.enum(['cells', 'notebook', 'catalog', 'pipeline']),
  kernelName: z.string(),
  notebookPath: z.string(),
  /** The notebook's folder on disk: the kernel's working directory. */
  notebookDir: z.string(),
  /** kind cells: the cells to run, setup first. */
  cells: z.array(Cell).optional(),
  /** kind notebook: the notebook's file name in the job folder. */
  inputNotebook: z.string().optional(),
  /** kind cells made from a script job: the script's path (relative to the Jupyter root), for the log. */
  script: z.string().optional(),
  parameters: z.record(z.string(), z.json()),
  outputDir: z.string(),
  outputNotebook: z.string(),
  walltimeSeconds: z.number().int(),
  cpus: z.number().int(),
  memoryMiB: z.number().int(),
});
export type RunFile = z.infer<typeof RunFile>;

/** catalog.json: the catalog driver's input (user_batch.catalog_run). */
export const CatalogFile = z.looseObject({
  jobId: z.string(),
  /** The catalog folder, absolute. */
  catalog: z.string(),
  region: Region.nullable(),
  columns: z.array(z.string()).nullable(),
  function: z.object({ name: z.string(), source: z.string(), setupSource: z.string().optional() }),
  /** The planned partitions; the driver reports whether its own selection agrees. */
  partitions: z.array(z.object({ order: z.number().int(), pixel: z.number().int() })),
  /** Where the result catalog is written, and its name. */
  output: z.string(),
  outputName: z.string(),
  previewRows: z.number().int(),
  walltimeSeconds: z.number().int(),
});
export type CatalogFile = z.infer<typeof CatalogFile>;

/**
 * pipeline.json: a pipeline run's input, for the planner (`python -m user_batch.pipeline_plan DIR`,
 * which builds pipeline.qg and pipeline-plan.json next to it) and then for the runner. Paths are absolute.
 */
export const PipelineFile = z.looseObject({
  jobId: z.string().nullable(),
  butlerRepo: z.string(),
  /** The pipeline YAML. */
  pipeline: z.string(),
  /** Task labels or subsets to run; null runs the whole pipeline. */
  labels: z.array(z.string()).nullable(),
  inputCollections: z.array(z.string()),
  outputCollection: z.string(),
  /** Fixed when the graph is built. */
  outputRun: z.string(),
  dataQuery: z.string(),
  configOverrides: z.array(z.object({ label: z.string(), field: z.string(), value: z.string() })),
  configFiles: z.array(z.object({ label: z.string(), path: z.string() })),
  cpus: z.number().int(),
  walltimeSeconds: z.number().int(),
  /** How the runner runs the graph: `pipetask run` in its own process tree, or `bps submit` to an HTCondor pool. */
  engine: z.enum(['pipetask', 'bps']).optional(),
  /** Who runs it and the account charged (BPS's accountingUser and accountingGroup). */
  user: z.string().optional(),
  account: z.string().optional(),
  /** BPS only: quanta sharing these dimension values run as one pool job (the site's choice, for tiny quanta). */
  clusterDimensions: z.array(z.string()).optional(),
});
export type PipelineFile = z.infer<typeof PipelineFile>;

/** sweep.json: one object of parameter values per item, in item order. */
export const SweepFile = z.array(z.record(z.string(), z.json()));

/** spawn.json (local backend): where the proxy finds the job's process after a restart. */
export const SpawnFile = z.object({
  pid: z.number().int().positive(),
  pgid: z.number().int().positive(),
  procStartTicks: z.number().nullable(),
});
export type SpawnFile = z.infer<typeof SpawnFile>;

/** launch.json: written by the runner first thing; kernelPgid once the kernel runs (its own process group). */
export const LaunchFile = z.looseObject({
  pid: z.number().int().positive(),
  pgid: z.number().int().positive(),
  startedAt: z.string().optional(),
  kernelPgid: z.number().int().positive().optional(),
});
export type LaunchFile = z.infer<typeof LaunchFile>;

/** env.json: the interpreter, installed packages, host and platform the job ran with. */
export const EnvFile = z.record(z.string(), z.unknown());

/** progress.json: cells (or a sweep's items, or a catalog's partitions) done so far. */
export const ProgressFile = Progress;

/** error.json: the first error; a traceback as text or as lines; a catalog run names the partition. */
export const ErrorFile = JobError.extend({
  cellId: z.string().nullable().optional(),
  traceback: z.union([z.string(), z.array(z.string())]),
  partition: z.object({ order: z.number().int(), pixel: z.number().int() }).nullable().optional(),
});
export type ErrorFile = z.infer<typeof ErrorFile>;

/** Why the runner ended; `exitCode` in exit.json is EXIT_CODES[reason]. */
export const EXIT_REASONS = [
  'ok',
  'cell_error',
  'partition_error',
  'items_failed',
  'quanta_failed',
  'runner_error',
  'walltime',
  'cancelled',
] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

/** The runner's exit status (also `exitCode` in exit.json). */
export const EXIT_OK = 0;
/** A cell raised, a catalog partition failed, a sweep item failed, or a pipeline's quanta failed. */
export const EXIT_CELL_ERROR = 1;
/** The runner itself failed (bad input, kernel would not start). */
export const EXIT_RUNNER_ERROR = 2;
/** Stopped at the walltime (as `timeout` reports it). */
export const EXIT_WALLTIME = 124;
/** Stopped by SIGTERM: 128 + 15. */
export const EXIT_CANCELLED = 143;
export const EXIT_CODES: Readonly<Record<ExitReason, number>> = {
  ok: EXIT_OK,
  cell_error: EXIT_CELL_ERROR,
  partition_error: EXIT_CELL_ERROR,
  items_failed: EXIT_CELL_ERROR,
  quanta_failed: EXIT_CELL_ERROR,
  runner_error: EXIT_RUNNER_ERROR,
  walltime: EXIT_WALLTIME,
  cancelled: EXIT_CANCELLED,
};

/**
 * exit.json: how the runner ended. `reason` is read as a string so that a newer runner's reason
 * reaches the person as "unknown reason ..." instead of a lost job.
 */
export const ExitFile = z.looseObject({
  exitCode: z.number().int().nullable().optional(),
  reason: z.string(),
  /** A sentence for the user (a sweep: how many items failed). */
  message: z.string().optional(),
  endedAt: z.string().optional(),
});
export type ExitFile = z.infer<typeof ExitFile>;

/** partitions.json: every partition of a catalog run and its state. */
export const PartitionsFile = z.array(PartitionState);

/** preview.json: what preview.arrow holds (the first rows of the result). */
export const PreviewFile = z.looseObject({
  columns: z.array(z.string()),
  rows: z.number().int(),
  totalRows: z.number().int(),
});

/** catalog-provenance.json: the driver's record of a catalog run (input, function, cluster, output files). */
export const CatalogProvenanceFile = z.looseObject({
  jobId: z.string().nullable(),
  status: z.string(),
});

/** plan.json: the plan the proxy made at submit (see CatalogPlan; kept whole, partitions unshortened). */
export const PlanFile = z.looseObject({
  totals: z.object({ partitions: z.number(), rows: z.number(), bytes: z.number() }),
  partitions: z.array(z.object({ order: z.number(), pixel: z.number(), rows: z.number(), bytes: z.number() })),
});

export type Writer = 'proxy' | 'runner';
export interface JobDirEntry {
  /** The file's (or folder's) name inside the job folder. */
  readonly name: string;
  /** The constant's name in user_batch/jobfiles.py. */
  readonly python: string;
  readonly writtenBy: Writer;
  readonly about: string;
  /** The JSON file's shape; none for non-JSON files and folders. */
  readonly schema?: z.ZodType;
}

const entry = (name: string, python: string, writtenBy: Writer, about: string, schema?: z.ZodType): JobDirEntry => ({
  name,
  python,
  writtenBy,
  about,
  ...(schema ? { schema } : {}),
});

/** Every file of the job folder, in the order docs/contract.md lists them. */
export const JOB_DIR = {
  spec: entry('spec.json', 'SPEC_JSON', 'proxy', 'the job spec as submitted (defaults filled in)'),
  run: entry('run.json', 'RUN_JSON', 'proxy', 'what the runner runs; written last, its presence means the folder is complete', RunFile),
  catalog: entry('catalog.json', 'CATALOG_JSON', 'proxy', "a catalog run: the driver's input", CatalogFile),
  plan: entry('plan.json', 'PLAN_JSON', 'proxy', 'a catalog run: the plan made at submit', PlanFile),
  sweep: entry('sweep.json', 'SWEEP_JSON', 'proxy', "a sweep: each item's parameter values", SweepFile),
  inputNotebook: entry('input.ipynb', 'INPUT_NOTEBOOK', 'proxy', 'a notebook job: the notebook to run'),
  spawn: entry('spawn.json', 'SPAWN_JSON', 'proxy', 'local backend: the process the proxy started', SpawnFile),
  launch: entry('launch.json', 'LAUNCH_JSON', 'runner', "the runner's process, first thing it writes", LaunchFile),
  env: entry('env.json', 'ENV_JSON', 'runner', 'interpreter, packages, host, platform', EnvFile),
  progress: entry('progress.json', 'PROGRESS_JSON', 'runner', 'cells, items or partitions done so far', ProgressFile),
  error: entry('error.json', 'ERROR_JSON', 'runner', 'the first error', ErrorFile),
  exit: entry('exit.json', 'EXIT_JSON', 'runner', 'how the runner ended; its presence means it ended', ExitFile),
  partitions: entry('partitions.json', 'PARTITIONS_JSON', 'runner', "a catalog run: each partition's state", PartitionsFile),
  previewArrow: entry('preview.arrow', 'PREVIEW_ARROW', 'runner', 'a catalog run: the first rows of the result, Arrow IPC'),
  preview: entry('preview.json', 'PREVIEW_JSON', 'runner', 'a catalog run: what preview.arrow holds', PreviewFile),
  catalogProvenance: entry(
    'catalog-provenance.json',
    'CATALOG_PROVENANCE_JSON',
    'runner',
    "a catalog run: the driver's record",
    CatalogProvenanceFile,
  ),
  pipeline: entry('pipeline.json', 'PIPELINE_JSON', 'proxy', "a pipeline run: the planner's and the runner's input", PipelineFile),
  pipelineGraph: entry('pipeline.qg', 'PIPELINE_GRAPH', 'proxy', 'a pipeline run: the quantum graph built at plan time, the one that runs'),
  pipelinePlan: entry(
    'pipeline-plan.json',
    'PIPELINE_PLAN_JSON',
    'proxy',
    'a pipeline run: quanta per task label and the output run, from the planner',
    PipelinePlanFile,
  ),
  pipelinePlanError: entry(
    'pipeline-plan-error.json',
    'PIPELINE_PLAN_ERROR_JSON',
    'proxy',
    "a failed pipeline plan: a sentence and the middleware's words",
    PipelinePlanErrorFile,
  ),
  pipelineProgress: entry(
    'pipeline-progress.json',
    'PIPELINE_PROGRESS_JSON',
    'runner',
    'a pipeline run: quanta done/failed/blocked per label',
    PipelineProgressFile,
  ),
  pipelineLog: entry('pipeline-log.json', 'PIPELINE_LOG_JSON', 'runner', "a pipeline run: pipetask's JSON log records, one per line"),
  pipelineProvenance: entry(
    'pipeline-provenance.json',
    'PIPELINE_PROVENANCE_JSON',
    'runner',
    "a pipeline run: the runner's record of what ran",
    PipelineProvenanceFile,
  ),
  outputLog: entry('output.log', 'OUTPUT_LOG', 'runner', "the job's log (stdout and stderr)"),
  items: entry('items', 'ITEMS_DIR', 'runner', 'a sweep: one folder per item (items/N/), each a small job folder'),
} as const satisfies Record<string, JobDirEntry>;

/** The file names alone, for code that reads or writes them: `join(dir, JOB_FILES.exit)`. */
export const JOB_FILES = Object.fromEntries(Object.entries(JOB_DIR).map(([key, e]) => [key, e.name])) as {
  readonly [K in keyof typeof JOB_DIR]: (typeof JOB_DIR)[K]['name'];
};
