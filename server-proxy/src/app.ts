import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, LogController, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { registerAuth } from './auth';
import type { Config } from './config';
import { HttpError } from './errors';
import { backendsPlugin } from './plugins/backends';
import { deletionsPlugin } from './plugins/deletions';
import { jobsPlugin } from './plugins/jobs';
import { pipelinesPlugin } from './plugins/pipelines';
import { quotaPlugin } from './plugins/quota';
import { storePlugin } from './plugins/store';
import { backendRoutes } from './routes/backends';
import { catalogRoutes } from './routes/catalogs';
import { eventRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { jobRoutes } from './routes/jobs';
import { outputRoutes } from './routes/outputs';
import { pipelineRoutes } from './routes/pipelines';
import { quotaRoutes } from './routes/quota';
import type { ErrorBody } from '@user-batch/contract';

export const SECRET_HEADER = 'x-user-batch-secret';

/** Browser-followed URLs (event stream, downloads) may carry the Jupyter token in the query. */
export const redactUrl = (url: string): string => url.replace(/([?&](?:token|_xsrf)=)[^&]*/gi, '$1[redacted]');

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: [`req.headers["${SECRET_HEADER}"]`, 'headers["x-user-batch-secret"]'], censor: '[redacted]' },
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
    },
  };
}

function describeValidation(context: string | undefined, issues: { instancePath: string; message?: string }[]): string {
  const what = context === 'body' ? 'The job spec' : `The request ${context ?? 'input'}`;
  const listed = issues.slice(0, 3).map(i => {
    const path = i.instancePath.replace(/^\//, '').replace(/\//g, '.');
    return path ? `${path}: ${i.message ?? 'invalid'}` : (i.message ?? 'invalid');
  });
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
  return `${what} is not valid: ${listed.join('; ')}${more}. Fix ${issues.length === 1 ? 'it' : 'them'} and submit again.`;
}

function toErrorReply(err: FastifyError | HttpError, bodyLimit: number): { status: number; body: ErrorBody } {
  if (err instanceof HttpError) {
    return {
      status: err.statusCode,
      body: { error: err.message, code: err.code, ...(err.details !== undefined ? { details: err.details } : {}) },
    };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = err.validation.map(v => ({ path: v.instancePath, message: v.message }));
    return {
      status: 400,
      body: { error: describeValidation(err.validationContext, err.validation), code: 'invalid_request', details: { issues } },
    };
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const mib = Math.round(bodyLimit / 1024 / 1024);
    return {
      status: 413,
      body: {
        error: `The request is larger than ${mib} MiB. Clear large cell outputs from the notebook or submit fewer cells.`,
        code: 'body_too_large',
      },
    };
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const message =
      err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? 'Send the request body as JSON (Content-Type: application/json).'
        : err.code?.startsWith('FST_ERR_CTP') || err instanceof SyntaxError
          ? `The request body is not valid JSON (${err.message}).`
          : err.message;
    return { status, body: { error: message, code: status === 404 ? 'not_found' : 'invalid_request' } };
  }
  return {
    status: 500,
    body: {
      error: 'The proxy hit an internal error; it has been logged. Try again, and report it if it keeps happening.',
      code: 'internal',
    },
  };
}

export interface BuildOptions {
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<FastifyInstance> {
  // one line per request, at the configured level (debug under JupyterLab, whose terminal it would flood)
  const app = Fastify({
    logger: opts.logger ?? loggerOptions(config),
    bodyLimit: config.bodyLimitBytes,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log[config.requestLogLevel]({ req: request, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request completed');
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // 1. API description, generated from the zod schemas the routes declare.
  await app.register(swagger, {
    openapi: { info: { title: 'User Batch proxy', version: config.version } },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  // 2. Shared services, each a plugin that decorates the app and declares what it needs.
  await app.register(storePlugin, { config });
  await app.register(quotaPlugin);
  await app.register(backendsPlugin);
  await app.register(pipelinesPlugin);
  await app.register(jobsPlugin);
  await app.register(deletionsPlugin);

  // 3. Auth, then one error handler for everything.
  registerAuth(app, config);
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { status, body } = toErrorReply(err, config.bodyLimitBytes);
    if (status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: body.code, status }, body.error);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `No such API path: ${request.method} ${request.url.split('?')[0]}.`, code: 'not_found' }),
  );

  // 4. Routes.
  await app.register(healthRoutes, { prefix: '/api' });
  await app.register(backendRoutes, { prefix: '/api' });
  await app.register(jobRoutes, { prefix: '/api' });
  await app.register(outputRoutes, { prefix: '/api' });
  await app.register(quotaRoutes, { prefix: '/api' });
  await app.register(catalogRoutes, { prefix: '/api' });
  await app.register(pipelineRoutes, { prefix: '/api' });
  await app.register(eventRoutes, { prefix: '/api' });

  return app;
}
