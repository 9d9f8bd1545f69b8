import { z } from 'zod';
import { JobKind, JobSpec } from '../spec';

type Schema = Record<string, unknown> & { properties?: Record<string, unknown>; required?: string[] };

/**
 * JSON Schema of the job spec, for editors: committed as docs/job-spec.schema.json (not under
 * schema/, which JupyterLab reads as settings schemas).
 *
 * The spec is a union on `kind`; zod writes it as `oneOf` of whole objects, which editors complete
 * poorly. So the fields every kind has alike go on top (with `kind` as an enum of all kinds), and
 * `oneOf` keeps per kind only what differs (its `source`, and for a catalog run no `sweep`).
 */
export function jobSpecJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(JobSpec, { io: 'input', unrepresentable: 'any' }) as Schema;
  // JobSpec carries a registry id, so zod emits {$ref, $defs}; editors read a top-level object better.
  const { $defs, $ref: _ref, ...top } = generated as Schema & { $defs?: Record<string, Schema>; $ref?: string };
  const { JobSpec: union, ...otherDefs } = $defs ?? {};
  const members = ((union?.oneOf ?? union?.anyOf) as Schema[] | undefined) ?? [];
  const { oneOf: _o, anyOf: _a, ...unionRest } = union ?? {};

  const names = [...new Set(members.flatMap(m => Object.keys(m.properties ?? {})))];
  const same = (name: string): boolean =>
    members.every(m => JSON.stringify(m.properties?.[name]) === JSON.stringify(members[0].properties?.[name]));
  const shared = names.filter(n => n !== 'kind' && same(n));
  const required = names.filter(n => (n === 'kind' || shared.includes(n)) && members.every(m => m.required?.includes(n)));
  const properties: Record<string, unknown> = {};
  for (const name of names) {
    if (name === 'kind') properties.kind = { type: 'string', enum: [...JobKind.options] };
    else if (shared.includes(name)) properties[name] = members[0].properties?.[name];
    else properties[name] = {};
  }
  const oneOf = members.map(m => {
    const own = Object.fromEntries(Object.entries(m.properties ?? {}).filter(([n]) => !shared.includes(n)));
    return { type: 'object', properties: own, required: (m.required ?? []).filter(n => !required.includes(n) || n === 'kind') };
  });
  const anyRequired = names.filter(n => !required.includes(n) && members.every(m => m.required?.includes(n)));
  return {
    ...top,
    $id: 'https://user-batch/job-spec.schema.json',
    ...unionRest,
    type: 'object',
    properties,
    required: [...required, ...anyRequired],
    oneOf,
    ...(Object.keys(otherDefs).length > 0 ? { $defs: otherDefs } : {}),
  };
}
