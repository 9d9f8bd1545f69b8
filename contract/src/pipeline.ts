import { z } from 'zod';
import { PipelineDefinition } from './kinds/pipeline';
import { PlanQuota } from './plan';
import { Resources } from './shared';

/**
 * A pipeline run's plan and progress: what the planner (`python -m user_batch.pipeline_plan`)
 * writes, what the runner (`user_batch.pipeline_run`) writes while it runs, and what the API
 * answers (POST /pipelines/plan, GET /jobs/:id/pipeline).
 */

/** The quanta of one task label in the quantum graph. */
export const LabelQuanta = z.object({
  label: z.string(),
  taskClass: z.string(),
  quanta: z.number().int().min(0),
  /** The task's dimensions (what BPS may cluster its quanta by). */
  dimensions: z.array(z.string()).optional(),
});
export type LabelQuanta = z.infer<typeof LabelQuanta>;

/**
 * pipeline-plan.json: the planner's answer, next to the graph it built (pipeline.qg). The graph's
 * output run is fixed here: running it writes into exactly `outputRun`.
 */
export const PipelinePlanFile = z.looseObject({
  outputCollection: z.string(),
  outputRun: z.string(),
  inputCollections: z.array(z.string()),
  dataQuery: z.string(),
  /** One entry per task label, in pipeline order. */
  labels: z.array(LabelQuanta),
  totalQuanta: z.number().int().min(0),
  /** sha256 of pipeline.qg. */
  graphSha256: z.string(),
  /** The pipeline after every override and label selection, as YAML (`pipetask build --show pipeline`). */
  expandedPipeline: z.string(),
  /** Seconds the graph took to build. */
  seconds: z.number(),
  /** Versions of the middleware packages that built the graph. */
  versions: z.record(z.string(), z.string().nullable()),
});
export type PipelinePlanFile = z.infer<typeof PipelinePlanFile>;

/**
 * pipeline-plan-error.json: why no graph was built (a bad query, an unknown collection or dataset
 * type, a config error, an empty graph), as a sentence, and the middleware's own words.
 */
export const PipelinePlanErrorFile = z.looseObject({
  message: z.string(),
  detail: z.string(),
});
export type PipelinePlanErrorFile = z.infer<typeof PipelinePlanErrorFile>;

/** One task label while the run goes. succeeded + failed + blocked + (still to run) = quanta. */
export const LabelProgress = z.object({
  label: z.string(),
  quanta: z.number().int().min(0),
  succeeded: z.number().int().min(0),
  failed: z.number().int().min(0),
  /** Not run because a quantum upstream failed. */
  blocked: z.number().int().min(0),
});
export type LabelProgress = z.infer<typeof LabelProgress>;

/** A quantum that failed: its task, data ID, exception and the end of its log. */
export const FailedQuantum = z.object({
  label: z.string(),
  dataId: z.record(z.string(), z.union([z.string(), z.number()])),
  exception: z.string(),
  message: z.string(),
  log: z.string(),
});
export type FailedQuantum = z.infer<typeof FailedQuantum>;

/** pipeline-progress.json: the runner's view while the run goes and when it ended. */
export const PipelineProgressFile = z.object({
  labels: z.array(LabelProgress),
  failures: z.array(FailedQuantum),
});
export type PipelineProgressFile = z.infer<typeof PipelineProgressFile>;

/** pipeline-provenance.json: what ran, from where, into where (written by the runner at the end). */
export const PipelineProvenanceFile = z.looseObject({
  jobId: z.string().nullable(),
  status: z.string(),
  butlerRepo: z.string(),
  inputCollections: z.array(z.string()),
  outputCollection: z.string(),
  outputRun: z.string(),
  dataQuery: z.string(),
  /** The pipeline file's text as it was read, and the expanded pipeline with every override. */
  pipeline: z.object({ path: z.string(), sha256: z.string(), content: z.string() }),
  expandedPipeline: z.string(),
  graph: z.object({ file: z.string(), sha256: z.string() }),
  versions: z.record(z.string(), z.string().nullable()),
  /** Datasets of the output run, per dataset type, once the run ended. */
  outputs: z.array(z.object({ datasetType: z.string(), count: z.number().int() })),
  /** What ran the graph: `pipetask run` here, or BPS on an HTCondor pool. */
  engine: z.enum(['pipetask', 'bps']).optional(),
  labels: z.array(z.string()).nullable().optional(),
  configOverrides: z.array(z.object({ label: z.string(), field: z.string(), value: z.string() })).optional(),
  /** BPS only: its submit folder and run id, the config it was given and the graph its jobs ran. */
  bps: z
    .object({
      submitPath: z.string(),
      runId: z.string().nullable(),
      config: z.string(),
      graph: z.object({ file: z.string(), sha256: z.string() }).nullable(),
    })
    .optional(),
});
export type PipelineProvenanceFile = z.infer<typeof PipelineProvenanceFile>;

/** The body of POST /pipelines/plan: what a submit would carry, less the notebook. */
export const PipelinePlanRequest = z.object({
  /** The job's name: the output collection is "u/{user}/{name}" unless the definition gives one. */
  name: z.string().trim().min(1).max(200),
  pipeline: PipelineDefinition,
  resources: Resources.optional(),
  backend: z.string().min(1).max(100).optional(),
  account: z.string().min(1).max(200).optional(),
});
export type PipelinePlanRequest = z.input<typeof PipelinePlanRequest>;

/** One standard pipeline of the site config, as the dialog offers it (GET /pipelines/standard). */
export const StandardPipeline = z.object({
  name: z.string(),
  description: z.string(),
  /** The pipeline YAML's path or URI, as the site gives it. */
  pipeline: z.string(),
  inputCollections: z.array(z.string()).nullable(),
  dataQuery: z.string().nullable(),
});
export type StandardPipeline = z.infer<typeof StandardPipeline>;
export const StandardPipelineList = z.object({ pipelines: z.array(StandardPipeline) }).meta({ id: 'StandardPipelineList' });
export type StandardPipelineList = z.infer<typeof StandardPipelineList>;

/** The answer of POST /pipelines/plan: the plan, its estimate against the quota, and the id to submit it with. */
export const PipelinePlan = z
  .object({
    /** Give it back in the spec (source.pipeline.planId) so that this graph is the one that runs. */
    planId: z.string(),
    plan: PipelinePlanFile,
    estimate: z.object({ coreHours: z.number(), secondsPerQuantum: z.number() }),
    quota: PlanQuota,
  })
  .meta({ id: 'PipelinePlan' });
export type PipelinePlan = z.infer<typeof PipelinePlan>;

/** GET /jobs/:id/pipeline: per-label progress, failed quanta, and the output collection's datasets once ended. */
export const PipelineStatus = z.object({
  plan: PipelinePlanFile.nullable(),
  progress: PipelineProgressFile.nullable(),
  outputs: z.array(z.object({ datasetType: z.string(), count: z.number().int() })).nullable(),
});
export type PipelineStatus = z.infer<typeof PipelineStatus>;
