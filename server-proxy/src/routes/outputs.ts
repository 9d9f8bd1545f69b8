import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError, notFound } from '../errors';
import { resolveOutputFile } from '../outputs';
import { ErrorBody, JobIdParams, OutputFile } from '@user-batch/contract';

const CONTENT_TYPES: Record<string, string> = {
  '.ipynb': 'application/x-ipynb+json',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.html': 'text/plain; charset=utf-8', // never render job output as a page of this origin
};

export const outputRoutes: FastifyPluginAsyncZod = async app => {
  const { store, backends, files } = app;

  app.get(
    '/jobs/:id/outputs',
    {
      schema: {
        summary: "Files in the job's output folder",
        params: JobIdParams,
        response: { 200: z.object({ outputs: z.array(OutputFile) }), 401: ErrorBody, 404: ErrorBody },
      },
    },
    async request => {
      const job = store.getOwned(request.params.id, request.identity.name);
      if (!job) throw notFound();
      const backend = backends.get(job.backend);
      if (!backend) throw new HttpError(500, 'internal', `backend ${job.backend} is not configured`);
      return { outputs: await backend.outputs(job) };
    },
  );

  app.get(
    '/jobs/:id/outputs/*',
    {
      schema: {
        summary: 'Download one output file',
        params: JobIdParams.extend({ '*': z.string() }),
        response: { 200: z.unknown().describe('the file'), 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const job = store.getOwned(request.params.id, request.identity.name);
      if (!job) throw notFound();
      const file = resolveOutputFile(files.outputDir(job), request.params['*']);
      return reply
        .type(CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
        .header('x-content-type-options', 'nosniff')
        .send(createReadStream(file));
    },
  );
};
