/**
 * What a job would take of the quota, as the dialog's live line says it. The
 * cost and whether it fits are the contract's (one cost function, so the
 * dialog says what the proxy's ledger will decide); the words are ours, so
 * they go through the translator. The contract's own line is the English this
 * one must match, which a test checks.
 */
import {
  DialogCostRequest,
  jobCost,
  QuotaView,
  quotaSummary as contractQuotaSummary
} from '@user-batch/contract/lib/quota-cost';

import { loadTrans, TranslationBundle } from '../translation';

/** Sums of core-hours carry float noise: as the contract, a job that fits exactly fits. */
const EPSILON = 1e-9;

/**
 * One line saying what the job would take of the quota, and whether it fits:
 * the submit dialog's line.
 */
export function quotaSummary(
  quota: Omit<QuotaView, 'windowHours'> & { windowHours?: number },
  request: DialogCostRequest,
  trans: TranslationBundle = loadTrans()
): { text: string; fits: boolean } {
  const { fits } = contractQuotaSummary(quota, request);
  const { limits, usage } = quota;
  const { cores, coreHours } = jobCost({
    cpus: request.cpus,
    memoryMiB: request.memoryMiB,
    walltimeSeconds: request.walltimeMinutes * 60,
    runs: request.runs,
    sweepsInParallel: request.parallel,
    workers: request.workers
  });
  const left = Math.max(0, limits.coreHours - usage.coreHours);
  const jobs = usage.concurrentJobs + 1;
  const coresInUse = usage.concurrentCores + cores;
  // English has always said "jobs" and "cores" whatever the count; the plural
  // forms let other languages agree with the limit.
  const uses = [
    trans._n(
      'Uses %2 of %1 concurrent jobs',
      'Uses %2 of %1 concurrent jobs',
      limits.concurrentJobs,
      jobs
    ),
    trans._n(
      '%2 of %1 cores',
      '%2 of %1 cores',
      limits.concurrentCores,
      coresInUse
    ),
    trans.__(
      'est. %1 core-hours of %2 left',
      coreHours.toFixed(1),
      left.toFixed(1)
    )
  ].join(', ');
  const over: string[] = [];
  if (jobs > limits.concurrentJobs) {
    over.push(trans.__('concurrent jobs'));
  }
  if (coresInUse > limits.concurrentCores) {
    over.push(trans.__('cores'));
  }
  if (usage.coreHours + coreHours > limits.coreHours + EPSILON) {
    over.push(trans.__('core-hours'));
  }
  if (request.memoryMiB > limits.memoryPerJobMiB) {
    over.push(
      trans.__('memory (at most %1 MiB a job)', limits.memoryPerJobMiB)
    );
  }
  const perCluster = limits.daskWorkersPerCluster;
  if (
    request.workers !== undefined &&
    perCluster !== undefined &&
    request.workers > perCluster
  ) {
    over.push(
      trans._n(
        'Dask workers (at most %1 worker per cluster)',
        'Dask workers (at most %1 workers per cluster)',
        perCluster
      )
    );
  }
  const text = over.length
    ? trans.__('%1 — over the limit for %2', uses, over.join(', '))
    : uses;
  return { text, fits };
}
