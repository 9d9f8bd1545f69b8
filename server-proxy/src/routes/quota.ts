import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorBody, QuotaStatus } from '@user-batch/contract';

export const quotaRoutes: FastifyPluginAsyncZod = async app => {
  app.get(
    '/quota',
    {
      schema: { summary: 'Your limits and usage', response: { 200: QuotaStatus, 401: ErrorBody } },
    },
    async request => app.ledger.status(request.identity.name, request.identity.groups),
  );
};
