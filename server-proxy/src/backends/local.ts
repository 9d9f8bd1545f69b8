import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { JobRecord } from '../store/jobs';
import {
  CANCELLED_REASON,
  CRASHED_REASON,
  Exit,
  type FinalHow,
  finalFromJobDir,
  type JobFiles,
  parseFile,
  readLogChunk,
  walltimeReason,
  writeFileAtomic,
} from '../jobdir';
import { listOutputs } from '../outputs';
import { JOB_FILES, LaunchFile, type OutputFile, Progress, SpawnFile } from '@user-batch/contract';
import { groupAlive, isSameProcessAlive, processStartTicks, signalGroup } from './procinfo';
import type { Backend, JobUpdate, LogChunk } from './types';

/** Where the proxy finds a local job's process (spawn.json), and the job folder's other files: the contract's. */
const ProcessRef = SpawnFile;
type ProcessRef = SpawnFile;
const Launch = LaunchFile;

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

export interface LocalBackendOptions {
  files: JobFiles;
  runnerCommand: string[];
  cancelGraceMs: number;
  walltimeGraceMs: number;
}

/** Jobs as detached child processes on this host, each in its own process group. */
export class LocalBackend implements Backend {
  readonly name = 'local';
  readonly sweepsInParallel = false;
  private readonly exitListeners: (() => void)[] = [];

  constructor(private readonly opts: LocalBackendOptions) {}

  onJobExit(listener: () => void): void {
    this.exitListeners.push(listener);
  }

  /** Start the runner; `extraEnv` reaches it and its kernel (the Dask Gateway backend names its cluster so). */
  async submit(job: JobRecord, extraEnv: Record<string, string> = {}): Promise<JobUpdate> {
    const { files, runnerCommand } = this.opts;
    const jobDir = files.jobDir(job.id);
    const outputDir = files.outputDir(job);
    const log = openSync(join(jobDir, JOB_FILES.outputLog), 'a');
    let pid: number | undefined;
    try {
      const child = spawn(runnerCommand[0], [...runnerCommand.slice(1), jobDir, ...(job.spec.sweep ? ['--sweep'] : [])], {
        detached: true,
        stdio: ['ignore', log, log],
        cwd: outputDir,
        env: {
          ...process.env,
          BATCH_JOB_ID: job.id,
          BATCH_OUTPUT_DIR: outputDir,
          BATCH_NOTEBOOK_DIR: join(files.rootDir, job.notebookPath, '..'),
          ...extraEnv,
        },
      });
      child.on('error', () => undefined); // reported below through the missing pid
      // the runner wrote exit.json before it ended: poll now rather than at the next tick
      child.on('exit', () => this.exitListeners.forEach(listener => listener()));
      pid = child.pid;
      child.unref();
    } finally {
      closeSync(log);
    }
    if (pid === undefined) {
      throw new Error(`Could not start the job runner "${runnerCommand[0]}": it was not found or is not executable.`);
    }
    const ref: ProcessRef = { pid, pgid: pid, procStartTicks: processStartTicks(pid) };
    // Written before the store learns the pid, so a restart after a crash here adopts the job instead of starting it twice.
    writeFileAtomic(join(jobDir, JOB_FILES.spawn), JSON.stringify(ref));
    return {
      jobId: job.id,
      state: 'running',
      stateReason: `Running as process group ${pid} on this server.`,
      startedAt: new Date().toISOString(),
      backendRef: ref,
    };
  }

  async poll(jobs: readonly JobRecord[]): Promise<JobUpdate[]> {
    const updates: JobUpdate[] = [];
    for (const job of jobs) {
      const ref = this.refOf(job);
      if (!ref) continue;
      const update = this.inspect(job, ref);
      if (update) updates.push(update);
    }
    return updates;
  }

  async reconcile(jobs: readonly JobRecord[]): Promise<JobUpdate[]> {
    const updates: JobUpdate[] = [];
    for (const job of jobs) {
      const ref = this.refOf(job);
      if (!ref) {
        if (job.state === 'pending') updates.push({ jobId: job.id, needsSubmit: true });
        else updates.push(this.finalUpdate(job, null, { state: 'lost', reason: 'The proxy has no record of how this job was started.' }));
        continue;
      }
      const launch = parseFile(Launch, join(this.opts.files.jobDir(job.id), JOB_FILES.launch));
      const adopted: JobUpdate = {
        jobId: job.id,
        state: 'running',
        stateReason: 'Running (found again after the proxy restarted).',
        backendRef: ref,
        startedAt: job.startedAt ?? launch?.startedAt ?? new Date().toISOString(),
      };
      const inspected = this.inspect({ ...job, state: 'running', startedAt: adopted.startedAt ?? null }, ref);
      updates.push(inspected ? { ...adopted, ...inspected } : adopted);
    }
    return updates;
  }

  async cancel(job: JobRecord): Promise<JobUpdate> {
    const ref = this.refOf(job);
    if (ref && (isSameProcessAlive(ref.pid, ref.procStartTicks) || groupAlive(ref.pgid))) {
      signalGroup(ref.pgid, 'SIGTERM');
      const deadline = Date.now() + this.opts.cancelGraceMs;
      while (groupAlive(ref.pgid) && Date.now() < deadline) await sleep(50);
      if (groupAlive(ref.pgid)) {
        signalGroup(ref.pgid, 'SIGKILL');
        this.killKernel(job);
        const killDeadline = Date.now() + 2000;
        while (groupAlive(ref.pgid) && Date.now() < killDeadline) await sleep(20);
      }
    }
    this.killKernel(job);
    const exit = parseFile(Exit, join(this.opts.files.jobDir(job.id), JOB_FILES.exit));
    return {
      jobId: job.id,
      state: 'cancelled',
      stateReason: CANCELLED_REASON,
      endedAt: new Date().toISOString(),
      exitCode: exit?.exitCode ?? null,
    };
  }

  async logs(job: JobRecord, from: number, maxBytes: number): Promise<LogChunk> {
    return readLogChunk(join(this.opts.files.jobDir(job.id), JOB_FILES.outputLog), from, maxBytes);
  }

  async outputs(job: JobRecord): Promise<OutputFile[]> {
    return listOutputs(this.opts.files.outputDir(job), job.outputDir, job.spec.outputs);
  }

  private killKernel(job: JobRecord): void {
    const launch = parseFile(Launch, join(this.opts.files.jobDir(job.id), JOB_FILES.launch));
    if (launch?.kernelPgid && groupAlive(launch.kernelPgid)) signalGroup(launch.kernelPgid, 'SIGKILL');
  }

  private refOf(job: JobRecord): ProcessRef | null {
    const stored = ProcessRef.safeParse(job.backendRef);
    if (stored.success) return stored.data;
    const dir = this.opts.files.jobDir(job.id);
    const spawned = parseFile(ProcessRef, join(dir, JOB_FILES.spawn));
    if (spawned) return spawned;
    const launch = parseFile(Launch, join(dir, JOB_FILES.launch));
    return launch ? { pid: launch.pid, pgid: launch.pgid, procStartTicks: null } : null;
  }

  /** What the job directory and the process table say now; null when nothing changed. */
  private inspect(job: JobRecord, ref: ProcessRef): JobUpdate | null {
    const dir = this.opts.files.jobDir(job.id);
    const alive = isSameProcessAlive(ref.pid, ref.procStartTicks);
    const exit = parseFile(Exit, join(dir, JOB_FILES.exit));
    const progress = parseFile(Progress, join(dir, JOB_FILES.progress));
    const progressChanged = progress !== null && JSON.stringify(progress) !== JSON.stringify(job.progress);
    if (exit) return this.finalUpdate(job, progress, { exit });
    if (!alive) {
      this.killKernel(job); // a runner killed outright leaves its kernel behind
      return job.cancelRequested
        ? this.finalUpdate(job, progress, { state: 'cancelled', reason: CANCELLED_REASON })
        : this.finalUpdate(job, progress, { state: 'failed', reason: CRASHED_REASON });
    }
    const startedMs = job.startedAt ? Date.parse(job.startedAt) : Date.now();
    if (Date.now() - startedMs > job.resources.walltimeSeconds * 1000 + this.opts.walltimeGraceMs) {
      // The runner should have stopped itself at the walltime; this is the backstop.
      signalGroup(ref.pgid, 'SIGKILL');
      this.killKernel(job);
      return this.finalUpdate(job, progress, { state: 'failed', reason: walltimeReason(job.resources.walltimeSeconds) });
    }
    return progressChanged ? { jobId: job.id, progress } : null;
  }
  private finalUpdate(job: JobRecord, progress: Progress | null, how: FinalHow): JobUpdate {
    return finalFromJobDir(this.opts.files.jobDir(job.id), job, progress, how);
  }
}
