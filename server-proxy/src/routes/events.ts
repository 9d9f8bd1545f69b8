import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorBody } from '@user-batch/contract';

const PING_MS = 15_000;

export const eventRoutes: FastifyPluginAsyncZod = async app => {
  app.get(
    '/events',
    {
      schema: {
        summary: 'Server-Sent Events: `job` (a Job) and `quota` (a QuotaStatus) for the connected user only',
        response: { 200: z.string().describe('text/event-stream'), 401: ErrorBody },
      },
    },
    async (request, reply) => {
      const { hub, ledger } = app;
      const { name, groups } = request.identity;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: 2000\nevent: quota\ndata: ${JSON.stringify(ledger.status(name, groups))}\n\n`);
      const unsubscribe = hub.subscribe(name, { write: chunk => res.write(chunk), close: () => res.end() });
      const ping = setInterval(() => res.write(': ping\n\n'), PING_MS);
      // The response closes when the client goes away (or at shutdown): stop sending then.
      res.on('close', () => {
        clearInterval(ping);
        unsubscribe();
      });
    },
  );
};
