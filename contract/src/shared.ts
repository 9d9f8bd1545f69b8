import { z } from 'zod';
import { MAX_CPUS, MAX_MEMORY_MIB, MAX_SWEEP_ITEMS, MAX_WALLTIME_SECONDS, MAX_WORKERS, MIN_MEMORY_MIB } from './limits';
import { isPythonIdentifier } from './python';

/** The parts of a job spec every kind shares: where it comes from, its resources, parameters and sweep. */

/** A path relative to the Jupyter root that cannot climb out of it. */
export const RelativePath = z
  .string()
  .min(1)
  .max(1024)
  .refine(p => !p.startsWith('/') && !p.includes('\\') && !p.includes('\0'), {
    message: 'must be relative to the Jupyter root (no leading "/")',
  })
  .refine(p => !p.split('/').includes('..'), { message: 'must not contain ".."' });

export const CellRole = z.enum(['setup', 'main']);
export type CellRole = z.infer<typeof CellRole>;
export const Cell = z.object({
  id: z.string().min(1).max(200),
  role: CellRole,
  source: z.string(),
});
export type Cell = z.infer<typeof Cell>;

export const AdaptiveWorkers = z.object({
  minimum: z.number().int().min(0).max(MAX_WORKERS),
  maximum: z.number().int().min(1).max(MAX_WORKERS),
});

export const Resources = z
  .object({
    /** Cores of the job; on a Dask Gateway, of each worker. */
    cpus: z.number().int().min(1).max(MAX_CPUS).default(1),
    /** Memory of the job; on a Dask Gateway, of each worker. */
    memoryMiB: z.number().int().min(MIN_MEMORY_MIB).max(MAX_MEMORY_MIB).default(2048),
    walltimeSeconds: z.number().int().min(1).max(MAX_WALLTIME_SECONDS).default(3600),
    /** Dask Gateway: a fixed number of workers, or an adaptive range (not both). */
    workers: z.number().int().min(1).max(MAX_WORKERS).optional(),
    adaptiveWorkers: AdaptiveWorkers.optional(),
  })
  .refine(r => !(r.workers !== undefined && r.adaptiveWorkers !== undefined), {
    message: 'give either a fixed number of workers or an adaptive range, not both',
  })
  .refine(r => !r.adaptiveWorkers || r.adaptiveWorkers.minimum <= r.adaptiveWorkers.maximum, {
    message: 'the adaptive minimum of workers is larger than the maximum',
    path: ['adaptiveWorkers'],
  });
export type Resources = z.infer<typeof Resources>;
export const DEFAULT_RESOURCES = { cpus: 1, memoryMiB: 2048, walltimeSeconds: 3600 } as const;

/** The most Dask workers a job's resources may use at once. */
export function maxWorkers(r: { workers?: number; adaptiveWorkers?: { maximum: number } }): number {
  return r.adaptiveWorkers?.maximum ?? r.workers ?? 1;
}

const NOT_IDENTIFIER = 'is not a Python identifier (letters, digits, _; not a keyword)';

/** Values the notebook's parameters are set to, by name; each name must be a Python identifier. */
export const Parameters = z.record(z.string(), z.json()).superRefine((parameters, ctx) => {
  for (const name of Object.keys(parameters)) {
    if (!isPythonIdentifier(name)) {
      ctx.addIssue({ code: 'custom', path: [name], message: `parameter name "${name}" ${NOT_IDENTIFIER}` });
    }
  }
});
export type Parameters = z.infer<typeof Parameters>;
export type ParameterValue = z.infer<typeof Parameters>[string];

/**
 * A parameter sweep: the job runs once per item, each item's values over `parameters`. On
 * HTCondor one cluster with one proc per item (`queue ... from`); locally one item after another.
 */
export const Sweep = z
  .array(z.record(z.string(), z.json()))
  .min(1)
  .max(MAX_SWEEP_ITEMS)
  .superRefine((items, ctx) => {
    items.forEach((item, index) => {
      for (const name of Object.keys(item)) {
        if (!isPythonIdentifier(name)) {
          ctx.addIssue({
            code: 'custom',
            path: [index, name],
            message: `sweep item ${index + 1}: parameter name "${name}" ${NOT_IDENTIFIER}`,
          });
        }
      }
    });
  });

/** Globs of the files a job keeps, inside its output folder. */
export const Outputs = z
  .array(z.string().min(1).max(500))
  .max(100)
  .refine(globs => !globs.some(g => g.startsWith('/') || g.split('/').includes('..')), {
    message: 'output globs must stay inside the output folder',
  });

/** Every kind's `source` has these: the file the job comes from and the kernel to run it with. */
export const SourceBase = z.object({
  notebookPath: RelativePath,
  kernelName: z.string().min(1).max(200).optional(),
});

/** The fields of a job spec that are the same whatever its kind. */
export const SpecBase = z.object({
  name: z.string().trim().min(1).max(200),
  parameters: Parameters.default({}),
  sweep: Sweep.optional(),
  resources: Resources.default({ ...DEFAULT_RESOURCES }),
  backend: z.string().min(1).max(100),
  account: z.string().min(1).max(200).optional(),
  outputs: Outputs.optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
});

/** A message for a field a kind needs, given when it is missing (not zod's "expected object, received undefined"). */
export function whenMissing(message: string): { error: (issue: { input?: unknown }) => string | undefined } {
  return { error: issue => (issue.input === undefined ? message : undefined) };
}
