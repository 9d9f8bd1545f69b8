import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Region } from '../catalog';
import { planForApi } from '../catalog-runs';
import { HttpError, notFound } from '../errors';
import { readJsonFile } from '../jobdir';
import { ErrorBody, JobIdParams } from '../schemas';

/** At most this many partitions are listed in a plan answer (the totals cover all of them). */
const PARTITIONS_SHOWN = 500;

const PlanBody = z.object({
  path: z.string().min(1).max(1024),
  region: Region.optional(),
  columns: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
  /** Cores that work at once: cpus × workers of the job, for the wall-time estimate. */
  cpus: z.number().int().min(1).max(100_000).optional(),
});

const PlanAnswer = z.object({
  catalog: z.object({
    dir: z.string(), name: z.string(), raColumn: z.string(), decColumn: z.string(), totalRows: z.number(),
    totalPartitions: z.number(), orders: z.array(z.number()), columns: z.array(z.object({ name: z.string(), type: z.string() })),
  }),
  region: z.unknown().nullable(),
  columns: z.array(z.string()).nullable(),
  totals: z.object({ partitions: z.number(), rows: z.number(), bytes: z.number() }),
  estimate: z.object({ coreHours: z.number(), wallHours: z.number(), secondsPerMillionRows: z.number(), cpus: z.number() }),
  partitions: z.array(z.object({ order: z.number(), pixel: z.number(), rows: z.number(), bytes: z.number() })),
  partitionsShown: z.number(),
  quota: z.object({ coreHoursLeft: z.number(), fits: z.boolean(), message: z.string() }),
  timings: z.object({ ms: z.number() }),
}).meta({ id: 'CatalogPlan' });

const PartitionState = z.object({
  order: z.number(), pixel: z.number(), state: z.string(), rows: z.number().nullable().optional(), seconds: z.number().nullable().optional(),
  error: z.object({ ename: z.string(), evalue: z.string(), traceback: z.string() }).nullable().optional(),
});

export const catalogRoutes: FastifyPluginAsyncZod = async (app) => {
  const { store, files, ledger, config } = app.services;
  const places = { rootDir: config.rootDir, catalogRoots: config.catalogRoots };

  app.post('/catalogs/plan', {
    schema: {
      summary: 'Plan a catalog run before submitting it: partitions, rows and bytes it touches, estimated core-hours, and whether that fits your quota',
      body: PlanBody,
      response: { 200: PlanAnswer, 400: ErrorBody, 401: ErrorBody },
    },
  }, async (request) => {
    const { plan } = await planForApi(request.body, places);
    const status = ledger.status(request.identity.name, request.identity.groups);
    const left = Math.max(0, status.limits.coreHours - status.usage.coreHours);
    const cost = plan.estimate.coreHours;
    const fits = cost <= left + 1e-9;
    const round = (n: number): number => Math.round(n * 1000) / 1000;
    return {
      ...plan,
      partitions: plan.partitions.slice(0, PARTITIONS_SHOWN),
      partitionsShown: Math.min(PARTITIONS_SHOWN, plan.partitions.length),
      quota: {
        coreHoursLeft: round(left),
        fits,
        message: fits
          ? `Estimated ${round(cost)} core-hours of the ${round(left)} you have left.`
          : `Estimated ${round(cost)} core-hours, but only ${round(left)} are left in your ${status.windowHours}-hour window: choose a smaller region or fewer columns, or wait.`,
      },
      timings: { ms: plan.timings.ms },
    };
  });

  const ownedCatalogJob = (id: string, user: string) => {
    const job = store.getOwned(id, user);
    if (!job) throw notFound();
    if (job.kind !== 'catalog') throw new HttpError(400, 'not_a_catalog_run', 'This job is not a catalog run; only catalog runs have partitions and a preview.');
    return job;
  };

  app.get('/jobs/:id/partitions', {
    schema: {
      summary: 'A catalog run\'s partitions: each one\'s state, rows written, time and error',
      params: JobIdParams,
      response: { 200: z.object({ partitions: z.array(PartitionState) }), 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
    },
  }, async (request) => {
    const job = ownedCatalogJob(request.params.id, request.identity.name);
    const parsed = z.array(PartitionState).safeParse(readJsonFile(join(files.jobDir(job.id), 'partitions.json')));
    return { partitions: parsed.success ? parsed.data : [] };
  });

  app.get('/jobs/:id/preview', {
    schema: {
      summary: 'The first rows of a catalog run\'s result, as an Arrow IPC file',
      params: JobIdParams,
      response: { 200: z.instanceof(Buffer).meta({ description: 'application/vnd.apache.arrow.file' }), 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
    },
  }, async (request, reply) => {
    const job = ownedCatalogJob(request.params.id, request.identity.name);
    let bytes: Buffer;
    try {
      bytes = await readFile(join(files.jobDir(job.id), 'preview.arrow'));
    } catch {
      throw new HttpError(404, 'no_preview', 'This run has no preview yet: it is written when the run ends with at least one row.');
    }
    return reply.type('application/vnd.apache.arrow.file').send(bytes);
  });
};
