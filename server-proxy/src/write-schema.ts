import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { JobSpec } from './schemas';

/**
 * JSON Schema of the job spec, for editors. Committed as docs/job-spec.schema.json (not under
 * schema/, which JupyterLab reads as settings schemas); a test keeps it in step with the zod schema.
 */
export function jobSpecJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(JobSpec, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  // JobSpec carries a registry id, so zod emits {$ref, $defs}; editors read a top-level object better.
  const { $defs, $ref: _ref, ...top } = generated as { $defs?: Record<string, Record<string, unknown>>; $ref?: string };
  const { JobSpec: body, ...otherDefs } = $defs ?? {};
  return {
    ...top,
    $id: 'https://user-batch/job-spec.schema.json',
    ...(body ?? {}),
    ...(Object.keys(otherDefs).length > 0 ? { $defs: otherDefs } : {}),
  };
}

if (require.main === module) {
  const target = resolve(process.argv[2] ?? resolve(__dirname, '..', '..', 'docs', 'job-spec.schema.json'));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, `${JSON.stringify(jobSpecJsonSchema(), null, 2)}\n`);
  // eslint-disable-next-line no-console
  console.log(`wrote ${target}`);
}
