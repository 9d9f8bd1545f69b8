import { z } from 'zod';
import { JOB_DIR } from '../jobdir';
import { jobSpecJsonSchema } from './job-spec-schema';
import { pythonJobFiles } from './python-constants';

/**
 * Every file generated from the contract, by path from the repository root, with the text it
 * must have. `npm run generate -w contract` writes them; test/generated.test.ts fails when one
 * on disk differs.
 */
export function generatedFiles(): Map<string, string> {
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  const files = new Map<string, string>();
  files.set('docs/job-spec.schema.json', json(jobSpecJsonSchema()));
  for (const entry of Object.values(JOB_DIR)) {
    if (!('schema' in entry) || !entry.schema) continue;
    const schema = z.toJSONSchema(entry.schema, { io: 'output', unrepresentable: 'any' });
    const base = entry.name.replace(/\.json$/, '');
    files.set(
      `docs/jobdir/${base}.schema.json`,
      json({
        ...schema,
        $id: `https://user-batch/jobdir/${base}.schema.json`,
        title: entry.name,
        description: `${entry.about} (written by the ${entry.writtenBy}). Generated from contract/src/jobdir.ts.`,
      }),
    );
  }
  files.set('user_batch/jobfiles.py', pythonJobFiles());
  return files;
}

/** The command that rewrites them, for the staleness test's message. */
export const REGENERATE = 'npm run generate -w contract';
