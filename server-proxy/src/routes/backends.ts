import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

const BackendList = z.object({
  backends: z.array(z.object({
    name: z.string(),
    label: z.string(),
    default: z.boolean(),
    /** A sweep's items all at once (HTCondor: quota counts items × cores) or one after another (local). */
    sweepsInParallel: z.boolean(),
    /** What runs the jobs: on a dask-gateway backend the resources are per worker, with `workers` or `adaptiveWorkers`. */
    type: z.enum(['local', 'htcondor', 'dask-gateway']),
  })),
});

export const backendRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/backends', {
    schema: { summary: 'Where jobs can run', response: { 200: BackendList } },
  }, async () => ({
    backends: app.services.config.backends.map((b) => ({
      name: b.name, label: b.label, default: b.default, sweepsInParallel: app.services.backends.get(b.name)?.sweepsInParallel ?? false, type: b.type,
    })),
  }));
};
