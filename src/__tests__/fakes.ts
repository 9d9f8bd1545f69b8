/**
 * Test doubles for the one HTTP seam (the `fetch` in the server settings)
 * and for the browser's EventSource.
 */
import { ServerConnection } from '@jupyterlab/services';

import { IEventSourceLike } from '../model';
import { BatchClient } from '../request';
import { Batch } from '../tokens';

export function makeJob(patch: Partial<Batch.IJob> = {}): Batch.IJob {
  return {
    id: 'job-1',
    user: 'alice',
    name: 'fit residuals',
    kind: 'cells',
    backend: 'local',
    account: 'alice',
    state: 'running',
    stateReason: null,
    createdAt: '2026-01-01T10:00:00.000Z',
    startedAt: '2026-01-01T10:00:05.000Z',
    endedAt: null,
    exitCode: null,
    resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 3600 },
    progress: { total: 3, done: 1, failed: 0 },
    outputDir: 'batch-jobs/job-1',
    outputNotebook: 'batch-jobs/job-1/analysis.ipynb',
    error: null,
    cost: { reservedCoreHours: 1, usedCoreHours: null },
    notebookPath: 'work/analysis.ipynb',
    ...patch
  };
}

export function makeQuota(
  usage: Partial<Batch.IQuotaStatus['usage']> = {}
): Batch.IQuotaStatus {
  return {
    user: 'alice',
    accounts: ['alice', 'g_dp02'],
    windowHours: 24,
    limits: {
      concurrentJobs: 4,
      concurrentCores: 4,
      coreHours: 20,
      memoryPerJobMiB: 8192
    },
    usage: { concurrentJobs: 1, concurrentCores: 1, coreHours: 1.5, ...usage }
  };
}

type Handler = (request: Request) => Response | Promise<Response>;

/**
 * A stand-in for the proxy behind `fetch`: answers by "METHOD path" and
 * records every request.
 */
export class FakeProxyFetch {
  readonly requests: Request[] = [];
  readonly routes = new Map<string, Handler>();
  /** When set, every request fails as a network error does. */
  offline = false;

  on(route: string, handler: Handler | unknown): this {
    this.routes.set(
      route,
      typeof handler === 'function'
        ? (handler as Handler)
        : () => json(200, handler)
    );
    return this;
  }

  readonly fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const request = input as Request;
    this.requests.push(request);
    if (this.offline) {
      throw new TypeError('Failed to fetch');
    }
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    const handler = this.routes.get(route);
    if (!handler) {
      return new Response('<html>404: Not Found</html>', {
        status: 404,
        statusText: 'Not Found'
      });
    }
    return handler(request);
  };

  paths(): string[] {
    return this.requests.map(r => {
      const url = new URL(r.url);
      return `${r.method} ${url.pathname}${url.search}`;
    });
  }
}

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

export function makeClient(fake: FakeProxyFetch, token = ''): BatchClient {
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/user/alice/',
    token,
    fetch: fake.fetch
  });
  return new BatchClient({ serverSettings, proxyUrl: 'user-batch/' });
}

/**
 * A fake EventSource the test drives by hand.
 */
export class FakeEventSource implements IEventSourceLike {
  static instances: FakeEventSource[] = [];

  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }

  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  closed = false;

  addEventListener(type: string, listener: (event: MessageEvent) => void) {
    const list = this._listeners.get(type) ?? [];
    list.push(listener);
    this._listeners.set(type, list);
  }

  close(): void {
    this.closed = true;
  }

  open(): void {
    this.onopen?.(new Event('open'));
  }

  fail(): void {
    this.onerror?.(new Event('error'));
  }

  emit(type: string, data: unknown): void {
    const event = new MessageEvent(type, { data: JSON.stringify(data) });
    (this._listeners.get(type) ?? []).forEach(listener => listener(event));
  }

  private _listeners = new Map<string, ((event: MessageEvent) => void)[]>();
}

/** Let pending promise callbacks run. */
export async function flush(times = 10): Promise<void> {
  for (let i = 0; i < times; i++) {
    await Promise.resolve();
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}
