import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

export const healthRoutes: FastifyPluginAsyncZod = async app => {
  app.get(
    '/health',
    {
      schema: { summary: 'Liveness (no auth)', response: { 200: z.object({ ok: z.literal(true), version: z.string() }) } },
    },
    async () => ({ ok: true as const, version: app.config.version }),
  );

  app.get(
    '/openapi.json',
    {
      schema: { summary: 'This API as an OpenAPI 3 document', hide: true, response: { 200: z.record(z.string(), z.unknown()) } },
    },
    async () => app.swagger() as unknown as Record<string, unknown>,
  );
};
