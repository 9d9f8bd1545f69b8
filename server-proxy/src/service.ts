import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Backend, JobUpdate } from './backends/types';
import { type CatalogPlaces, planForApi } from './catalog-runs';
import { HttpError, notFound } from './errors';
import type { EventHub } from './events';
import { codeBlobs, type JobFiles, keepsSavedNotebook, newOutputDirRelative, outputNotebookName, specHash } from './jobdir';
import { PIPELINE_ADVICE, type PipelinePlanner, type StoredPlan } from './pipeline-runs';
import type { QuotaLedger } from './quota';
import { isFinal, type Job, type JobSpec, maxWorkers, unhandledKind } from '@user-batch/contract';
import type { Db } from './store/db';
import { type JobPatch, type JobRecord, type JobStore, toJob } from './store/jobs';

export interface Identity {
  name: string;
  groups: string[];
}

export interface JobServiceDeps {
  db: Db;
  store: JobStore;
  ledger: QuotaLedger;
  files: JobFiles;
  hub: EventHub;
  backends: Map<string, Backend>;
  log: FastifyBaseLogger;
  /** Where catalog runs may read catalogs from. */
  catalogPlaces: CatalogPlaces;
  /** Builds and keeps pipeline runs' quantum graphs. */
  pipelines: PipelinePlanner;
}

const newJobId = (): string => Date.now().toString(36) + randomBytes(4).toString('hex');

/** The submit flow, state changes and the poll loop: the only code that changes a job. */
export class JobService {
  /** Last groups seen per user, so quota pushes after a settlement show the right limits. */
  private readonly groupsSeen = new Map<string, string[]>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private pollAgain = false;

  constructor(private readonly deps: JobServiceDeps) {}

  async submit(user: Identity, spec: JobSpec, headerKey: string | undefined): Promise<{ job: Job; created: boolean }> {
    const { store, ledger, files, hub, backends } = this.deps;
    this.groupsSeen.set(user.name, user.groups);
    if (headerKey && spec.idempotencyKey && headerKey !== spec.idempotencyKey) {
      throw new HttpError(400, 'invalid_request', "The Idempotency-Key header and the spec's idempotencyKey differ; send one key.");
    }
    const key = headerKey ?? spec.idempotencyKey;
    const backend = backends.get(spec.backend);
    if (!backend) {
      throw new HttpError(
        400,
        'unknown_backend',
        `Unknown backend "${spec.backend}"; this proxy offers: ${[...backends.keys()].join(', ')}.`,
        { backends: [...backends.keys()] },
      );
    }
    const account = spec.account ?? user.name;
    const accounts = [user.name, ...user.groups];
    if (!accounts.includes(account)) {
      throw new HttpError(
        403,
        'account_not_allowed',
        `You cannot charge account "${account}"; choose your own name (${user.name})${user.groups.length ? ` or one of your groups (${user.groups.join(', ')})` : ''}.`,
        { accounts },
      );
    }
    const refusal = backend.refusesKind?.(spec.kind);
    if (refusal) throw new HttpError(400, 'invalid_request', refusal);
    const hash = specHash(spec);
    if (key) {
      // a retry of a stored submit answers its job before planning: a pipeline's plan is used by then
      const used = store.findIdempotency(user.name, key);
      const job = used && used.specSha256 === hash ? store.get(used.jobId) : null;
      if (job) return { job: toJob(job), created: false };
    }
    // a catalog or pipeline run is planned before anything is stored: a bad folder, region or
    // query is a 400, and the plan's estimate must fit the quota
    const workers = backend.usesDaskWorkers ? maxWorkers(spec.resources) : 1;
    const catalog = await this.planIfCatalog(spec, workers);
    const pipeline = await this.pipelinePlan(user, spec);
    const blobs = [
      ...codeBlobs(spec, keepsSavedNotebook(spec) ? files.savedNotebook(spec.source.notebookPath) : null),
      ...(pipeline?.stored.code ?? []),
    ];
    const id = newJobId();
    const submittedAt = new Date();
    const now = submittedAt.toISOString();
    const outputNotebook = outputNotebookName(spec, id);
    const outputDir = this.freeOutputDir(id, spec.name, submittedAt);
    const record: JobRecord = {
      id,
      user: user.name,
      name: spec.name,
      kind: spec.kind,
      backend: spec.backend,
      account,
      state: 'pending',
      stateReason: 'Waiting to start.',
      createdAt: now,
      startedAt: null,
      endedAt: null,
      exitCode: null,
      resources: spec.resources,
      progress: null,
      outputDir,
      outputNotebook: outputNotebook === null ? null : posix.join(outputDir, outputNotebook),
      error: null,
      cost: { reservedCoreHours: 0, usedCoreHours: null },
      notebookPath: spec.source.notebookPath,
      spec,
      specSha256: hash,
      code: blobs.map(b => b.entry),
      backendRef: null,
      cancelRequested: false,
    };
    const estimate = catalog
      ? {
          coreHours: catalog.plan.estimate.coreHours,
          of: `this catalog run (${catalog.plan.totals.partitions} partitions, ${catalog.plan.totals.rows} rows)`,
        }
      : pipeline
        ? {
            coreHours: pipeline.stored.estimate.coreHours,
            of: `this pipeline run (${pipeline.stored.plan.totalQuanta} quanta)`,
            advice: PIPELINE_ADVICE,
          }
        : undefined;
    // not stored after all (quota, key): a plan given by id may be submitted again, one made for this submit goes
    const giveBackPlan = (): void => {
      if (pipeline?.madeNow) this.deps.pipelines.discard(pipeline.stored.planId);
      else if (pipeline) this.deps.pipelines.release(pipeline.stored.planId);
    };
    let existing: JobRecord | null;
    try {
      existing = this.storeJob(record, { key, hash, user, account, sweepsInParallel: backend.sweepsInParallel, workers, now, estimate });
    } catch (err) {
      giveBackPlan();
      throw err;
    }
    if (existing) {
      giveBackPlan();
      return { job: toJob(existing), created: false };
    }

    hub.publishJob(toJob(record));
    hub.publishQuota(ledger.status(user.name, user.groups));
    try {
      const run = pipeline && this.deps.pipelines.forBackend(pipeline.stored, backend.pipelineEngine ?? 'pipetask', user.name, account);
      files.write(record, spec, blobs, catalog, run);
    } catch (err) {
      this.deps.log.error({ err, jobId: id }, 'could not write job directory');
      return { job: this.fail(id, "The proxy could not write the job's files; check free disk space and try again."), created: true };
    }
    return { job: await this.start(id, backend), created: true };
  }

  /**
   * The new job's output folder (relative to the Jupyter root); named by the whole id in the rare
   * case that a job of the same name, day and millisecond has the short one, or it exists on disk.
   * Nothing awaits between this and the insert, so no other submit of this proxy can take it between.
   */
  private freeOutputDir(id: string, name: string, submittedAt: Date): string {
    const { files, store } = this.deps;
    const short = newOutputDirRelative(id, name, submittedAt);
    const taken = store.hasOutputDir(short) || existsSync(files.outputDir({ outputDir: short }));
    return taken ? newOutputDirRelative(id, name, submittedAt, true) : short;
  }

  /** Insert the job and reserve its quota in one IMMEDIATE transaction; an earlier job with the same key and spec is answered instead. */
  private storeJob(
    record: JobRecord,
    how: {
      key: string | undefined;
      hash: string;
      user: Identity;
      account: string;
      sweepsInParallel: boolean;
      workers: number;
      now: string;
      estimate: { coreHours: number; of: string; advice?: string } | undefined;
    },
  ): JobRecord | null {
    const { db, store, ledger } = this.deps;
    const { key, hash, user, account, sweepsInParallel, workers, now, estimate } = how;
    const { id, spec } = record;
    return db
      .transaction((): JobRecord | null => {
        if (key) {
          const used = store.findIdempotency(user.name, key);
          if (used && used.specSha256 !== hash) {
            throw new HttpError(
              409,
              'idempotency_conflict',
              'This Idempotency-Key was already used for a different job spec; use a new key for a new job.',
              { jobId: used.jobId },
            );
          }
          if (used) return store.get(used.jobId);
        }
        // A refusal throws and rolls the insert back with it: nothing is written.
        store.insert(record);
        record.cost.reservedCoreHours = ledger.reserve(
          id,
          user.name,
          user.groups,
          account,
          {
            cpus: spec.resources.cpus,
            memoryMiB: spec.resources.memoryMiB,
            walltimeSeconds: spec.resources.walltimeSeconds,
            runs: spec.sweep?.length ?? 1,
            sweepsInParallel,
            workers,
          },
          now,
          estimate,
        );
        if (key) store.insertIdempotency(user.name, key, hash, id, now);
        return null;
      })
      .immediate();
  }

  async cancel(user: Identity, id: string): Promise<Job> {
    const job = this.deps.store.getOwned(id, user.name);
    if (!job) throw notFound();
    if (isFinal(job.state)) {
      throw new HttpError(409, 'job_finished', `This job already ended (${job.state}); there is nothing to cancel.`);
    }
    const backend = this.deps.backends.get(job.backend);
    if (!backend) throw new Error(`backend ${job.backend} of job ${id} is not configured`);
    this.apply({ jobId: id, stateReason: "Cancelling: stopping the job's processes." }, { cancelRequested: true });
    const update = await backend.cancel({ ...job, cancelRequested: true });
    this.apply(update);
    const after = this.deps.store.get(id);
    if (!after) throw notFound();
    return toJob(after);
  }

  /** Let a held job run again (backends that can hold jobs). */
  async release(user: Identity, id: string): Promise<Job> {
    const job = this.deps.store.getOwned(id, user.name);
    if (!job) throw notFound();
    const backend = this.deps.backends.get(job.backend);
    if (job.state !== 'held' || !backend?.release) {
      throw new HttpError(409, 'not_held', `This job is ${job.state}, not held; only a held job can be released.`);
    }
    this.apply(await backend.release(job));
    const after = this.deps.store.get(id);
    if (!after) throw notFound();
    return toJob(after);
  }

  /** Match every non-final job against its backend (after a restart). */
  async reconcile(): Promise<void> {
    for (const [name, backend] of this.deps.backends) {
      const jobs = this.deps.store.listActive().filter(j => j.backend === name);
      if (jobs.length === 0) continue;
      for (const update of await backend.reconcile(jobs)) {
        if (update.needsSubmit) {
          const job = this.deps.store.get(update.jobId);
          if (!job) continue;
          if (!this.deps.files.isWritten(job.id)) this.deps.files.write(job, job.spec);
          this.deps.log.info({ jobId: job.id }, 'starting a job stored before a restart');
          await this.start(job.id, backend);
        } else {
          this.apply(update);
        }
      }
    }
  }

  async pollOnce(): Promise<void> {
    for (const [name, backend] of this.deps.backends) {
      const jobs = this.deps.store.listActive().filter(j => j.backend === name && j.backendRef !== null);
      if (jobs.length === 0) continue;
      for (const update of await backend.poll(jobs)) this.apply(update);
    }
  }

  startPolling(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (!this.polling) this.runPoll();
    }, intervalMs);
    for (const backend of this.deps.backends.values()) backend.onJobExit?.(() => this.pollSoon());
  }

  /** Poll now (a job's process ended), or once more right after the poll under way. */
  pollSoon(): void {
    if (!this.timer) return;
    if (this.polling) this.pollAgain = true;
    else this.runPoll();
  }

  private runPoll(): void {
    this.polling = this.pollOnce()
      .catch((err: unknown) => this.deps.log.error({ err }, 'poll failed'))
      .finally(() => {
        this.polling = null;
        if (this.pollAgain && this.timer) {
          this.pollAgain = false;
          this.runPoll();
        }
      });
  }

  async stopPolling(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
  }

  /** Record what a backend reported: one transaction, one event per state change, settle when final. */
  apply(update: JobUpdate, extra: JobPatch = {}): Job | null {
    const { db, store, ledger, hub } = this.deps;
    const { jobId, needsSubmit: _n, usedCoreHours, ...fields } = update;
    const patch: JobPatch = { ...fields, ...extra };
    // Read and write in one IMMEDIATE transaction, so two watchers of one store cannot both end a job.
    const outcome = db
      .transaction((): { settled: boolean } | null => {
        const current = store.get(jobId);
        if (!current || isFinal(current.state)) return null;
        const stateChanged = patch.state !== undefined && patch.state !== current.state;
        const reasonChanged = patch.stateReason !== undefined && patch.stateReason !== current.stateReason;
        const progressChanged = patch.progress !== undefined && JSON.stringify(patch.progress) !== JSON.stringify(current.progress);
        if (!stateChanged && !reasonChanged && !progressChanged && Object.keys(extra).length === 0 && patch.backendRef === undefined) {
          return null;
        }
        store.update(jobId, patch);
        if (stateChanged || reasonChanged) {
          // a reason of null is news too: a job that succeeded must not keep "Running as ..."
          store.addEvent(jobId, patch.state ?? current.state, patch.stateReason !== undefined ? patch.stateReason : current.stateReason);
        }
        let settled = false;
        if (patch.state && isFinal(patch.state)) {
          const endedAt = patch.endedAt ?? new Date().toISOString();
          if (!patch.endedAt) store.update(jobId, { endedAt });
          settled = ledger.settle(jobId, patch.startedAt ?? current.startedAt, endedAt, usedCoreHours);
        }
        return { settled };
      })
      .immediate();
    if (!outcome) return null;
    const after = store.get(jobId);
    if (!after) return null;
    const job = toJob(after);
    hub.publishJob(job);
    if (outcome.settled) hub.publishQuota(ledger.status(job.user, this.groupsSeen.get(job.user) ?? []));
    return job;
  }

  /** A catalog run's plan (a bad folder or region throws a 400 here); other kinds have none. */
  private async planIfCatalog(spec: JobSpec, workers: number): Promise<Awaited<ReturnType<typeof planForApi>> | undefined> {
    switch (spec.kind) {
      case 'catalog':
        return planForApi({ ...spec.source.catalog, cpus: spec.resources.cpus * workers }, this.deps.catalogPlaces);
      case 'cells':
      case 'notebook':
      case 'script':
        return undefined;
      case 'pipeline':
        return undefined;
      default:
        return unhandledKind(spec);
    }
  }

  /**
   * A pipeline run's plan, claimed for this submit: the one its planId names (the user's, unused,
   * same definition), or one built now. The graph that was estimated is the one that runs.
   */
  private async pipelinePlan(user: Identity, spec: JobSpec): Promise<{ stored: StoredPlan; madeNow: boolean } | undefined> {
    if (spec.kind !== 'pipeline') return undefined;
    const { pipelines } = this.deps;
    const definition = spec.source.pipeline;
    if (definition.planId !== undefined) {
      return { stored: pipelines.claim(user.name, spec.name, { ...definition, planId: definition.planId }), madeNow: false };
    }
    const made = await pipelines.plan(user.name, spec.name, definition, spec.resources);
    return { stored: pipelines.claim(user.name, spec.name, { ...definition, planId: made.planId }), madeNow: true };
  }

  private async start(id: string, backend: Backend): Promise<Job> {
    const job = this.deps.store.get(id);
    if (!job) throw notFound();
    try {
      const update = await backend.submit(job);
      return this.apply(update) ?? toJob(this.deps.store.get(id) ?? job);
    } catch (err) {
      this.deps.log.error({ err, jobId: id }, 'backend refused the job');
      return this.fail(id, err instanceof Error ? err.message : 'The backend refused the job.');
    }
  }

  private fail(id: string, reason: string): Job {
    const job = this.apply({ jobId: id, state: 'failed', stateReason: reason });
    const stored = this.deps.store.get(id);
    if (!stored) throw notFound();
    return job ?? toJob(stored);
  }
}
