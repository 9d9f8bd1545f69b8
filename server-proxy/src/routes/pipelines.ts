import { join } from 'node:path';
import {
  ErrorBody,
  JOB_FILES,
  JobIdParams,
  PipelinePlan,
  PipelinePlanFile,
  PipelinePlanRequest,
  PipelineProgressFile,
  PipelineProvenanceFile,
  PipelineStatus,
  planQuota,
  StandardPipelineList,
} from '@user-batch/contract';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { HttpError, notFound } from '../errors';
import { readJsonFile } from '../jobdir';
import { PIPELINE_ADVICE } from '../pipeline-runs';

export const pipelineRoutes: FastifyPluginAsyncZod = async app => {
  const { store, files, ledger, pipelines, backends } = app;

  app.get(
    '/pipelines/standard',
    {
      schema: {
        summary: "The site's standard pipelines, to re-run with your own overrides and query",
        response: { 200: StandardPipelineList, 401: ErrorBody },
      },
    },
    async () => ({ pipelines: pipelines.standardList() }),
  );

  app.post(
    '/pipelines/plan',
    {
      schema: {
        summary:
          'Build the quantum graph of a pipeline run before submitting it: quanta per task label, the output run, estimated core-hours and whether that fits your quota',
        body: PipelinePlanRequest,
        response: { 200: PipelinePlan, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async request => {
      const { name, pipeline, resources, backend: backendName } = request.body;
      if (backendName !== undefined) {
        const backend = backends.get(backendName);
        if (!backend) {
          throw new HttpError(
            400,
            'unknown_backend',
            `Unknown backend "${backendName}"; this proxy offers: ${[...backends.keys()].join(', ')}.`,
          );
        }
        const refusal = backend.refusesKind?.('pipeline');
        if (refusal) throw new HttpError(400, 'invalid_request', refusal);
      }
      const stored = await pipelines.plan(request.identity.name, name, pipeline, resources);
      const status = ledger.status(request.identity.name, request.identity.groups);
      return {
        planId: stored.planId,
        plan: stored.plan,
        estimate: stored.estimate,
        quota: planQuota(status, stored.estimate.coreHours, PIPELINE_ADVICE),
      };
    },
  );

  app.get(
    '/jobs/:id/pipeline',
    {
      schema: {
        summary: "A pipeline run's plan, progress per task label, failed quanta, and the output datasets once it ended",
        params: JobIdParams,
        response: { 200: PipelineStatus, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async request => {
      const job = store.getOwned(request.params.id, request.identity.name);
      if (!job) throw notFound();
      if (job.kind !== 'pipeline') {
        throw new HttpError(400, 'not_a_pipeline_run', 'This job is not a pipeline run; only pipeline runs have quanta and task labels.');
      }
      const dir = files.jobDir(job.id);
      const plan = PipelinePlanFile.safeParse(readJsonFile(join(dir, JOB_FILES.pipelinePlan)));
      const progress = PipelineProgressFile.safeParse(readJsonFile(join(dir, JOB_FILES.pipelineProgress)));
      const record = PipelineProvenanceFile.safeParse(readJsonFile(join(dir, JOB_FILES.pipelineProvenance)));
      return {
        plan: plan.success ? plan.data : null,
        progress: progress.success ? progress.data : null,
        outputs: record.success ? record.data.outputs : null,
      };
    },
  );
};
