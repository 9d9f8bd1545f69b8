import { z } from 'zod';
import { MAX_SCRIPT_CHARS } from '../limits';
import { SourceBase, SpecBase, whenMissing } from '../shared';

/** Kind "script": a Python file (notebookPath is its path), its text as the editor has it, and its argv. */
export const ScriptSource = SourceBase.extend({
  script: z.object(
    {
      content: z.string().max(MAX_SCRIPT_CHARS),
      args: z.array(z.string().max(10_000)).max(1000).optional(),
    },
    whenMissing('a "script" job needs source.script.content (the Python file\'s text)'),
  ),
});

export const ScriptSpec = SpecBase.extend({
  kind: z.literal('script'),
  source: ScriptSource,
});
export type ScriptSpec = z.infer<typeof ScriptSpec>;
