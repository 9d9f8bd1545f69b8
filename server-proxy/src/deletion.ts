import { rm, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { type DeleteJobResult, type DeleteJobsResult, type ErrorCode, isFinal, type OutputFile } from '@user-batch/contract';
import type { Backend } from './backends/types';
import { HttpError, notFound } from './errors';
import type { EventHub } from './events';
import { type JobFiles, OUTPUTS_FOLDER } from './jobdir';
import { buildProvenance } from './provenance';
import type { Db } from './store/db';
import type { JobRecord, JobStore, PendingDeletion } from './store/jobs';

export interface JobDeleterDeps {
  db: Db;
  store: JobStore;
  files: JobFiles;
  hub: EventHub;
  backends: Map<string, Backend>;
  log: FastifyBaseLogger;
  proxyVersion: string;
}

/**
 * Deletes a user's finished jobs. Crash-safe in this order: the job is marked deleted in one
 * transaction (it leaves every listing at once; its provenance snapshot is stored with the mark
 * when it is kept), then its output folder and job folder are removed, then the row goes (or stays
 * for the kept provenance). A restart runs `finishPending`, which removes what a crash left.
 * The quota ledger is not touched: a deleted job's core-hours still count for their window.
 */
export class JobDeleter {
  constructor(private readonly deps: JobDeleterDeps) {}

  async delete(user: string, id: string, keepProvenance: boolean): Promise<DeleteJobResult> {
    const { db, store, hub } = this.deps;
    const job = this.deletable(user, id);
    // Read before marking: the provenance names the job folder's files, which are about to go.
    const provenance = keepProvenance ? JSON.stringify(await this.provenanceOf(job)) : null;
    db.transaction(() => {
      this.deletable(user, id); // still there, still final: another request may have raced this one
      store.markDeleted(id, new Date().toISOString(), provenance);
    }).immediate();
    hub.publishJobDeleted(user, id);
    const removed = await this.removeFiles({ id, user, outputDir: job.outputDir });
    return { deleted: id, removed };
  }

  /** Each id on its own: a refused one (missing, another user's, still active) does not stop the rest. */
  async deleteMany(user: string, ids: readonly string[], keepProvenance: boolean): Promise<DeleteJobsResult> {
    const result: DeleteJobsResult = { deleted: [], refused: [] };
    for (const id of new Set(ids)) {
      try {
        await this.delete(user, id, keepProvenance);
        result.deleted.push(id);
      } catch (err) {
        if (!(err instanceof HttpError) || err.statusCode >= 500) throw err;
        result.refused.push({ id, error: err.message, code: err.code });
      }
    }
    return result;
  }

  /** Remove the files of jobs marked deleted whose removal did not finish (the proxy stopped in between). */
  async finishPending(): Promise<void> {
    for (const pending of this.deps.store.pendingDeletions()) {
      const removed = await this.removeFiles(pending);
      this.deps.log.info({ job: pending.id, removed }, 'finished removing a deleted job');
    }
  }

  private deletable(user: string, id: string): JobRecord {
    const job = this.deps.store.getOwned(id, user);
    if (!job) throw notFound();
    if (!isFinal(job.state)) {
      const code: ErrorCode = 'job_active';
      throw new HttpError(409, code, `This job is still ${job.state}; cancel it first, then delete it once it has ended.`, {
        state: job.state,
      });
    }
    return job;
  }

  private async provenanceOf(job: JobRecord): Promise<unknown> {
    const backend = this.deps.backends.get(job.backend);
    let outputs: OutputFile[] = [];
    if (backend) outputs = await backend.outputs(job);
    return buildProvenance(job, this.deps.store, this.deps.files, outputs, this.deps.proxyVersion);
  }

  /**
   * Remove the job's output folder (only if it lies in the Jupyter root's batch-jobs folder) and its
   * job folder; once both are gone the deletion is finished in the store. A failure is logged and
   * left for the next start. Answers the folders removed, relative to the Jupyter root.
   */
  private async removeFiles(job: PendingDeletion): Promise<string[]> {
    const { files, store, log } = this.deps;
    const removed: string[] = [];
    try {
      const outputsRoot = resolve(files.rootDir, OUTPUTS_FOLDER);
      const outputDir = resolve(files.rootDir, job.outputDir);
      const inside = relative(outputsRoot, outputDir);
      if (inside && !inside.startsWith('..') && !isAbsolute(inside)) {
        if (await exists(outputDir)) {
          await rm(outputDir, { recursive: true, force: true });
          removed.push(relative(files.rootDir, outputDir).split(sep).join('/'));
        }
      } else {
        log.warn({ job: job.id, outputDir: job.outputDir }, 'not removing an output folder outside batch-jobs');
      }
      await rm(files.jobDir(job.id), { recursive: true, force: true });
      store.finishDeletion(job.id);
    } catch (err) {
      log.error({ err, job: job.id }, 'could not remove the files of a deleted job; trying again at the next start');
    }
    return removed;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
