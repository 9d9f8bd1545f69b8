/**
 * What a job would take of the quota, as the dialog's live line says it.
 */
import { Batch } from '../tokens';

/**
 * Estimated cost of a job in core-hours: cpus × walltime hours.
 */
export function estimateCoreHours(
  cpus: number,
  walltimeMinutes: number
): number {
  return (cpus * walltimeMinutes) / 60;
}

/**
 * One line saying what the job would take of the quota, and whether it fits.
 */
export function quotaSummary(
  quota: Batch.IQuotaStatus,
  request: {
    cpus: number;
    memoryMiB: number;
    walltimeMinutes: number;
    /** A sweep's number of runs; 1 (the default) for a single run. */
    runs?: number;
    /** Whether the backend runs a sweep's items all at once. */
    parallel?: boolean;
    /**
     * Dask Gateway: the most workers the job's cluster may have (fixed, or
     * the adaptive maximum); cpus are per worker. Absent on other backends.
     */
    workers?: number;
  }
): { text: string; fits: boolean } {
  const { limits, usage } = quota;
  const runs = request.runs ?? 1;
  // The proxy counts a cluster's cores as cpus × workers, its largest size.
  const jobCpus = request.cpus * (request.workers ?? 1);
  // Every run costs its core-hours; only runs side by side add cores.
  const cost = runs * estimateCoreHours(jobCpus, request.walltimeMinutes);
  const left = Math.max(0, limits.coreHours - usage.coreHours);
  const jobs = usage.concurrentJobs + 1;
  const cores = usage.concurrentCores + jobCpus * (request.parallel ? runs : 1);
  const parts = [
    `Uses ${jobs} of ${limits.concurrentJobs} concurrent jobs`,
    `${cores} of ${limits.concurrentCores} cores`,
    `est. ${cost.toFixed(1)} core-hours of ${left.toFixed(1)} left`
  ];
  const over: string[] = [];
  if (jobs > limits.concurrentJobs) {
    over.push('concurrent jobs');
  }
  if (cores > limits.concurrentCores) {
    over.push('cores');
  }
  if (cost > left) {
    over.push('core-hours');
  }
  if (request.memoryMiB > limits.memoryPerJobMiB) {
    over.push(`memory (at most ${limits.memoryPerJobMiB} MiB a job)`);
  }
  const perCluster = limits.daskWorkersPerCluster;
  if (
    request.workers !== undefined &&
    perCluster !== undefined &&
    request.workers > perCluster
  ) {
    over.push(
      `Dask workers (at most ${perCluster} worker${perCluster === 1 ? '' : 's'} per cluster)`
    );
  }
  let text = parts.join(', ');
  if (over.length) {
    text += ` — over the limit for ${over.join(', ')}`;
  }
  return { text, fits: over.length === 0 };
}
