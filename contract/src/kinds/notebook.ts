import { z } from 'zod';
import { SourceBase, SpecBase, whenMissing } from '../shared';

/** Kind "notebook": a whole notebook (nbformat v4 JSON, as the editor has it) run top to bottom. */
export const NotebookSource = SourceBase.extend({
  notebook: z
    .record(z.string(), z.unknown(), whenMissing('a "notebook" job needs the notebook JSON'))
    .refine(nb => Array.isArray(nb.cells), { message: 'the notebook must be nbformat v4 JSON with a "cells" list', path: ['cells'] }),
});

export const NotebookSpec = SpecBase.extend({
  kind: z.literal('notebook'),
  source: NotebookSource,
});
export type NotebookSpec = z.infer<typeof NotebookSpec>;
