/**
 * The one client of the User Batch proxy's HTTP API.
 *
 * Every request goes through `ServerConnection.makeRequest`, so the Jupyter
 * server's token and XSRF handling apply on the way through
 * jupyter-server-proxy.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { Batch, BatchError } from './tokens';
import { loadTrans, TranslationBundle } from './translation';

export class BatchClient {
  constructor(options: BatchClient.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._proxyUrl = options.proxyUrl ?? 'user-batch/';
    this._trans = options.trans ?? loadTrans();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /**
   * The proxy's path below the Jupyter server's base URL.
   */
  get proxyUrl(): string {
    return this._proxyUrl;
  }
  set proxyUrl(value: string) {
    this._proxyUrl = value;
  }

  /**
   * The proxy's base URL, e.g. `http://host/user/alice/user-batch/`.
   */
  get baseUrl(): string {
    return URLExt.join(this.serverSettings.baseUrl, this._proxyUrl, '/');
  }

  /**
   * The URL of an API path, with an optional query.
   */
  url(path: string, query: Record<string, string> = {}): string {
    const url = URLExt.join(this.baseUrl, path);
    const search = new URLSearchParams(query).toString();
    return search ? `${url}?${search}` : url;
  }

  /**
   * A URL the browser follows on its own (EventSource, download links): it
   * cannot send the Authorization header, so it carries the token when the
   * page has one.
   */
  browserUrl(path: string, query: Record<string, string> = {}): string {
    const token = this.serverSettings.token;
    return this.url(path, token ? { ...query, token } : query);
  }

  listJobs(): Promise<Batch.IJob[]> {
    return this.request<{ jobs: Batch.IJob[] }>('api/jobs').then(r => r.jobs);
  }

  getJob(id: string): Promise<Batch.IJob> {
    return this.request<Batch.IJob>(`api/jobs/${encodeURIComponent(id)}`);
  }

  submitJob(spec: Batch.IJobSpec): Promise<Batch.IJob> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json'
    };
    if (spec.idempotencyKey) {
      headers['Idempotency-Key'] = spec.idempotencyKey;
    }
    return this.request<Batch.IJob>('api/jobs', {
      method: 'POST',
      body: JSON.stringify(spec),
      headers
    });
  }

  /** Submit a job again from its record; the key makes a retried click one job. */
  rerunJob(id: string, idempotencyKey: string): Promise<Batch.IJob> {
    return this.request<Batch.IJob>(
      `api/jobs/${encodeURIComponent(id)}/rerun`,
      {
        method: 'POST',
        body: '{}',
        headers: {
          'Content-Type': 'application/json',
          'Idempotency-Key': idempotencyKey
        }
      }
    );
  }

  cancelJob(id: string): Promise<Batch.IJob> {
    return this.jobAction(id, 'cancel');
  }

  /** Let a held job run again (HTCondor's condor_release). */
  releaseJob(id: string): Promise<Batch.IJob> {
    return this.jobAction(id, 'release');
  }

  /**
   * Delete a finished job: its output folder, its job folder and its record;
   * `keepProvenance` keeps its provenance record readable.
   */
  deleteJob(
    id: string,
    keepProvenance: boolean
  ): Promise<Batch.IDeleteJobResult> {
    return this.request<Batch.IDeleteJobResult>(
      `api/jobs/${encodeURIComponent(id)}`,
      // An empty JSON body, as for the other job actions.
      {
        method: 'DELETE',
        body: '{}',
        headers: { 'Content-Type': 'application/json' }
      },
      { keepProvenance: String(keepProvenance) }
    );
  }

  /** Delete several finished jobs; those refused come back with a sentence each. */
  deleteJobs(
    ids: string[],
    keepProvenance: boolean
  ): Promise<Batch.IDeleteJobsResult> {
    return this.request<Batch.IDeleteJobsResult>('api/jobs/delete', {
      method: 'POST',
      body: JSON.stringify({ ids, keepProvenance }),
      headers: { 'Content-Type': 'application/json' }
    });
  }

  private jobAction(id: string, action: string): Promise<Batch.IJob> {
    return this.request<Batch.IJob>(
      `api/jobs/${encodeURIComponent(id)}/${action}`,
      // An empty JSON body: the Jupyter request helper labels requests as
      // JSON, and fastify refuses an empty body with that content type.
      {
        method: 'POST',
        body: '{}',
        headers: { 'Content-Type': 'application/json' }
      }
    );
  }

  /**
   * Log bytes from an offset; `item` picks one sweep item's log (HTCondor
   * sweeps), left out for the server's default.
   */
  getLogs(
    id: string,
    from: number,
    item: number | null = null
  ): Promise<Batch.ILogChunk> {
    const query: Record<string, string> = { from: String(from) };
    if (item !== null) {
      query.item = String(item);
    }
    return this.request<Batch.ILogChunk>(
      `api/jobs/${encodeURIComponent(id)}/logs`,
      {},
      query
    );
  }

  /** The batch system's own log of the job (HTCondor's user log). */
  getBatchSystemLog(id: string, from: number): Promise<Batch.ILogChunk> {
    return this.request<Batch.ILogChunk>(
      `api/jobs/${encodeURIComponent(id)}/logs`,
      {},
      { from: String(from), source: 'htcondor' }
    );
  }

  getOutputs(id: string): Promise<Batch.IOutput[]> {
    return this.request<{ outputs: Batch.IOutput[] }>(
      `api/jobs/${encodeURIComponent(id)}/outputs`
    ).then(r => r.outputs);
  }

  getProvenance(id: string): Promise<Batch.Provenance> {
    return this.request<Batch.Provenance>(
      `api/jobs/${encodeURIComponent(id)}/provenance`
    );
  }

  getQuota(): Promise<Batch.IQuotaStatus> {
    return this.request<Batch.IQuotaStatus>('api/quota');
  }

  getBackends(): Promise<Batch.IBackend[]> {
    return this.request<{ backends: Batch.IBackend[] }>('api/backends').then(
      r => r.backends
    );
  }

  planCatalog(request: Batch.IPlanRequest): Promise<Batch.ICatalogPlan> {
    return this.request<Batch.ICatalogPlan>('api/catalogs/plan', {
      method: 'POST',
      body: JSON.stringify(request),
      headers: { 'Content-Type': 'application/json' }
    });
  }

  /** Build a pipeline's quantum graph: quanta per task label, output run, estimate. */
  planPipeline(
    request: Batch.IPipelinePlanRequest
  ): Promise<Batch.IPipelinePlan> {
    return this.request<Batch.IPipelinePlan>('api/pipelines/plan', {
      method: 'POST',
      body: JSON.stringify(request),
      headers: { 'Content-Type': 'application/json' }
    });
  }

  getStandardPipelines(): Promise<Batch.IStandardPipeline[]> {
    return this.request<{ pipelines: Batch.IStandardPipeline[] }>(
      'api/pipelines/standard'
    ).then(r => r.pipelines);
  }

  getPipelineStatus(id: string): Promise<Batch.IPipelineStatus> {
    return this.request<Batch.IPipelineStatus>(
      `api/jobs/${encodeURIComponent(id)}/pipeline`
    );
  }

  getPartitions(id: string): Promise<Batch.IPartition[]> {
    return this.request<{ partitions: Batch.IPartition[] }>(
      `api/jobs/${encodeURIComponent(id)}/partitions`
    ).then(r => r.partitions);
  }

  /**
   * The result's first rows as Arrow IPC bytes; null while the run has no
   * result yet (the proxy answers 404).
   */
  async getPreview(id: string): Promise<ArrayBuffer | null> {
    const url = this.url(`api/jobs/${encodeURIComponent(id)}/preview`);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(
        url,
        { cache: 'no-cache' },
        this.serverSettings
      );
    } catch (reason) {
      throw this._unreachable(reason);
    }
    if (response.status === 404) {
      return null;
    }
    if (!response.ok) {
      const text = await response.text();
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
      throw Private.responseError(response, body, this.baseUrl, this._trans);
    }
    return response.arrayBuffer();
  }

  /**
   * Make a request and decode its JSON body.
   *
   * @throws {BatchError} `network` when the proxy cannot be reached,
   * `response` with the proxy's own sentence when it answers with an error.
   */
  async request<T>(
    path: string,
    init: RequestInit = {},
    query: Record<string, string> = {}
  ): Promise<T> {
    let response: Response;
    try {
      // 'no-cache' rather than the default 'no-store', which would add a
      // cache-busting query parameter the proxy does not expect.
      response = await ServerConnection.makeRequest(
        this.url(path, query),
        { cache: 'no-cache', ...init },
        this.serverSettings
      );
    } catch (reason) {
      throw this._unreachable(reason);
    }
    const text = await response.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
    }
    if (!response.ok) {
      throw Private.responseError(response, body, this.baseUrl, this._trans);
    }
    if (body === null && text) {
      throw new BatchError({
        kind: 'response',
        status: response.status,
        code: 'bad_response',
        message: this._trans.__(
          'The User Batch service at %1 answered with something that is not JSON: is the proxy URL setting right?',
          this.baseUrl
        )
      });
    }
    return body as T;
  }

  private _unreachable(reason: unknown): BatchError {
    return new BatchError({
      kind: 'network',
      message: this._trans.__(
        'The User Batch service at %1 could not be reached (%2).',
        this.baseUrl,
        reason instanceof Error ? reason.message : String(reason)
      )
    });
  }

  private _proxyUrl: string;
  private _trans: TranslationBundle;
}

export namespace BatchClient {
  export interface IOptions {
    /** Defaults to `ServerConnection.makeSettings()`. */
    serverSettings?: ServerConnection.ISettings;
    /** The proxy's path below the Jupyter base URL; default `user-batch/`. */
    proxyUrl?: string;
    /** The extension's strings, for the errors it makes itself; default: as written. */
    trans?: TranslationBundle;
  }
}

namespace Private {
  interface IProxyErrorBody {
    error: string;
    code?: string;
    details?: unknown;
  }

  function isProxyError(body: unknown): body is IProxyErrorBody {
    return (
      typeof body === 'object' &&
      body !== null &&
      typeof (body as IProxyErrorBody).error === 'string'
    );
  }

  export function responseError(
    response: Response,
    body: unknown,
    baseUrl: string,
    trans: TranslationBundle
  ): BatchError {
    if (isProxyError(body)) {
      return new BatchError({
        kind: 'response',
        status: response.status,
        code: body.code,
        details: body.details,
        message: body.error
      });
    }
    // Not the proxy's own JSON: the Jupyter server or jupyter-server-proxy answered.
    const answered = trans.__(
      'The User Batch service at %1 answered %2 %3.',
      baseUrl,
      response.status,
      response.statusText
    );
    const hint =
      response.status === 404
        ? trans.__(
            'Is jupyter-server-proxy installed and the proxy URL setting right?'
          )
        : response.status >= 500
          ? trans.__(
              'Did the proxy fail to start? The Jupyter server log says why.'
            )
          : '';
    return new BatchError({
      kind: 'response',
      status: response.status,
      code: `http_${response.status}`,
      message: hint ? `${answered} ${hint}` : answered
    });
  }
}
