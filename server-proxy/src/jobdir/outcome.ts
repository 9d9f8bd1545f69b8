import { join } from 'node:path';
import { ErrorFile, ExitFile, JOB_FILES, type Progress } from '@user-batch/contract';
import type { JobUpdate } from '../backends/types';
import type { JobRecord } from '../store/jobs';
import { parseFile } from './read';

/** How a job ended, in the words a person reads: the same for every backend that runs the runner. */

export const Exit = ExitFile;
export type Exit = ExitFile;

export const CRASHED_REASON = "The job's process ended without reporting how (killed or crashed).";
export const CANCELLED_REASON = 'Cancelled at your request.';
export const SIGNALLED_REASON = 'The job was stopped by a signal before it finished.';

export function walltimeReason(seconds: number): string {
  const span = seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? '' : 's'}` : `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `Stopped after the walltime of ${span}.`;
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
    case 'quanta_failed':
      return { ...ended, state: 'failed', stateReason: exit.message ?? "Some of the pipeline's quanta failed; see the log." };
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
