import { z } from 'zod';
import type { Resources } from './shared';
import { CatalogSpec } from './kinds/catalog';
import { CellsSpec } from './kinds/cells';
import { NotebookSpec } from './kinds/notebook';
import { PipelineSpec } from './kinds/pipeline';
import { ScriptSpec } from './kinds/script';

/**
 * The job spec: the single source of truth for what a user may submit. One member per kind, each
 * in its own module under kinds/; a new kind is a new module here, and every `switch (spec.kind)`
 * that misses it stops compiling (they end in a `never` default).
 */
export const JobSpec = z
  .discriminatedUnion('kind', [CellsSpec, NotebookSpec, ScriptSpec, CatalogSpec, PipelineSpec], {
    error: issue =>
      issue.code === 'invalid_union' ? 'kind must be one of "cells", "notebook", "script", "catalog", "pipeline"' : undefined,
  })
  .meta({ id: 'JobSpec', title: 'User Batch job spec' });
/** A job spec as the proxy holds it after validation (defaults filled in). */
export type JobSpec = z.infer<typeof JobSpec>;
/** A job spec as a client sends it (resources and parameters may be left out). */
export type JobSpecInput = z.input<typeof JobSpec>;

export const JobKind = z.enum(['cells', 'notebook', 'script', 'catalog', 'pipeline']);
export type JobKind = z.infer<typeof JobKind>;

/** The spec of one kind. */
export type SpecOf<K extends JobKind> = Extract<JobSpec, { kind: K }>;

/** For the `never` default of a switch on kind: a kind nobody handled fails to compile, and throws if it comes anyway. */
export function unhandledKind(value: never): never {
  throw new Error(`unhandled job kind ${JSON.stringify((value as { kind?: unknown })?.kind ?? value)}`);
}

// JobKind lists exactly the union's kinds: a kind added to one and not the other fails here.
const kindsAgree: [JobKind] extends [JobSpec['kind']] ? ([JobSpec['kind']] extends [JobKind] ? true : false) : false = true;
void kindsAgree;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/**
 * A job spec as a client builds it up field by field (the submit dialogs): one object type whose
 * `source` may hold any kind's fields. The JSON is the same as JobSpecInput's; the proxy's
 * validation (JobSpec) says which fields a kind needs.
 */
export type JobSpecRequest = Omit<JobSpecInput, 'kind' | 'source' | 'resources'> & {
  kind: JobKind;
  /** The dialogs always send every resource (the proxy would fill in defaults). */
  resources: Resources;
  source: Partial<UnionToIntersection<JobSpecInput['source']>> & { notebookPath: string };
};

export { runsOverPartitions } from './traits';
