import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { JobRecord } from '../store/jobs';
import { type JobFiles, readJsonFile, writeFileAtomic } from '../jobdir';
import { listOutputs } from '../outputs';
import { ErrorFile, ExitFile, JOB_FILES, type JobSpec, LaunchFile, type OutputFile, Progress, SpawnFile } from '@user-batch/contract';
import { groupAlive, isSameProcessAlive, processStartTicks, signalGroup } from './procinfo';
import type { Backend, Estimate, JobUpdate, LogChunk } from './types';

/** Where the proxy finds a local job's process (spawn.json), and the job folder's other files: the contract's. */
const ProcessRef = SpawnFile;
type ProcessRef = SpawnFile;
const Launch = LaunchFile;
export const Exit = ExitFile;
export type Exit = ExitFile;
export { ErrorFile };

export const CRASHED_REASON = "The job's process ended without reporting how (killed or crashed).";
export const CANCELLED_REASON = 'Cancelled at your request.';
export const SIGNALLED_REASON = 'The job was stopped by a signal before it finished.';

export function parseFile<T>(schema: z.ZodType<T>, file: string): T | null {
  const result = schema.safeParse(readJsonFile(file));
  return result.success ? result.data : null;
}

export function walltimeReason(seconds: number): string {
  const span = seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? '' : 's'}` : `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `Stopped after the walltime of ${span}.`;
}

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

/** Length of the buffer without a trailing, incomplete UTF-8 character. */
function completeUtf8Length(buf: Buffer): number {
  let i = buf.length - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 3 && (buf[i] & 0xc0) === 0x80) {
    i--;
    continuation++;
  }
  if (i < 0) return buf.length;
  const lead = buf[i];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - i >= need ? buf.length : i;
}

/** Bytes of a log file from an offset, never ending inside a UTF-8 character. */
export function readLogChunk(file: string, from: number, maxBytes: number): LogChunk {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { text: '', from: 0, next: 0, size: 0 };
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.min(Math.max(0, from), size);
    const buf = Buffer.alloc(Math.min(maxBytes, size - start));
    const read = readSync(fd, buf, 0, buf.length, start);
    const usable = completeUtf8Length(buf.subarray(0, read));
    return { text: buf.subarray(0, usable).toString('utf8'), from: start, next: start + usable, size };
  } finally {
    closeSync(fd);
  }
}

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

  constructor(private readonly opts: LocalBackendOptions) {}

  estimate(spec: JobSpec): Estimate {
    return { coreHours: ((spec.sweep?.length ?? 1) * spec.resources.cpus * spec.resources.walltimeSeconds) / 3600 };
  }

  /** Start the runner; `extraEnv` reaches it and its kernel (the Dask Gateway backend names its cluster so). */
  async submit(job: JobRecord, extraEnv: Record<string, string> = {}): Promise<JobUpdate> {
    const { files, runnerCommand } = this.opts;
    const jobDir = files.jobDir(job.id);
    const outputDir = files.outputDir(job.id);
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
    return listOutputs(this.opts.files.outputDir(job.id), job.outputDir, job.spec.outputs);
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

export type FinalHow = { exit: Exit } | { state: 'failed' | 'cancelled' | 'lost'; reason: string };

/** How a job ended, from exit.json / error.json in its directory (or the given state when there is no exit.json). */
export function finalFromJobDir(dir: string, job: JobRecord, progress: Progress | null, how: FinalHow): JobUpdate {
  const raw = parseFile(ErrorFile, join(dir, JOB_FILES.error));
  const error = raw
    ? { ...raw, cellId: raw.cellId ?? null, traceback: Array.isArray(raw.traceback) ? raw.traceback.join('\n') : raw.traceback }
    : null;
  const base: JobUpdate = { jobId: job.id, endedAt: new Date().toISOString(), error, ...(progress ? { progress } : {}) };
  if (!('exit' in how)) return { ...base, state: how.state, stateReason: how.reason, exitCode: null };
  const { exit } = how;
  const ended = { ...base, endedAt: exit.endedAt ?? base.endedAt, exitCode: exit.exitCode ?? null };
  if (job.cancelRequested) return { ...ended, state: 'cancelled', stateReason: CANCELLED_REASON };
  switch (exit.reason) {
    case 'ok':
      return { ...ended, state: 'succeeded', stateReason: null };
    case 'walltime':
      return { ...ended, state: 'failed', stateReason: walltimeReason(job.resources.walltimeSeconds) };
    case 'cell_error':
      return {
        ...ended,
        state: 'failed',
        stateReason: error ? `Cell ${error.cellId ?? '?'} raised ${error.ename}: ${error.evalue}` : 'A cell raised an error; see the log.',
      };
    case 'partition_error':
      return {
        ...ended,
        state: 'failed',
        stateReason: exit.message ?? (error ? error.evalue : 'Some catalog partitions failed; see the log.'),
      };
    case 'items_failed':
      return { ...ended, state: 'failed', stateReason: exit.message ?? 'Some sweep items failed; see the log.' };
    case 'runner_error':
      return {
        ...ended,
        state: 'failed',
        stateReason: error ? `The job runner failed: ${error.evalue}` : 'The job runner failed; see the log.',
      };
    case 'cancelled':
      return { ...ended, state: 'cancelled', stateReason: SIGNALLED_REASON };
    default:
      return { ...ended, state: 'failed', stateReason: `The job runner ended with an unknown reason "${exit.reason}"; see the log.` };
  }
}
