import { z } from 'zod';
import { RelativePath, SourceBase, SpecBase, whenMissing } from '../shared';

/**
 * Kind "pipeline": an LSST PipelineTask pipeline run over a butler repository with `pipetask`
 * (local backend) or BPS (HTCondor). The quantum graph is built first, by the proxy, and the
 * graph built for the estimate is the one that runs.
 */

/** A task label or a subset name of a pipeline (what follows "#" in a pipeline URI). */
const LABEL = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** A config field, dotted: `connections.in_tmpl`, `addend`. */
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
/** A butler collection name: no whitespace, no commas (pipetask's lists are comma-separated). */
const COLLECTION = /^[^\s,]+$/;

const Label = z.string().regex(LABEL, { message: 'must be a task label or subset name (letters, digits, _ and -)' });

const Collection = z.string().min(1).max(500).regex(COLLECTION, { message: 'must be a collection name (no spaces or commas)' });

/** One `-c label:field=value`: the value is Python, as pipetask reads it. */
export const ConfigOverride = z.object({
  label: Label,
  field: z.string().max(200).regex(FIELD, { message: 'must be a config field such as "addend" or "connections.in_tmpl"' }),
  value: z.string().min(1).max(10_000),
});
export type ConfigOverride = z.infer<typeof ConfigOverride>;

/** One `-C label:file.py`: a config override file (Python, `config.field = value`). */
export const ConfigFile = z.object({
  label: Label,
  path: RelativePath,
});
export type ConfigFile = z.infer<typeof ConfigFile>;

export const PipelineDefinition = z
  .object(
    {
      /** The pipeline YAML, relative to the Jupyter root; not given when `standard` names a site pipeline. */
      file: RelativePath.optional(),
      /** A standard pipeline of the site config, by name. */
      standard: z.string().min(1).max(200).optional(),
      /** Run only these task labels or subsets (the "#label,subset" of a pipeline URI); all when absent. */
      labels: z.array(Label).min(1).max(200).optional(),
      /** The butler repository: relative to the Jupyter root, or absolute inside a site repository folder. */
      butlerRepo: z
        .string()
        .min(1)
        .max(1024)
        .refine(p => !p.includes('\0') && !p.split('/').includes('..'), { message: 'must not contain ".."' }),
      inputCollections: z.array(Collection).min(1, { message: 'give at least one input collection' }).max(100),
      /** The output CHAINED collection; the proxy fills in "u/{user}/{name}". */
      outputCollection: Collection.optional(),
      /** The butler data query (`-d`), e.g. "instrument='HSC' AND detector IN (0, 1)". */
      dataQuery: z.string().max(10_000).optional(),
      configOverrides: z.array(ConfigOverride).max(500).optional(),
      configFiles: z.array(ConfigFile).max(50).optional(),
      /** A plan made before (POST /pipelines/plan): its quantum graph is the one that runs. */
      planId: z
        .string()
        .regex(/^[a-z0-9]{8,64}$/, { message: 'must be the planId a plan answered' })
        .optional(),
    },
    whenMissing('a "pipeline" job needs source.pipeline (butlerRepo, inputCollections, and file or standard)'),
  )
  .refine(p => (p.file === undefined) !== (p.standard === undefined), {
    message: 'give either a pipeline file or the name of a standard pipeline, not both',
  });
export type PipelineDefinition = z.infer<typeof PipelineDefinition>;

export const PipelineSource = SourceBase.extend({ pipeline: PipelineDefinition });

export const PipelineSpec = SpecBase.extend({
  kind: z.literal('pipeline'),
  source: PipelineSource,
  /** The quantum graph already splits the run; a sweep over it is not offered. */
  sweep: z.never({ error: 'a pipeline run cannot also be a sweep' }).optional(),
});
export type PipelineSpec = z.infer<typeof PipelineSpec>;

/** The output collection a run gets when none is given: "u/{user}/{job name}", made a collection name. */
export function defaultOutputCollection(user: string, jobName: string): string {
  const name =
    jobName
      .trim()
      .replace(/[\s,]+/g, '_')
      .slice(0, 200) || 'pipeline';
  return `u/${user}/${name}`;
}

/** The output RUN of one run: "{output}/{UTC timestamp}", as pipetask names it, fixed when the graph is built. */
export function outputRunName(outputCollection: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${outputCollection}/${stamp}`;
}
