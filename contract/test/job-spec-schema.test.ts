import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jobSpecJsonSchema } from '../src/generate/job-spec-schema';

describe('JSON Schema of the job spec', () => {
  it('describes the fields an editor should offer, with their limits', () => {
    const schema = jobSpecJsonSchema() as {
      properties: Record<string, { enum?: string[]; properties?: Record<string, { minimum?: number }> }>;
      required: string[];
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['name', 'kind', 'source', 'parameters', 'resources', 'backend', 'account']),
    );
    expect(schema.properties.kind.enum).toEqual(['cells', 'notebook', 'script', 'catalog', 'pipeline']);
    expect(schema.properties.resources.properties?.cpus.minimum).toBe(1);
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'kind', 'source', 'backend']));
  });
});

describe('the committed docs/job-spec.schema.json', () => {
  it('is what the zod schema generates today (run `npm run generate -w contract` after changing the spec)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'job-spec.schema.json'), 'utf8'));
    expect(committed).toEqual(jobSpecJsonSchema());
  });
});
