import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from './config';
import { HttpError } from './errors';
import type { Identity } from './service';

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity;
  }
}

const PUBLIC_PATHS = new Set(['/api/health']);

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function secretMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Every request except health carries the launch secret (if set) and resolves to one user. */
export function registerAuth(app: FastifyInstance, config: Config): void {
  app.decorateRequest('identity', null as unknown as Identity);
  app.addHook('onRequest', async request => {
    const path = request.url.split('?')[0];
    if (PUBLIC_PATHS.has(path)) return;
    if (config.secret !== undefined && !secretMatches(headerValue(request, 'x-user-batch-secret'), config.secret)) {
      throw new HttpError(401, 'unauthorized', 'Missing or wrong X-User-Batch-Secret header; reach the proxy through JupyterLab.');
    }
    if (config.auth === 'personal') {
      request.identity = { name: config.user, groups: config.groups };
      return;
    }
    const user = headerValue(request, 'x-auth-request-user')?.trim();
    if (!user) {
      throw new HttpError(401, 'unauthorized', "No X-Auth-Request-User header: the request did not come through the platform's login.");
    }
    const groups = (headerValue(request, 'x-auth-request-groups') ?? '')
      .split(',')
      .map(g => g.trim())
      .filter(g => g.length > 0);
    request.identity = { name: user, groups };
  });
}
