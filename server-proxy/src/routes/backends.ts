import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BackendList } from '@user-batch/contract';

export const backendRoutes: FastifyPluginAsyncZod = async app => {
  app.get(
    '/backends',
    {
      schema: { summary: 'Where jobs can run', response: { 200: BackendList } },
    },
    async () => ({
      backends: app.config.backends.map(b => ({
        name: b.name,
        label: b.label,
        default: b.default,
        sweepsInParallel: app.backends.get(b.name)?.sweepsInParallel ?? false,
        type: b.type,
      })),
    }),
  );
};
