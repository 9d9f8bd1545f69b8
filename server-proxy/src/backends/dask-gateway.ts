import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { DaskGatewaySiteConfig } from '../config';
import { type JobKind, type JobSpec, maxWorkers, type OutputFile } from '@user-batch/contract';
import type { JobRecord } from '../store/jobs';
import type { LocalBackend } from './local';
import type { Backend, JobUpdate, LogChunk } from './types';

/**
 * Jobs whose driver (the same kernel-based runner as the local backend) runs on this host,
 * connected to a Dask cluster the proxy creates for it through the gateway's REST API.
 *
 *   submit   POST /api/v1/clusters/ with options from the job's resources → queued
 *   poll     one GET /api/v1/clusters/ per user: a RUNNING cluster gets its workers and the
 *            driver starts (env names the cluster, so user_batch.dask_client() finds it); a
 *            driver that ended stops its cluster; a cluster that failed fails its job
 *   cancel   stop the driver, then DELETE the cluster and wait until the gateway says STOPPED
 * Every cluster carries the job id as an option (user_batch_job), so a restarted proxy finds
 * its clusters, and a cluster whose job is no longer active is stopped (never left behind).
 */

const ClusterStatus = z.enum(['PENDING', 'RUNNING', 'STOPPING', 'STOPPED', 'FAILED']);
const Cluster = z.looseObject({
  name: z.string(),
  status: ClusterStatus,
  options: z.record(z.string(), z.unknown()).nullable().optional(),
  dashboard_route: z.string().nullable().optional(),
  start_time: z.number().nullable().optional(),
});
type Cluster = z.infer<typeof Cluster>;

/** What the store keeps (JobRecord.backendRef); also shown in provenance. */
const GatewayRef = z.object({
  cluster: z.string(),
  phase: z.enum(['starting', 'driving']),
  /** The local backend's reference to the driver process, once started. */
  driver: z.record(z.string(), z.unknown()).nullable().default(null),
  dashboardUrl: z.string().nullable().default(null),
  options: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  clusterStopped: z.boolean().default(false),
  /** Workers asked for already (at create: the gateway starts them with the scheduler). */
  scaled: z.boolean().default(false),
});
type GatewayRef = z.infer<typeof GatewayRef>;

export class GatewayError extends Error {}

const ALL_STATUSES = ClusterStatus.options.join(',');
/** A cluster younger than this is never taken for an orphan (its job may be mid-submit). */
const ORPHAN_MIN_AGE_MS = 60_000;
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));
/**
 * How long a failed job's end waits for an unreachable gateway, to say whether its cluster died.
 * A restarting gateway on a busy 2-core host took over 30 s to answer again (seen in the tests);
 * the job ends either way, only its reason waits.
 */
const WAIT_FOR_GATEWAY_MS = 90_000;

/** The gateway's REST API, as one user. */
export class GatewayClient {
  constructor(private readonly site: DaskGatewaySiteConfig) {}

  get address(): string {
    return this.site.address;
  }

  private authorization(user: string): string {
    const { auth } = this.site;
    const file = auth.type === 'basic' ? auth.passwordFile : auth.tokenFile;
    let secret: string;
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch {
      throw new GatewayError(
        `The proxy cannot read the Dask Gateway ${auth.type === 'basic' ? 'password' : 'token'} file ${file}; ask the site's administrators to fix the backend's auth.`,
      );
    }
    return auth.type === 'basic' ? `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` : `jupyterhub ${secret}`;
  }

  private async call(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
      res = await fetch(`${this.site.address}${path}`, {
        method,
        headers: { Authorization: this.authorization(user), ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(20_000),
      });
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new GatewayError(
        `Could not reach the Dask Gateway at ${this.site.address} (${cause}). It may be down or restarting; try again in a minute, or ask the site's administrators.`,
      );
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (res.status === 401 || res.status === 403) {
      throw new GatewayError(
        `The Dask Gateway at ${this.site.address} did not accept the proxy's credentials (HTTP ${res.status}); ask the site's administrators to check the backend's auth.`,
      );
    }
    return { status: res.status, json };
  }

  private static said(json: unknown): string {
    const parsed = z.object({ error: z.string() }).safeParse(json);
    return parsed.success ? parsed.data.error : 'no reason given';
  }

  async create(user: string, options: Record<string, unknown>): Promise<string> {
    const { status, json } = await this.call(user, 'POST', '/api/v1/clusters/', { cluster_options: options });
    if (status === 422) {
      throw new GatewayError(
        `The Dask Gateway refused the cluster options: ${GatewayClient.said(json)}. Ask for fewer cores or less memory per worker.`,
      );
    }
    const parsed = z.object({ name: z.string() }).safeParse(json);
    if (status !== 201 || !parsed.success)
      throw new GatewayError(`The Dask Gateway could not create a cluster (HTTP ${status}: ${GatewayClient.said(json)}).`);
    return parsed.data.name;
  }

  /** Every cluster of the user, whatever its status. */
  async list(user: string): Promise<Map<string, Cluster>> {
    const { status, json } = await this.call(user, 'GET', `/api/v1/clusters/?status=${ALL_STATUSES}`);
    if (status !== 200 || json === null || typeof json !== 'object') {
      throw new GatewayError(`The Dask Gateway did not list the clusters (HTTP ${status}: ${GatewayClient.said(json)}).`);
    }
    const clusters = new Map<string, Cluster>();
    for (const value of Object.values(json as Record<string, unknown>)) {
      const parsed = Cluster.safeParse(value);
      if (parsed.success) clusters.set(parsed.data.name, parsed.data);
    }
    return clusters;
  }

  async get(user: string, name: string): Promise<Cluster | null> {
    const { status, json } = await this.call(user, 'GET', `/api/v1/clusters/${encodeURIComponent(name)}`);
    if (status === 404) return null;
    const parsed = Cluster.safeParse(json);
    if (!parsed.success) throw new GatewayError(`The Dask Gateway did not describe cluster ${name} (HTTP ${status}).`);
    return parsed.data;
  }

  async scale(user: string, name: string, resources: JobSpec['resources']): Promise<void> {
    const body = resources.adaptiveWorkers
      ? (['adapt', { minimum: resources.adaptiveWorkers.minimum, maximum: resources.adaptiveWorkers.maximum, active: true }] as const)
      : (['scale', { count: resources.workers ?? 1 }] as const);
    const { status, json } = await this.call(user, 'POST', `/api/v1/clusters/${encodeURIComponent(name)}/${body[0]}`, body[1]);
    if (status !== 200)
      throw new GatewayError(`The Dask Gateway did not ${body[0]} cluster ${name} (HTTP ${status}: ${GatewayClient.said(json)}).`);
  }

  /** Stop the cluster; true once the gateway reports it STOPPED/FAILED (or gone) within `waitMs`. */
  async stop(user: string, name: string, waitMs: number): Promise<boolean> {
    const { status } = await this.call(user, 'DELETE', `/api/v1/clusters/${encodeURIComponent(name)}`);
    if (status !== 204 && status !== 404) throw new GatewayError(`The Dask Gateway did not stop cluster ${name} (HTTP ${status}).`);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const cluster = await this.get(user, name);
      if (!cluster || cluster.status === 'STOPPED' || cluster.status === 'FAILED') return true;
      if (Date.now() > deadline) return false;
      await sleep(250);
    }
  }
}

export interface DaskGatewayBackendOptions {
  name: string;
  site: DaskGatewaySiteConfig;
  /** Runs the driver on this host; the same runner and job-directory seam as the local backend. */
  driver: LocalBackend;
}

export class DaskGatewayBackend implements Backend {
  readonly name: string;
  readonly sweepsInParallel = false;
  readonly usesDaskWorkers = true;
  readonly client: GatewayClient;
  /** Clusters whose stop failed (gateway away): retried on every poll until they are gone. */
  private readonly stopsPending = new Map<string, string>();
  /** Jobs whose driver failed while the gateway could not be asked: since when (ms). */
  private readonly waitingSince = new Map<string, number>();

  refusesKind(kind: JobKind): string | null {
    return kind === 'pipeline'
      ? `The "${this.name}" backend (Dask Gateway) does not run pipelines: choose the local backend, where the pipeline runs with pipetask, or an HTCondor backend, where it runs through BPS.`
      : null;
  }

  /** True while a failed job may wait for the gateway to answer (at most WAIT_FOR_GATEWAY_MS). */
  private mayWait(jobId: string): boolean {
    const since = this.waitingSince.get(jobId) ?? Date.now();
    this.waitingSince.set(jobId, since);
    return Date.now() - since < WAIT_FOR_GATEWAY_MS;
  }

  constructor(private readonly opts: DaskGatewayBackendOptions) {
    this.name = opts.name;
    this.client = new GatewayClient(opts.site);
  }

  /** Cluster options from the job's resources: per-worker cores and memory, the most workers it may have. */
  static optionsFor(job: JobRecord): Record<string, unknown> {
    const r = job.spec.resources;
    return {
      worker_cores: r.cpus,
      worker_memory: Math.round((r.memoryMiB / 1024) * 1000) / 1000,
      max_workers: maxWorkers(r),
      user_batch_job: job.id,
    };
  }

  async submit(job: JobRecord): Promise<JobUpdate> {
    const options = DaskGatewayBackend.optionsFor(job);
    const cluster = await this.client.create(job.user, options);
    // workers asked for at once, so they start with the scheduler; if the gateway wants a
    // running cluster first, the poll that sees it RUNNING asks again
    const scaled = await this.client.scale(job.user, cluster, job.spec.resources).then(
      () => true,
      () => false,
    );
    const ref: GatewayRef = {
      cluster,
      phase: 'starting',
      driver: null,
      dashboardUrl: null,
      options,
      createdAt: new Date().toISOString(),
      clusterStopped: false,
      scaled,
    };
    return { jobId: job.id, state: 'queued', stateReason: `Starting Dask cluster ${cluster} on the gateway.`, backendRef: ref };
  }

  async poll(jobs: readonly JobRecord[]): Promise<JobUpdate[]> {
    const updates: JobUpdate[] = [];
    const users = new Set(jobs.map(j => j.user));
    for (const user of this.stopsPending.values()) users.add(user);
    for (const user of users) {
      let clusters: Map<string, Cluster> | null = null;
      try {
        clusters = await this.client.list(user);
      } catch {
        clusters = null; // gateway away: drivers are still watched, cluster starts wait
      }
      const mine = jobs.filter(j => j.user === user);
      for (const job of mine) {
        const update = await this.step(job, clusters);
        if (update) updates.push(update);
      }
      if (clusters) await this.stopOrphans(user, clusters, new Set(mine.map(j => j.id)));
    }
    return updates;
  }

  onJobExit(listener: () => void): void {
    this.opts.driver.onJobExit(listener);
  }

  async reconcile(jobs: readonly JobRecord[]): Promise<JobUpdate[]> {
    const updates: JobUpdate[] = [];
    const byUser = new Map<string, Map<string, Cluster> | null>();
    for (const job of jobs) {
      if (!byUser.has(job.user)) byUser.set(job.user, await this.client.list(job.user).catch(() => null));
      const clusters = byUser.get(job.user) ?? null;
      const ref = this.refOf(job);
      if (!ref) {
        // stored, maybe the cluster made, but the proxy died before it recorded the name
        const made = clusters ? [...clusters.values()].find(c => c.options?.user_batch_job === job.id) : undefined;
        if (made) {
          const adopted: GatewayRef = {
            cluster: made.name,
            phase: 'starting',
            driver: null,
            dashboardUrl: null,
            options: DaskGatewayBackend.optionsFor(job),
            createdAt: new Date().toISOString(),
            clusterStopped: false,
            scaled: false,
          };
          updates.push({
            jobId: job.id,
            state: 'queued',
            stateReason: `Starting Dask cluster ${made.name} (found again after the proxy restarted).`,
            backendRef: adopted,
          });
        } else if (job.state === 'pending') updates.push({ jobId: job.id, needsSubmit: true });
        else
          updates.push({
            jobId: job.id,
            state: 'lost',
            stateReason: "The proxy has no record of this job's Dask cluster.",
            endedAt: new Date().toISOString(),
          });
        continue;
      }
      if (ref.phase === 'driving' && ref.driver) {
        const [seen] = await this.opts.driver.reconcile([{ ...job, backendRef: ref.driver }]);
        const update = seen ? await this.afterDriver(job, ref, seen, clusters) : null;
        if (update) updates.push(update);
        continue;
      }
      const update = await this.step(job, clusters);
      if (update) updates.push(update);
    }
    return updates;
  }

  async cancel(job: JobRecord): Promise<JobUpdate> {
    const ref = this.refOf(job);
    let exitCode: number | null = null;
    if (ref?.phase === 'driving' && ref.driver) {
      exitCode = (await this.opts.driver.cancel({ ...job, backendRef: ref.driver })).exitCode ?? null;
    }
    const stopped = ref ? await this.stopCluster(job.user, ref.cluster) : true;
    return {
      jobId: job.id,
      state: 'cancelled',
      endedAt: new Date().toISOString(),
      exitCode,
      stateReason: `Cancelled at your request.${stopped ? '' : ' The Dask cluster is still stopping; the proxy keeps asking the gateway to stop it.'}`,
      ...(ref ? { backendRef: { ...ref, clusterStopped: stopped, dashboardUrl: null } } : {}),
    };
  }

  async logs(job: JobRecord, from: number, maxBytes: number): Promise<LogChunk> {
    return this.opts.driver.logs(job, from, maxBytes);
  }

  async outputs(job: JobRecord): Promise<OutputFile[]> {
    return this.opts.driver.outputs(job);
  }

  private refOf(job: JobRecord): GatewayRef | null {
    const parsed = GatewayRef.safeParse(job.backendRef);
    return parsed.success ? parsed.data : null;
  }

  /** One job's next step from the cluster list (null: the gateway could not be asked). */
  private async step(job: JobRecord, clusters: Map<string, Cluster> | null): Promise<JobUpdate | null> {
    const ref = this.refOf(job);
    if (!ref) return null;
    if (ref.phase === 'driving' && ref.driver) {
      const driverJob = { ...job, backendRef: ref.driver };
      const [seen] = await this.opts.driver.poll([driverJob]);
      if (seen?.state === 'failed' && clusters === null && this.mayWait(job.id)) {
        // the driver failed while the gateway cannot be asked (restarting?): its end is on disk,
        // so wait a little for the gateway to say whether the cluster went away under it
        return null;
      }
      this.waitingSince.delete(job.id);
      if (seen) return this.afterDriver(job, ref, seen, clusters);
      const cluster = clusters?.get(ref.cluster);
      if (clusters && (!cluster || cluster.status === 'STOPPED' || cluster.status === 'FAILED')) {
        // the cluster is gone under a running driver (gateway restarted, scheduler died): the
        // driver would wait on a dead scheduler, so it is stopped and the job fails, never stuck
        const stopped = await this.opts.driver.cancel(driverJob);
        return {
          ...stopped,
          state: 'failed',
          stateReason: `The Dask cluster ${ref.cluster} ${cluster ? `is ${cluster.status}` : 'is gone'} while the job ran (the gateway restarted or the cluster failed), so the job was stopped. Run it again.`,
          backendRef: { ...ref, dashboardUrl: null, clusterStopped: true },
        };
      }
      return null;
    }
    if (!clusters) return null;
    const cluster = clusters.get(ref.cluster);
    const waited = Date.now() - Date.parse(ref.createdAt);
    if (cluster?.status === 'RUNNING') return this.startDriver(job, ref, cluster);
    if (cluster?.status === 'PENDING' && waited < this.opts.site.startTimeoutSeconds * 1000) return null;
    const why = !cluster
      ? `The Dask Gateway no longer knows cluster ${ref.cluster}.`
      : cluster.status === 'PENDING'
        ? `The Dask cluster did not start within ${this.opts.site.startTimeoutSeconds} s; the gateway may be short of resources. Try again later or ask for fewer workers.`
        : `The Dask Gateway could not start the cluster (it is ${cluster.status}); see the gateway's log, or try again with fewer or smaller workers.`;
    const stopped = await this.stopCluster(job.user, ref.cluster);
    return {
      jobId: job.id,
      state: 'failed',
      stateReason: why,
      endedAt: new Date().toISOString(),
      backendRef: { ...ref, clusterStopped: stopped },
    };
  }

  private async startDriver(job: JobRecord, ref: GatewayRef, cluster: Cluster): Promise<JobUpdate> {
    const { site } = this.opts;
    try {
      if (!ref.scaled) await this.client.scale(job.user, ref.cluster, job.spec.resources);
    } catch (err) {
      const stopped = await this.stopCluster(job.user, ref.cluster);
      return {
        jobId: job.id,
        state: 'failed',
        stateReason: (err as Error).message,
        endedAt: new Date().toISOString(),
        backendRef: { ...ref, clusterStopped: stopped },
      };
    }
    const env: Record<string, string> = {
      USER_BATCH_DASK_GATEWAY_ADDRESS: site.address,
      USER_BATCH_DASK_CLUSTER: ref.cluster,
      USER_BATCH_DASK_GATEWAY_AUTH: site.auth.type,
      USER_BATCH_DASK_GATEWAY_USER: job.user,
      USER_BATCH_DASK_GATEWAY_SECRET_FILE: site.auth.type === 'basic' ? site.auth.passwordFile : site.auth.tokenFile,
      ...(site.proxyAddress ? { USER_BATCH_DASK_GATEWAY_PROXY_ADDRESS: site.proxyAddress } : {}),
      // Dask's own config (read from DASK_* at import), so that a plain dask_gateway.Gateway() in
      // the user's code reaches this gateway too. JupyterHub auth reads JUPYTERHUB_API_TOKEN from
      // the user's environment as usual; the basic password (testing only) has to be given here.
      DASK_GATEWAY__ADDRESS: site.address,
      ...(site.proxyAddress ? { DASK_GATEWAY__PROXY_ADDRESS: site.proxyAddress } : {}),
      DASK_GATEWAY__AUTH__TYPE: site.auth.type,
      ...(site.auth.type === 'basic'
        ? {
            DASK_GATEWAY__AUTH__KWARGS__USERNAME: job.user,
            DASK_GATEWAY__AUTH__KWARGS__PASSWORD: readFileSync(site.auth.passwordFile, 'utf8').trim(),
          }
        : {}),
    };
    const started = await this.opts.driver.submit(job, env);
    const dashboardUrl = cluster.dashboard_route ? `${site.address}${cluster.dashboard_route}` : null;
    const r = job.spec.resources;
    const workers = r.adaptiveWorkers
      ? `${r.adaptiveWorkers.minimum}–${r.adaptiveWorkers.maximum} workers (adaptive)`
      : `${r.workers ?? 1} worker${(r.workers ?? 1) === 1 ? '' : 's'}`;
    return {
      ...started,
      stateReason: `Running on Dask cluster ${ref.cluster}: ${workers} of ${r.cpus} core${r.cpus === 1 ? '' : 's'} and ${r.memoryMiB} MiB each.`,
      backendRef: { ...ref, phase: 'driving', driver: started.backendRef ?? null, dashboardUrl },
    };
  }

  /** The driver's news; when it ended, the cluster is stopped and a lost cluster explains a failure. */
  private async afterDriver(job: JobRecord, ref: GatewayRef, seen: JobUpdate, clusters: Map<string, Cluster> | null): Promise<JobUpdate> {
    const driver = seen.backendRef ?? ref.driver;
    const final = seen.state === 'succeeded' || seen.state === 'failed' || seen.state === 'cancelled' || seen.state === 'lost';
    if (!final) return { ...seen, backendRef: { ...ref, driver } };
    const cluster = clusters?.get(ref.cluster);
    const clusterGone = clusters !== null && (!cluster || cluster.status === 'STOPPED' || cluster.status === 'FAILED');
    const stopped = await this.stopCluster(job.user, ref.cluster);
    const reason =
      seen.state === 'failed' && clusterGone
        ? `The Dask cluster ${ref.cluster} stopped while the job ran (the gateway restarted or the cluster failed). ${seen.stateReason ?? ''}`.trim()
        : seen.stateReason;
    return { ...seen, stateReason: reason ?? null, backendRef: { ...ref, driver, dashboardUrl: null, clusterStopped: stopped } };
  }

  /** Stop a cluster; when the gateway cannot be reached, remember it and retry on every poll. */
  private async stopCluster(user: string, name: string): Promise<boolean> {
    try {
      const stopped = await this.client.stop(user, name, 20_000);
      if (stopped) this.stopsPending.delete(name);
      else this.stopsPending.set(name, user);
      return stopped;
    } catch {
      this.stopsPending.set(name, user);
      return false;
    }
  }

  /** Clusters of ours whose job is not active (a crash, a failed stop): stopped, never left running. */
  private async stopOrphans(user: string, clusters: Map<string, Cluster>, active: Set<string>): Promise<void> {
    for (const cluster of clusters.values()) {
      if (cluster.status !== 'PENDING' && cluster.status !== 'RUNNING') {
        this.stopsPending.delete(cluster.name);
        continue;
      }
      const owner = cluster.options?.user_batch_job;
      if (typeof owner !== 'string' || owner === '' || active.has(owner)) continue;
      const age = cluster.start_time ? Date.now() - cluster.start_time : Infinity;
      if (age < ORPHAN_MIN_AGE_MS && !this.stopsPending.has(cluster.name)) continue;
      await this.stopCluster(user, cluster.name);
    }
  }
}
