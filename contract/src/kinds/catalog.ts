import { z } from 'zod';
import { MAX_FUNCTION_CHARS } from '../limits';
import { isPythonIdentifier } from '../python';
import { Region } from '../region';
import { SourceBase, SpecBase, whenMissing } from '../shared';

/** Whether `source` defines `def name(`: the driver calls it on every partition. */
export function definesFunction(name: string, source: string): boolean {
  return isPythonIdentifier(name) && new RegExp(`^\\s*def\\s+${name}\\s*\\(`, 'm').test(source);
}

/**
 * A catalog run: `function` (defined in `source`, e.g. a notebook cell) applied to every
 * partition of the HATS catalog at `path` that meets `region`, reading `columns`.
 */
export const CatalogSource = z
  .object(
    {
      /** The catalog folder: relative to the Jupyter root, or absolute inside a site catalog folder. */
      path: z
        .string()
        .min(1)
        .max(1024)
        .refine(p => !p.includes('\0') && !p.split('/').includes('..'), { message: 'must not contain ".."' }),
      region: Region.optional(),
      columns: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
      function: z.object({
        name: z.string().refine(isPythonIdentifier, { message: 'must be a Python function name' }),
        source: z.string().min(1).max(MAX_FUNCTION_CHARS),
      }),
      /** Code run before the function is defined (imports, constants): the chosen setup cells. */
      setupSource: z.string().max(MAX_FUNCTION_CHARS).optional(),
    },
    whenMissing('a "catalog" job needs source.catalog (path, function)'),
  )
  .superRefine((catalog, ctx) => {
    const { name, source } = catalog.function;
    if (isPythonIdentifier(name) && !definesFunction(name, source)) {
      ctx.addIssue({ code: 'custom', path: ['function'], message: `the function source does not define "def ${name}(df): ..."` });
    }
  });
export type CatalogSource = z.infer<typeof CatalogSource>;

/** Kind "catalog": a function mapped over the partitions of a HATS catalog on a Dask cluster. */
export const CatalogRunSource = SourceBase.extend({ catalog: CatalogSource });

export const CatalogSpec = SpecBase.extend({
  kind: z.literal('catalog'),
  source: CatalogRunSource,
  /** The run is already split by partition; a sweep over it is not offered. */
  sweep: z.never({ error: 'a catalog run cannot also be a sweep' }).optional(),
});
export type CatalogSpec = z.infer<typeof CatalogSpec>;
