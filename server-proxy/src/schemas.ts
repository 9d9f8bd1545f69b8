import { z } from 'zod';
import { Region } from './catalog/region';

const PYTHON_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue',
  'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in',
  'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isPythonIdentifier(name: string): boolean {
  return IDENTIFIER.test(name) && !PYTHON_KEYWORDS.has(name);
}

/** A path relative to the Jupyter root that cannot climb out of it. */
export const RelativePath = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.includes('\0'), {
    message: 'must be relative to the Jupyter root (no leading "/")',
  })
  .refine((p) => !p.split('/').includes('..'), { message: 'must not contain ".."' });

export const CellRole = z.enum(['setup', 'main']);
export const Cell = z.object({
  id: z.string().min(1).max(200),
  role: CellRole,
  source: z.string(),
});

export const Resources = z
  .object({
    /** Cores of the job; on a Dask Gateway, of each worker. */
    cpus: z.number().int().min(1).max(256).default(1),
    /** Memory of the job; on a Dask Gateway, of each worker. */
    memoryMiB: z.number().int().min(64).max(4 * 1024 * 1024).default(2048),
    walltimeSeconds: z.number().int().min(1).max(30 * 24 * 3600).default(3600),
    /** Dask Gateway: a fixed number of workers, or an adaptive range (not both). */
    workers: z.number().int().min(1).max(10_000).optional(),
    adaptiveWorkers: z.object({ minimum: z.number().int().min(0).max(10_000), maximum: z.number().int().min(1).max(10_000) }).optional(),
  })
  .refine((r) => !(r.workers !== undefined && r.adaptiveWorkers !== undefined), {
    message: 'give either a fixed number of workers or an adaptive range, not both',
  })
  .refine((r) => !r.adaptiveWorkers || r.adaptiveWorkers.minimum <= r.adaptiveWorkers.maximum, {
    message: 'the adaptive minimum of workers is larger than the maximum',
    path: ['adaptiveWorkers'],
  });

/** The most Dask workers a job's resources may use at once. */
export function maxWorkers(r: z.infer<typeof Resources>): number {
  return r.adaptiveWorkers?.maximum ?? r.workers ?? 1;
}

export const JobKind = z.enum(['cells', 'notebook', 'script', 'catalog']);

/** The most items one sweep may have (one HTCondor cluster). */
export const MAX_SWEEP_ITEMS = 100_000;

/**
 * A catalog run: `function` (defined in `source`, e.g. a notebook cell) applied to every
 * partition of the HATS catalog at `path` that meets `region`, reading `columns`.
 */
export const CatalogSource = z.object({
  /** The catalog folder: relative to the Jupyter root, or absolute inside a site catalog folder. */
  path: z.string().min(1).max(1024).refine((p) => !p.includes('\0') && !p.split('/').includes('..'), { message: 'must not contain ".."' }),
  region: Region.optional(),
  columns: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
  function: z.object({
    name: z.string().refine(isPythonIdentifier, { message: 'must be a Python function name' }),
    source: z.string().min(1).max(1_000_000),
  }),
  /** Code run before the function is defined (imports, constants): the chosen setup cells. */
  setupSource: z.string().max(1_000_000).optional(),
});
export type CatalogSource = z.infer<typeof CatalogSource>;

/** The job spec: the single source of truth for what a user may submit. */
export const JobSpec = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: JobKind,
    source: z.object({
      notebookPath: RelativePath,
      kernelName: z.string().min(1).max(200).optional(),
      cells: z.array(Cell).max(10000).optional(),
      notebook: z.record(z.string(), z.unknown()).optional(),
      catalog: CatalogSource.optional(),
      /** Kind `script`: the Python file's text as the editor has it (notebookPath is the file's path). */
      script: z.object({
        content: z.string().max(5_000_000),
        args: z.array(z.string().max(10_000)).max(1000).optional(),
      }).optional(),
    }),
    parameters: z.record(z.string(), z.json()).default({}),
    /**
     * A parameter sweep: the job runs once per item, each item's values over `parameters`. On
     * HTCondor one cluster with one proc per item (`queue ... from`); locally one item after another.
     */
    sweep: z.array(z.record(z.string(), z.json())).min(1).max(MAX_SWEEP_ITEMS).optional(),
    resources: Resources.default({ cpus: 1, memoryMiB: 2048, walltimeSeconds: 3600 }),
    backend: z.string().min(1).max(100),
    account: z.string().min(1).max(200).optional(),
    outputs: z.array(z.string().min(1).max(500)).max(100).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .superRefine((spec, ctx) => {
    for (const name of Object.keys(spec.parameters)) {
      if (!isPythonIdentifier(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['parameters', name],
          message: `parameter name "${name}" is not a Python identifier (letters, digits, _; not a keyword)`,
        });
      }
    }
    spec.sweep?.forEach((item, index) => {
      for (const name of Object.keys(item)) {
        if (!isPythonIdentifier(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['sweep', index, name],
            message: `sweep item ${index + 1}: parameter name "${name}" is not a Python identifier (letters, digits, _; not a keyword)`,
          });
        }
      }
    });
    if (spec.kind === 'catalog') {
      if (!spec.source.catalog) {
        ctx.addIssue({ code: 'custom', path: ['source', 'catalog'], message: 'a "catalog" job needs source.catalog (path, function)' });
      } else if (isPythonIdentifier(spec.source.catalog.function.name)
        && !new RegExp(`^\\s*def\\s+${spec.source.catalog.function.name}\\s*\\(`, 'm').test(spec.source.catalog.function.source)) {
        ctx.addIssue({
          code: 'custom', path: ['source', 'catalog', 'function'],
          message: `the function source does not define "def ${spec.source.catalog.function.name}(df): ..."`,
        });
      }
      if (spec.sweep) ctx.addIssue({ code: 'custom', path: ['sweep'], message: 'a catalog run cannot also be a sweep' });
    } else if (spec.kind === 'script') {
      if (!spec.source.script) {
        ctx.addIssue({ code: 'custom', path: ['source', 'script'], message: 'a "script" job needs source.script.content (the Python file\'s text)' });
      }
    } else if (spec.kind === 'cells') {
      const cells = spec.source.cells ?? [];
      if (!cells.some((c) => c.role === 'main')) {
        ctx.addIssue({ code: 'custom', path: ['source', 'cells'], message: 'a "cells" job needs at least one main cell' });
      }
    } else if (!spec.source.notebook) {
      ctx.addIssue({ code: 'custom', path: ['source', 'notebook'], message: 'a "notebook" job needs the notebook JSON' });
    } else if (!Array.isArray(spec.source.notebook.cells)) {
      ctx.addIssue({ code: 'custom', path: ['source', 'notebook', 'cells'], message: 'the notebook must be nbformat v4 JSON with a "cells" list' });
    }
    if (spec.outputs?.some((g) => g.startsWith('/') || g.split('/').includes('..'))) {
      ctx.addIssue({ code: 'custom', path: ['outputs'], message: 'output globs must stay inside the output folder' });
    }
  })
  .meta({ id: 'JobSpec', title: 'User Batch job spec' });
export type JobSpec = z.infer<typeof JobSpec>;

export const JobState = z.enum(['pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'held', 'lost']);
export type JobState = z.infer<typeof JobState>;
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
  items: z.string().regex(/^[qrhdfc]*$/).optional(),
});
export type Progress = z.infer<typeof Progress>;
export const JobError = z.object({
  ename: z.string(),
  evalue: z.string(),
  traceback: z.string(),
  cellId: z.string().nullable(),
});
export type JobError = z.infer<typeof JobError>;

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
    resources: z.object({
      cpus: z.number(),
      memoryMiB: z.number(),
      walltimeSeconds: z.number(),
      workers: z.number().optional(),
      adaptiveWorkers: z.object({ minimum: z.number(), maximum: z.number() }).optional(),
    }),
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

export const ErrorBody = z
  .object({ error: z.string(), code: z.string(), details: z.unknown().optional() })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const LogChunk = z.object({
  text: z.string(),
  from: z.number().int(),
  next: z.number().int(),
  size: z.number().int(),
  complete: z.boolean(),
});
export const OutputFile = z.object({ path: z.string(), size: z.number().int(), sha256: z.string(), jupyterPath: z.string() });
export type OutputFile = z.infer<typeof OutputFile>;

export const CodeEntry = z.object({
  sha256: z.string(),
  // notebook-file: the saved notebook the cells were taken from, as it was on disk at submit
  kind: z.enum(['cell', 'notebook', 'notebook-file', 'function', 'script']),
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
    proxyVersion: z.string(),
  })
  .meta({ id: 'Provenance' });
export type Provenance = z.infer<typeof Provenance>;

export const JobIdParams = z.object({ id: z.string().min(1).max(100) });
