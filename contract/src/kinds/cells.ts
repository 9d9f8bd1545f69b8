import { z } from 'zod';
import { MAX_CELLS } from '../limits';
import { Cell, SourceBase, SpecBase, whenMissing } from '../shared';

/** Kind "cells": chosen cells of a notebook, setup cells first, run as a fresh notebook. */
export const CellsSource = SourceBase.extend({
  cells: z
    .array(Cell, whenMissing('a "cells" job needs at least one main cell'))
    .max(MAX_CELLS)
    .refine(cells => cells.some(c => c.role === 'main'), { message: 'a "cells" job needs at least one main cell' }),
});

export const CellsSpec = SpecBase.extend({
  kind: z.literal('cells'),
  source: CellsSource,
});
export type CellsSpec = z.infer<typeof CellsSpec>;
