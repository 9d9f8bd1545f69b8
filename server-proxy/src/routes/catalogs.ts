import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CatalogPlan,
  ErrorBody,
  JOB_FILES,
  JobIdParams,
  PartitionList,
  PartitionsFile,
  planQuota,
  PlanRequest,
  runsOverPartitions,
} from '@user-batch/contract';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { planForApi } from '../catalog-runs';
import { HttpError, notFound } from '../errors';
import { readJsonFile } from '../jobdir';

/** At most this many partitions are listed in a plan answer (the totals cover all of them). */
const PARTITIONS_SHOWN = 500;

export const catalogRoutes: FastifyPluginAsyncZod = async app => {
  const { store, files, ledger, config } = app;
  const places = { rootDir: config.rootDir, catalogRoots: config.catalogRoots };

  app.post(
    '/catalogs/plan',
    {
      schema: {
        summary:
          'Plan a catalog run before submitting it: partitions, rows and bytes it touches, estimated core-hours, and whether that fits your quota',
        body: PlanRequest,
        response: { 200: CatalogPlan, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async request => {
      const { plan } = await planForApi(request.body, places);
      const status = ledger.status(request.identity.name, request.identity.groups);
      return {
        ...plan,
        partitions: plan.partitions.slice(0, PARTITIONS_SHOWN),
        partitionsShown: Math.min(PARTITIONS_SHOWN, plan.partitions.length),
        quota: planQuota(status, plan.estimate.coreHours),
        timings: { ms: plan.timings.ms },
      };
    },
  );

  const ownedCatalogJob = (id: string, user: string) => {
    const job = store.getOwned(id, user);
    if (!job) throw notFound();
    if (!runsOverPartitions(job.kind))
      throw new HttpError(400, 'not_a_catalog_run', 'This job is not a catalog run; only catalog runs have partitions and a preview.');
    return job;
  };

  app.get(
    '/jobs/:id/partitions',
    {
      schema: {
        summary: "A catalog run's partitions: each one's state, rows written, time and error",
        params: JobIdParams,
        response: { 200: PartitionList, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async request => {
      const job = ownedCatalogJob(request.params.id, request.identity.name);
      const parsed = PartitionsFile.safeParse(readJsonFile(join(files.jobDir(job.id), JOB_FILES.partitions)));
      return { partitions: parsed.success ? parsed.data : [] };
    },
  );

  app.get(
    '/jobs/:id/preview',
    {
      schema: {
        summary: "The first rows of a catalog run's result, as an Arrow IPC file",
        params: JobIdParams,
        response: {
          200: z.instanceof(Buffer).meta({ description: 'application/vnd.apache.arrow.file' }),
          400: ErrorBody,
          401: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const job = ownedCatalogJob(request.params.id, request.identity.name);
      let bytes: Buffer;
      try {
        bytes = await readFile(join(files.jobDir(job.id), JOB_FILES.previewArrow));
      } catch {
        throw new HttpError(404, 'no_preview', 'This run has no preview yet: it is written when the run ends with at least one row.');
      }
      return reply.type('application/vnd.apache.arrow.file').send(bytes);
    },
  );
};
