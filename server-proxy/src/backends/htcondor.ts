import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Config, HTCondorSiteConfig } from '../config';
import { z } from 'zod';
import type { JobRecord } from '../store/jobs';
import {
  CANCELLED_REASON,
  Exit,
  finalFromJobDir,
  type JobFiles,
  parseFile,
  readLogChunk,
  walltimeReason,
  writeFileAtomic,
} from '../jobdir';
import { listOutputs } from '../outputs';
import { ErrorFile, JOB_FILES, type JobError, type OutputFile, Progress } from '@user-batch/contract';
import { buildSubmitLines, renderSubmit } from './condor-submit';
import type { Backend, JobUpdate, LogChunk } from './types';

export interface HTCondorBackendOptions {
  name: string;
  files: JobFiles;
  /** argv before the condor tool's name, e.g. ["ssh", "submit.example.org"] or ["/opt/bin/condor-cmd"]; [] runs the tools directly. */
  commandPrefix: string[];
  /** Interpreter on the execute nodes (the venv with user_batch), at the same path as here. */
  python: string;
  /** `-name` of the schedd and `-pool` of the collector, when not the local defaults. */
  schedd?: string;
  pool?: string;
  /** Job dirs and outputs are chowned to this uid/gid before submit (the proxy runs as root, jobs as a user). */
  jobOwner?: { uid: number; gid: number };
  walltimeGraceMs: number;
  /** How long cancel waits for the job to leave the queue. */
  cancelWaitMs: number;
  diskKiB: number;
  environment: Record<string, string>;
  /** Called with the tool name for every condor command run (metrics, tests). */
  onCommand?: (tool: string) => void;
}

/** What the store keeps about an HTCondor job (JobRecord.backendRef); also shown in provenance. */
const CondorRef = z.object({
  clusterId: z.number().int(),
  procId: z.number().int().default(0),
  schedd: z.string().nullable().default(null),
  exitCode: z.number().nullable().optional(),
  wallClockSeconds: z.number().nullable().optional(),
  memoryUsageMiB: z.number().nullable().optional(),
  holdReasonCode: z.number().nullable().optional(),
});
type CondorRef = z.infer<typeof CondorRef>;

/** The job ad attributes we read; undefined attributes come back as null or are missing. */
/** A number, or null when the attribute is undefined or an unevaluated expression (condor_q -json prints those as strings). */
const num = z
  .unknown()
  .optional()
  .transform((v): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null));
const str = z
  .unknown()
  .optional()
  .transform((v): string | null => (typeof v === 'string' ? v : null));
const Ad = z.looseObject({
  ClusterId: z.number(),
  ProcId: z.number().default(0),
  JobStatus: z.number(),
  UserBatchJobId: str,
  UserBatchItem: num,
  HoldReason: str,
  HoldReasonCode: num,
  HoldReasonSubCode: num,
  RemoveReason: str,
  ExitCode: num,
  ExitBySignal: z
    .unknown()
    .optional()
    .transform(v => v === true),
  ExitSignal: num,
  RemoteWallClockTime: num,
  MemoryUsage: num,
  ResidentSetSize_RAW: num,
  JobCurrentStartDate: num,
  JobStartDate: num,
  CompletionDate: num,
  EnteredCurrentStatus: num,
});
type Ad = z.infer<typeof Ad>;

const ATTRIBUTES = [
  'ClusterId',
  'ProcId',
  'JobStatus',
  'UserBatchJobId',
  'UserBatchItem',
  'HoldReason',
  'HoldReasonCode',
  'HoldReasonSubCode',
  'RemoveReason',
  'ExitCode',
  'ExitBySignal',
  'ExitSignal',
  'RemoteWallClockTime',
  'MemoryUsage',
  'ResidentSetSize_RAW',
  'JobCurrentStartDate',
  'JobStartDate',
  'CompletionDate',
  'EnteredCurrentStatus',
].join(',');

/** HoldReasonCode in plain words (HTCondor's codes; the raw HoldReason follows). */
const HOLD_WORDS: Record<number, string> = {
  1: 'someone put it on hold (condor_hold)',
  3: 'a hold policy of the job matched',
  6: "HTCondor could not start the job's program",
  7: "HTCondor could not open the job's output or error file",
  12: "HTCondor could not transfer the job's output files",
  13: "HTCondor could not transfer the job's input files",
  14: "the job's working folder could not be opened on the execute machine",
  15: 'it is waiting for files to be staged in',
  16: 'it is waiting for files to be staged in',
  21: 'a hold policy of the pool matched',
  26: 'a hold policy of the pool matched',
  34: 'it needs more memory than it asked for, or than any machine has',
  35: 'its resource request is invalid',
  46: 'it ran longer than the pool allows',
  47: 'it ran longer than its walltime',
};

export function holdSentence(code: number | null | undefined, reason: string | null | undefined): string {
  const words = code !== null && code !== undefined ? HOLD_WORDS[code] : undefined;
  const head = `Held by HTCondor: ${words ?? 'HTCondor stopped it'}${code !== null && code !== undefined ? ` (code ${code})` : ''}.`;
  const detail = reason ? ` HTCondor says: "${reason}".` : '';
  return `${head}${detail} Release it once the cause is fixed, or cancel it.`;
}

/** How many history ads a poll reads at most (reconcile reads all). */
const POLL_HISTORY_SCAN = 20_000;

const isoFromEpoch = (s: number | null | undefined): string | null => (s && s > 0 ? new Date(s * 1000).toISOString() : null);

/** Jobs in an HTCondor pool, submitted through the condor tools (optionally behind a command prefix). */
export class HTCondorBackend implements Backend {
  readonly name: string;
  readonly sweepsInParallel = true;
  /** A pipeline's quanta run as the pool's jobs through BPS; its runner (local universe) submits and watches them. */
  readonly pipelineEngine = 'bps';

  constructor(private readonly opts: HTCondorBackendOptions) {
    this.name = opts.name;
  }

  /** Run one condor tool: argv through execFile, never a shell. */
  async condor(tool: string, args: string[]): Promise<string> {
    const { commandPrefix } = this.opts;
    const argv = [...commandPrefix, tool, ...args];
    this.opts.onCommand?.(tool);
    return new Promise((resolve, reject) => {
      execFile(argv[0], argv.slice(1), { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
        if (err) {
          const said = `${stderr}`.trim().split('\n').filter(Boolean).slice(-3).join(' ');
          reject(new Error(`HTCondor's ${tool} failed${said ? `: ${said}` : ` (${err.message})`}`));
        } else resolve(stdout);
      });
    });
  }

  private scheddArgs(): string[] {
    return [...(this.opts.schedd ? ['-name', this.opts.schedd] : []), ...(this.opts.pool ? ['-pool', this.opts.pool] : [])];
  }

  /**
   * A fresh job id cannot have a cluster yet, so this does not look first: a job stored before a
   * crash reaches submit only through reconcile(), which looked it up by UserBatchJobId.
   */
  async submit(job: JobRecord): Promise<JobUpdate> {
    const { files } = this.opts;
    const jobDir = files.jobDir(job.id);
    const outputDir = files.outputDir(job);
    const sweep = job.spec.sweep?.length ?? 0;
    let itemsFile: string | undefined;
    if (sweep > 0) {
      // `queue Item from items.txt`: the item numbers, nothing from the user
      itemsFile = join(jobDir, 'items.txt');
      writeFileAtomic(itemsFile, Array.from({ length: sweep }, (_, n) => `${n}\n`).join(''));
      mkdirSync(join(jobDir, JOB_FILES.items), { recursive: true });
    }
    const description = renderSubmit(
      buildSubmitLines({
        jobId: job.id,
        user: job.user,
        account: job.account,
        name: job.name,
        python: this.opts.python,
        jobDir,
        outputDir,
        cpus: job.resources.cpus,
        memoryMiB: job.resources.memoryMiB,
        diskKiB: this.opts.diskKiB,
        walltimeSeconds: job.resources.walltimeSeconds,
        walltimeGraceSeconds: Math.ceil(this.opts.walltimeGraceMs / 1000),
        environment: {
          ...this.opts.environment,
          BATCH_JOB_ID: job.id,
          BATCH_OUTPUT_DIR: outputDir,
          BATCH_NOTEBOOK_DIR: join(files.rootDir, job.notebookPath, '..'),
        },
        sweep: sweep > 0,
        localUniverse: job.spec.kind === 'pipeline',
      }),
      itemsFile,
    );
    const subFile = join(jobDir, 'job.sub');
    writeFileAtomic(subFile, description);
    if (this.opts.jobOwner) this.chownTree([jobDir, outputDir]);
    const out = await this.condor('condor_submit', [...this.scheddArgs(), '-terse', subFile]);
    const m = /^(\d+)\.(\d+)/m.exec(out.trim());
    if (!m) throw new Error(`HTCondor's condor_submit did not say which cluster it made (it printed "${out.trim().slice(0, 200)}").`);
    const ref: CondorRef = { clusterId: Number(m[1]), procId: Number(m[2]), schedd: this.opts.schedd ?? null };
    if (sweep > 0) {
      return {
        jobId: job.id,
        state: 'queued',
        stateReason: `Waiting in the HTCondor queue (cluster ${ref.clusterId}, ${sweep} items).`,
        backendRef: ref,
        progress: { total: sweep, done: 0, failed: 0, items: 'q'.repeat(sweep) },
      };
    }
    return {
      jobId: job.id,
      state: 'queued',
      stateReason: `Waiting in the HTCondor queue (job ${ref.clusterId}.${ref.procId}).`,
      backendRef: ref,
    };
  }

  /** One condor_q for every job we have in the queue, plus one condor_history for those that left it. */
  async poll(jobs: readonly JobRecord[]): Promise<JobUpdate[]> {
    if (jobs.length === 0) return [];
    const ads = await this.findByJobIds(
      jobs.map(j => j.id),
      POLL_HISTORY_SCAN,
    );
    const updates: JobUpdate[] = [];
    for (const job of jobs) {
      const found = ads.get(job.id);
      let update: JobUpdate | null = null;
      if (job.spec.sweep) {
        // a sweep that left the queue completely ends from its items' files
        if (found || this.refOf(job)) update = this.sweepUpdate(job, found ?? []);
      } else if (found) update = this.fromAd(job, found[0]);
      else if (this.refOf(job)) update = this.vanished(job);
      if (update) updates.push(update);
    }
    return updates;
  }

  async reconcile(jobs: readonly JobRecord[]): Promise<JobUpdate[]> {
    const ads = await this.findByJobIds(jobs.map(j => j.id));
    const updates: JobUpdate[] = [];
    for (const job of jobs) {
      const found = ads.get(job.id);
      if (found && job.spec.sweep) {
        const ref = this.toRef(found[0]);
        const seen = this.sweepUpdate({ ...job, backendRef: ref }, found);
        updates.push({
          jobId: job.id,
          state: 'queued',
          backendRef: ref,
          stateReason: `Waiting in the HTCondor queue (cluster ${found[0].ClusterId}; found again after the proxy restarted).`,
          ...(seen ?? {}),
        });
        continue;
      }
      if (found) {
        updates.push(this.adopt(job, found[0]));
        continue;
      }
      if (job.state === 'pending' && !this.refOf(job)) {
        updates.push({ jobId: job.id, needsSubmit: true });
        continue;
      }
      if (job.spec.sweep) {
        updates.push(this.sweepUpdate(job, []) ?? { jobId: job.id });
        continue;
      }
      const exit = parseFile(Exit, join(this.opts.files.jobDir(job.id), JOB_FILES.exit));
      updates.push(
        exit
          ? finalFromJobDir(this.opts.files.jobDir(job.id), job, this.progressOf(job), { exit })
          : finalFromJobDir(this.opts.files.jobDir(job.id), job, null, {
              state: 'lost',
              reason: 'HTCondor has no record of this job any more (neither in the queue nor in its history).',
            }),
      );
    }
    return updates;
  }

  async cancel(job: JobRecord): Promise<JobUpdate> {
    const ref = this.refOf(job) ?? this.toRef((await this.findByJobIds([job.id])).get(job.id)?.[0]);
    if (ref) {
      try {
        // the whole cluster: every proc of a sweep
        await this.condor('condor_rm', [...this.scheddArgs(), String(ref.clusterId)]);
      } catch (err) {
        // already gone is fine; anything else (schedd unreachable, refused) reaches the user as the error
        if (!/not found|Couldn't find/i.test(String(err))) throw err;
      }
      const deadline = Date.now() + this.opts.cancelWaitMs;
      while (Date.now() < deadline) {
        const q = await this.queryQueue(`ClusterId == ${ref.clusterId}`);
        if (q.length === 0) break;
        await new Promise(r => setTimeout(r, 300));
      }
    }
    if (job.spec.sweep) {
      const seen = this.sweepUpdate(job, []);
      return { ...(seen ?? {}), jobId: job.id, state: 'cancelled', stateReason: CANCELLED_REASON, endedAt: new Date().toISOString() };
    }
    const exit = parseFile(Exit, join(this.opts.files.jobDir(job.id), JOB_FILES.exit));
    return {
      jobId: job.id,
      state: 'cancelled',
      stateReason: CANCELLED_REASON,
      endedAt: new Date().toISOString(),
      exitCode: exit?.exitCode ?? null,
    };
  }

  /** Let a held job run again. */
  async release(job: JobRecord): Promise<JobUpdate> {
    const ref = this.refOf(job);
    if (!ref) throw new Error('This job has no HTCondor job to release.');
    // the whole cluster: every held proc of a sweep
    await this.condor('condor_release', [...this.scheddArgs(), String(ref.clusterId)]);
    return {
      jobId: job.id,
      state: 'queued',
      stateReason: `Released; waiting in the HTCondor queue (job ${ref.clusterId}${job.spec.sweep ? '' : `.${ref.procId}`}).`,
    };
  }

  async logs(job: JobRecord, from: number, maxBytes: number, item?: number): Promise<LogChunk> {
    const dir = this.opts.files.jobDir(job.id);
    if (!job.spec.sweep) return readLogChunk(join(dir, JOB_FILES.outputLog), from, maxBytes);
    // each proc has its own log; by default the one a user most likely wants to read
    const letters = job.progress?.items ?? '';
    const shown = item ?? [letters.indexOf('f'), letters.indexOf('r'), 0].find(n => n >= 0) ?? 0;
    return readLogChunk(join(dir, JOB_FILES.items, `${shown}.log`), from, maxBytes);
  }

  /** HTCondor's user log of the job (one for the whole cluster of a sweep), as it grows. */
  async userLog(job: JobRecord, from: number, maxBytes: number): Promise<LogChunk> {
    return readLogChunk(join(this.opts.files.jobDir(job.id), 'condor.log'), from, maxBytes);
  }

  async outputs(job: JobRecord): Promise<OutputFile[]> {
    return listOutputs(this.opts.files.outputDir(job), job.outputDir, job.spec.outputs);
  }

  /**
   * Our jobs' ads by job id: one condor_q, and one condor_history only for ids not in the queue
   * (newest first; `scanLimit` bounds how far back it reads, for polls: jobs that just left the queue are at the end).
   */
  private async findByJobIds(ids: readonly string[], scanLimit?: number): Promise<Map<string, Ad[]>> {
    const found = new Map<string, Ad[]>();
    if (ids.length === 0) return found;
    const wanted = new Set(ids);
    for (const ad of await this.queryQueue('UserBatchJobId =!= undefined')) {
      if (!ad.UserBatchJobId || !wanted.has(ad.UserBatchJobId)) continue;
      const list = found.get(ad.UserBatchJobId);
      if (list) list.push(ad);
      else found.set(ad.UserBatchJobId, [ad]);
    }
    const missing = ids.filter(id => !found.has(id));
    if (missing.length > 0) {
      const list = missing.map(id => `"${id}"`).join(',');
      const out = await this.condor('condor_history', [
        ...this.scheddArgs(),
        '-json',
        '-constraint',
        `member(UserBatchJobId, {${list}})`,
        '-limit',
        String(missing.length * 4),
        ...(scanLimit ? ['-scanlimit', String(scanLimit)] : []),
        '-attributes',
        ATTRIBUTES,
      ]);
      // newest first: keep the first ad seen per id
      for (const ad of parseAds(out)) if (ad.UserBatchJobId && !found.has(ad.UserBatchJobId)) found.set(ad.UserBatchJobId, [ad]);
    }
    return found;
  }

  private async queryQueue(constraint: string): Promise<Ad[]> {
    const out = await this.condor('condor_q', [
      ...this.scheddArgs(),
      '-allusers',
      '-json',
      '-constraint',
      constraint,
      '-attributes',
      ATTRIBUTES,
    ]);
    return parseAds(out);
  }

  private toRef(ad: Ad | undefined): CondorRef | null {
    return ad ? { clusterId: ad.ClusterId, procId: ad.ProcId, schedd: this.opts.schedd ?? null } : null;
  }

  private refOf(job: JobRecord): CondorRef | null {
    const parsed = CondorRef.safeParse(job.backendRef);
    return parsed.success ? parsed.data : null;
  }

  private progressOf(job: JobRecord): Progress | null {
    return parseFile(Progress, join(this.opts.files.jobDir(job.id), JOB_FILES.progress));
  }

  private adopt(job: JobRecord, ad: Ad): JobUpdate {
    const ref = this.toRef(ad);
    const seen = this.fromAd({ ...job, state: job.state === 'pending' ? 'queued' : job.state }, ad);
    return {
      jobId: job.id,
      state: 'queued',
      stateReason: `Waiting in the HTCondor queue (job ${ad.ClusterId}.${ad.ProcId}; found again after the proxy restarted).`,
      backendRef: ref,
      ...(seen ?? {}),
    };
  }

  /** What one job ad says, as an update; null when nothing changed. */
  private fromAd(job: JobRecord, ad: Ad): JobUpdate | null {
    const dir = this.opts.files.jobDir(job.id);
    const progress = this.progressOf(job);
    const progressChanged = progress !== null && JSON.stringify(progress) !== JSON.stringify(job.progress);
    const ref: CondorRef = {
      clusterId: ad.ClusterId,
      procId: ad.ProcId,
      schedd: this.opts.schedd ?? null,
      exitCode: ad.ExitCode ?? null,
      wallClockSeconds: ad.RemoteWallClockTime ?? null,
      memoryUsageMiB: ad.MemoryUsage ?? (ad.ResidentSetSize_RAW !== null ? Math.ceil(ad.ResidentSetSize_RAW / 1024) : null),
      holdReasonCode: ad.HoldReasonCode ?? null,
    };
    const startedAt = job.startedAt ?? isoFromEpoch(ad.JobCurrentStartDate ?? ad.JobStartDate);
    switch (ad.JobStatus) {
      case 1: {
        const reason = `Waiting in the HTCondor queue (job ${ad.ClusterId}.${ad.ProcId}).`;
        if (job.state === 'queued' && job.stateReason === reason) return null;
        return { jobId: job.id, state: 'queued', stateReason: reason, backendRef: ref };
      }
      case 2:
      case 7: {
        const reason =
          ad.JobStatus === 7
            ? `Suspended by HTCondor (job ${ad.ClusterId}.${ad.ProcId}).`
            : `Running in HTCondor (job ${ad.ClusterId}.${ad.ProcId}).`;
        if (job.state === 'running' && job.stateReason === reason) return progressChanged ? { jobId: job.id, progress } : null;
        return {
          jobId: job.id,
          state: 'running',
          stateReason: reason,
          startedAt: startedAt ?? new Date().toISOString(),
          backendRef: ref,
          ...(progress ? { progress } : {}),
        };
      }
      case 5: {
        const reason = holdSentence(ad.HoldReasonCode, ad.HoldReason);
        if (job.state === 'held' && job.stateReason === reason) return null;
        return { jobId: job.id, state: 'held', stateReason: reason, backendRef: ref };
      }
      case 3: {
        const endedAt = isoFromEpoch(ad.EnteredCurrentStatus) ?? new Date().toISOString();
        if (job.cancelRequested) {
          return { jobId: job.id, state: 'cancelled', stateReason: CANCELLED_REASON, startedAt, endedAt, backendRef: ref };
        }
        const overWalltime = (ad.RemoteWallClockTime ?? 0) >= job.resources.walltimeSeconds;
        const update = finalFromJobDir(dir, job, progress, {
          state: 'failed',
          reason: overWalltime
            ? walltimeReason(job.resources.walltimeSeconds)
            : `Removed from HTCondor${ad.RemoveReason ? `: ${ad.RemoveReason}` : ''}.`,
        });
        return { ...update, startedAt, endedAt, backendRef: ref };
      }
      case 4: {
        const exit = parseFile(Exit, join(dir, JOB_FILES.exit));
        const endedAt = isoFromEpoch(ad.CompletionDate) ?? new Date().toISOString();
        if (exit) return { ...finalFromJobDir(dir, job, progress, { exit }), startedAt, backendRef: ref };
        const how = ad.ExitBySignal
          ? `The job was killed by signal ${ad.ExitSignal ?? '?'} on the execute machine.`
          : `The job's program exited with code ${ad.ExitCode ?? '?'} without reporting how it ended; see the log.`;
        return {
          ...finalFromJobDir(dir, job, progress, { state: 'failed', reason: how }),
          exitCode: ad.ExitCode ?? null,
          startedAt,
          endedAt,
          backendRef: ref,
        };
      }
      default:
        return null;
    }
  }

  /**
   * A submitted job that neither condor_q nor the recent history knows (removed by hand and
   * purged, a schedd that lost its queue): how it ended if the runner said so, else lost — never
   * left showing a state HTCondor no longer has.
   */
  private vanished(job: JobRecord): JobUpdate {
    const dir = this.opts.files.jobDir(job.id);
    const exit = parseFile(Exit, join(dir, JOB_FILES.exit));
    if (exit) return finalFromJobDir(dir, job, this.progressOf(job), { exit });
    return finalFromJobDir(dir, job, this.progressOf(job), {
      state: 'lost',
      reason:
        'HTCondor no longer knows this job (neither in its queue nor in its recent history) and the job never reported how it ended. Run it again.',
    });
  }

  /**
   * A sweep's state from its procs in the queue and, for items no longer there, the exit.json each
   * item's runner wrote (read once: a final letter is kept in the job's progress). An item that
   * left the queue without one was removed or killed. Null when nothing changed.
   */
  private sweepUpdate(job: JobRecord, ads: readonly Ad[]): JobUpdate | null {
    const count = job.spec.sweep?.length ?? 0;
    const dir = this.opts.files.jobDir(job.id);
    const before = job.progress?.items?.length === count ? job.progress.items : 'q'.repeat(count);
    const letters = before.split('');
    const byItem = new Map<number, Ad>();
    for (const ad of ads) if (ad.JobStatus !== 4 && ad.JobStatus !== 3) byItem.set(ad.UserBatchItem ?? ad.ProcId, ad);
    const cancelled = job.cancelRequested;
    for (let n = 0; n < count; n++) {
      if ('dfc'.includes(letters[n])) continue;
      const ad = byItem.get(n);
      if (ad) {
        letters[n] = ad.JobStatus === 2 || ad.JobStatus === 7 ? 'r' : ad.JobStatus === 5 ? 'h' : 'q';
        continue;
      }
      const exit = parseFile(Exit, join(dir, JOB_FILES.items, String(n), JOB_FILES.exit));
      if (exit) letters[n] = exit.exitCode === 0 ? 'd' : exit.reason === 'cancelled' || cancelled ? 'c' : 'f';
      else letters[n] = cancelled ? 'c' : 'f';
    }
    const items = letters.join('');
    const failed = [...items].flatMap((c, n) => (c === 'f' ? [n] : []));
    const progress: Progress = { total: count, done: [...items].filter(c => c === 'd').length, failed: failed.length, items };
    const clusterId = ads[0]?.ClusterId ?? this.refOf(job)?.clusterId;
    const remaining = [...items].filter(c => !'dfc'.includes(c)).length;
    let patch: JobUpdate;
    if (remaining > 0) {
      const running = [...items].filter(c => c === 'r').length;
      const held = ads.filter(a => a.JobStatus === 5);
      const counts = `${progress.done} done, ${running} running, ${remaining - running - held.length} waiting${held.length ? `, ${held.length} held` : ''}${failed.length ? `, ${failed.length} failed` : ''} of ${count}`;
      if (running > 0) {
        patch = {
          jobId: job.id,
          state: 'running',
          stateReason: `Running in HTCondor (cluster ${clusterId}): ${counts}.`,
          startedAt: job.startedAt ?? new Date().toISOString(),
        };
      } else if (held.length > 0) {
        patch = {
          jobId: job.id,
          state: 'held',
          stateReason: `${held.length} of ${count} items held. ${holdSentence(held[0].HoldReasonCode, held[0].HoldReason)}`,
        };
      } else {
        patch = {
          jobId: job.id,
          state: job.startedAt ? 'running' : 'queued',
          stateReason: `Waiting in the HTCondor queue (cluster ${clusterId}): ${counts}.`,
        };
      }
    } else {
      const ended = { jobId: job.id, endedAt: new Date().toISOString(), startedAt: job.startedAt ?? new Date().toISOString() };
      if (cancelled) patch = { ...ended, state: 'cancelled', stateReason: CANCELLED_REASON, exitCode: null };
      else if (failed.length === 0) patch = { ...ended, state: 'succeeded', stateReason: null, exitCode: 0 };
      else {
        const first = failed[0];
        const error = parseFile(ErrorFile, join(dir, JOB_FILES.items, String(first), JOB_FILES.error));
        const shown = failed.slice(0, 10).join(', ') + (failed.length > 10 ? ', …' : '');
        const jobError: JobError | null = error
          ? {
              ename: error.ename,
              evalue: `(sweep item ${first}) ${error.evalue}`,
              traceback: Array.isArray(error.traceback) ? error.traceback.join('\n') : error.traceback,
              cellId: error.cellId ?? null,
            }
          : null;
        patch = {
          ...ended,
          state: 'failed',
          exitCode: 1,
          error: jobError,
          stateReason: `${failed.length} of ${count} sweep items failed (item ${shown})${error ? `; item ${first}: ${error.ename}: ${error.evalue}` : '; see their logs'}.`,
        };
      }
    }
    if (patch.state === job.state && patch.stateReason === job.stateReason && items === job.progress?.items) return null;
    // a sweep's items run apart and at once: the quota settles to their summed run times
    if (remaining === 0) patch.usedCoreHours = this.itemCoreHours(job, count);
    return { ...patch, progress };
  }

  /** cpus × the summed run time of every item that started (launch.json) and reported its end (exit.json). */
  private itemCoreHours(job: JobRecord, count: number): number {
    const Started = z.object({ startedAt: z.string() });
    let ms = 0;
    for (let n = 0; n < count; n++) {
      const dir = join(this.opts.files.jobDir(job.id), JOB_FILES.items, String(n));
      const start = parseFile(Started, join(dir, JOB_FILES.launch));
      const end = parseFile(Exit, join(dir, JOB_FILES.exit));
      if (start && end?.endedAt) ms += Math.max(0, Date.parse(end.endedAt) - Date.parse(start.startedAt));
    }
    return (job.resources.cpus * ms) / 3600_000;
  }

  private chownTree(roots: string[]): void {
    const owner = this.opts.jobOwner;
    if (!owner) return;
    const walk = (path: string): void => {
      chownSync(path, owner.uid, owner.gid);
      if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    };
    for (const root of roots) walk(root);
  }
}

function parseAds(out: string): Ad[] {
  const text = out.trim();
  if (!text) return [];
  const raw: unknown = JSON.parse(text);
  if (!Array.isArray(raw)) return [];
  const ads: Ad[] = [];
  for (const item of raw) {
    const parsed = Ad.safeParse(item);
    if (parsed.success) ads.push(parsed.data);
  }
  return ads;
}

/** The backend for one `type: htcondor` entry of the site config. */
export function makeHTCondorBackend(name: string, site: HTCondorSiteConfig, config: Config, files: JobFiles): HTCondorBackend {
  const inside = (p: string): boolean =>
    p === site.stagingDir || p.startsWith(site.stagingDir.endsWith(sep) ? site.stagingDir : site.stagingDir + sep);
  for (const [what, dir] of [
    ['data dir (USER_BATCH_DATA_DIR)', config.dataDir],
    ['Jupyter root (USER_BATCH_ROOT_DIR)', config.rootDir],
  ] as const) {
    if (!inside(resolve(dir))) {
      throw new Error(
        `Backend "${name}": the ${what} ${dir} is not inside the staging folder ${site.stagingDir} shared with the HTCondor execute nodes.`,
      );
    }
  }
  return new HTCondorBackend({
    name,
    files,
    commandPrefix: site.commandPrefix,
    python: site.python ?? config.python,
    schedd: site.schedd,
    pool: site.pool,
    jobOwner: site.jobOwner,
    walltimeGraceMs: config.walltimeGraceMs,
    cancelWaitMs: Math.max(config.cancelGraceMs + 4000, 10_000),
    diskKiB: site.requestDiskKiB,
    environment: { PATH: `${dirname(site.python ?? config.python)}:/usr/local/bin:/usr/bin:/bin`, ...site.environment },
  });
}
