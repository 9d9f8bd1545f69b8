import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError, notFound } from '../errors';
import { buildProvenance } from '../provenance';
import {
  DeleteJobResult,
  DeleteJobsRequest,
  DeleteJobsResult,
  ErrorBody,
  isFinal,
  Job,
  JobIdParams,
  JobSpec,
  LogChunk,
  Provenance,
} from '@user-batch/contract';
import { toJob } from '../store/jobs';

const MAX_LOG_BYTES = 256 * 1024;

/**
 * The spec a re-run submits: the recorded one, without its idempotency key (a re-run is a new
 * job) and, for a pipeline, without its plan (that graph's output run exists: a new graph is built).
 */
export function rerunSpec(recorded: JobSpec): JobSpec {
  const { idempotencyKey: _used, ...spec } = recorded;
  if (spec.kind !== 'pipeline') return JobSpec.parse(spec);
  const { planId: _planned, ...pipeline } = spec.source.pipeline;
  return JobSpec.parse({ ...spec, source: { ...spec.source, pipeline } });
}
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody } as const;

export const jobRoutes: FastifyPluginAsyncZod = async app => {
  const { jobs, store, files, backends, config, deleter } = app;

  const ownedJob = (id: string, user: string) => {
    const job = store.getOwned(id, user);
    if (!job) throw notFound();
    return job;
  };
  /** A deleted job's provenance, kept at deletion; otherwise the job is missing. */
  const keptProvenance = (id: string, user: string): Provenance => {
    const kept = store.keptProvenance(id, user);
    if (kept === null) throw notFound();
    return Provenance.parse(JSON.parse(kept));
  };
  const backendOf = (name: string) => {
    const backend = backends.get(name);
    if (!backend) throw new HttpError(500, 'internal', `backend ${name} is not configured`);
    return backend;
  };

  app.post(
    '/jobs',
    {
      schema: {
        summary: 'Submit a job',
        headers: z.looseObject({ 'idempotency-key': z.string().min(1).max(200).optional() }),
        body: JobSpec,
        response: { 200: Job, 201: Job, ...errors, 403: ErrorBody, 409: ErrorBody, 413: ErrorBody, 422: ErrorBody },
      },
    },
    async (request, reply) => {
      const { job, created } = await jobs.submit(request.identity, request.body, request.headers['idempotency-key']);
      return reply.code(created ? 201 : 200).send(job);
    },
  );

  app.post(
    '/jobs/:id/rerun',
    {
      schema: {
        summary: 'Submit a job again from its record: the same spec; a pipeline gets a new graph and output run',
        params: JobIdParams,
        headers: z.looseObject({ 'idempotency-key': z.string().min(1).max(200).optional() }),
        response: { 200: Job, 201: Job, ...errors, 403: ErrorBody, 409: ErrorBody, 413: ErrorBody, 422: ErrorBody },
      },
    },
    async (request, reply) => {
      const { identity } = request;
      const { job, created } = await jobs.submit(
        identity,
        rerunSpec(ownedJob(request.params.id, identity.name).spec),
        request.headers['idempotency-key'],
      );
      return reply.code(created ? 201 : 200).send(job);
    },
  );

  app.get(
    '/jobs',
    {
      schema: { summary: 'Your jobs, newest first', response: { 200: z.object({ jobs: z.array(Job) }), 401: ErrorBody } },
    },
    async request => ({ jobs: store.listOwned(request.identity.name).map(toJob) }),
  );

  app.get(
    '/jobs/:id',
    {
      schema: { summary: 'One job', params: JobIdParams, response: { 200: Job, ...errors } },
    },
    async request => toJob(ownedJob(request.params.id, request.identity.name)),
  );

  app.post(
    '/jobs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a job (returns once the backend confirms)',
        params: JobIdParams,
        response: { 200: Job, ...errors, 409: ErrorBody },
      },
    },
    async request => jobs.cancel(request.identity, request.params.id),
  );

  app.delete(
    '/jobs/:id',
    {
      schema: {
        summary:
          'Delete a finished job: its output folder, its job folder and its record; with keepProvenance=true the provenance stays readable',
        params: JobIdParams,
        querystring: z.object({
          keepProvenance: z
            .enum(['true', 'false', '1', '0'])
            .default('false')
            .transform(v => v === 'true' || v === '1')
            .describe('keep the provenance record readable at GET /api/jobs/:id/provenance'),
        }),
        response: { 200: DeleteJobResult, ...errors, 409: ErrorBody },
      },
    },
    async request => deleter.delete(request.identity.name, request.params.id, request.query.keepProvenance),
  );

  app.post(
    '/jobs/delete',
    {
      schema: {
        summary: 'Delete several finished jobs; each one refused (missing, still active) is listed with a sentence',
        body: DeleteJobsRequest,
        response: { 200: DeleteJobsResult, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async request => deleter.deleteMany(request.identity.name, request.body.ids, request.body.keepProvenance),
  );

  app.post(
    '/jobs/:id/release',
    {
      schema: { summary: 'Release a held job so it can run again', params: JobIdParams, response: { 200: Job, ...errors, 409: ErrorBody } },
    },
    async request => jobs.release(request.identity, request.params.id),
  );

  app.get(
    '/jobs/:id/logs',
    {
      schema: {
        summary: "Bytes of the job log from an offset (at most 256 KiB a call); for an HTCondor sweep, one item's log",
        params: JobIdParams,
        querystring: z.object({
          from: z.coerce.number().int().min(0).default(0),
          item: z.coerce
            .number()
            .int()
            .min(0)
            .optional()
            .describe('sweep item (default: the first failed, else the first running, else 0)'),
          source: z
            .enum(['output', 'htcondor'])
            .default('output')
            .describe("output: the job's stdout and stderr; htcondor: HTCondor's user log of the job (its events)"),
        }),
        response: { 200: LogChunk, ...errors },
      },
    },
    async request => {
      const job = ownedJob(request.params.id, request.identity.name);
      const { from, item, source } = request.query;
      if (source === 'htcondor') {
        const backend = backendOf(job.backend);
        if (!backend.userLog)
          throw new HttpError(
            400,
            'invalid_request',
            'Only HTCondor jobs have an HTCondor user log; ask for the job\'s log without "source".',
          );
        const chunk = await backend.userLog(job, from, MAX_LOG_BYTES);
        return { ...chunk, complete: isFinal(job.state) && chunk.next >= chunk.size };
      }
      if (item !== undefined && item >= (job.spec.sweep?.length ?? 0)) {
        throw new HttpError(
          400,
          'invalid_request',
          job.spec.sweep
            ? `This sweep has items 0 to ${job.spec.sweep.length - 1}; there is no item ${item}.`
            : 'This job is not a sweep; ask for its log without "item".',
        );
      }
      const chunk = await backendOf(job.backend).logs(job, from, MAX_LOG_BYTES, item);
      return { ...chunk, complete: isFinal(job.state) && chunk.next >= chunk.size };
    },
  );

  app.get(
    '/jobs/:id/provenance',
    {
      schema: {
        summary: 'What exactly ran: spec, code hashes, environment, events, outputs',
        params: JobIdParams,
        querystring: z.object({ download: z.enum(['0', '1']).optional() }),
        response: { 200: Provenance, ...errors },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (request.query.download === '1') {
        reply.header('content-disposition', `attachment; filename="provenance-${id}.json"`);
      }
      const job = store.getOwned(id, request.identity.name);
      if (!job) return keptProvenance(id, request.identity.name);
      const outputs = await backendOf(job.backend).outputs(job);
      return buildProvenance(job, store, files, outputs, config.version);
    },
  );

  app.get(
    '/jobs/:id/code/:sha256',
    {
      schema: {
        summary: 'A stored code blob that belongs to the job',
        params: JobIdParams.extend({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex') }),
        response: { 200: z.string(), ...errors },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const code = store.getOwned(id, request.identity.name)?.code ?? keptProvenance(id, request.identity.name).code;
      if (!code.some(c => c.sha256 === request.params.sha256)) {
        throw new HttpError(404, 'not_found', 'This job ran no code with that hash.');
      }
      const text = await readFile(files.objectPath(request.params.sha256), 'utf8');
      return reply.type('text/plain; charset=utf-8').send(text);
    },
  );
};
