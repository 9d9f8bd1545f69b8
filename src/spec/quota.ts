/**
 * What a job would take of the quota, as the dialog's live line says it. The
 * numbers and the limits it would go over are the contract's `quotaUse` (one
 * rule, so the dialog says what the proxy's ledger will decide); the words
 * are ours, so they go through the translator. The contract's own English
 * line is what this one must match, which a test checks.
 */
import {
  DialogCostRequest,
  formatCoreHours,
  QuotaOver,
  QuotaView,
  quotaUse
} from '@user-batch/contract/lib/quota-cost';

import { loadTrans, TranslationBundle } from '../translation';

/** A limit the job would go over, in words. */
function overWords(over: QuotaOver, trans: TranslationBundle): string {
  switch (over.limit) {
    case 'concurrentJobs':
      return trans.__('concurrent jobs');
    case 'concurrentCores':
      return trans.__('cores');
    case 'coreHours':
      return trans.__('core-hours');
    case 'memoryPerJobMiB':
      return trans.__('memory (at most %1 MiB a job)', over.max);
    case 'daskWorkersPerCluster':
      return trans._n(
        'Dask workers (at most %1 worker per cluster)',
        'Dask workers (at most %1 workers per cluster)',
        over.max
      );
  }
}

/**
 * One line saying what the job would take of the quota, and whether it fits:
 * the submit dialog's line.
 */
export function quotaSummary(
  quota: Omit<QuotaView, 'windowHours'> & { windowHours?: number },
  request: DialogCostRequest,
  trans: TranslationBundle = loadTrans()
): { text: string; fits: boolean } {
  const { limits } = quota;
  const use = quotaUse(quota, request);
  // English has always said "jobs" and "cores" whatever the count; the plural
  // forms let other languages agree with the limit.
  const uses = [
    trans._n(
      'Uses %2 of %1 concurrent jobs',
      'Uses %2 of %1 concurrent jobs',
      limits.concurrentJobs,
      use.jobs
    ),
    trans._n(
      '%2 of %1 cores',
      '%2 of %1 cores',
      limits.concurrentCores,
      use.coresInUse
    ),
    trans.__(
      'est. %1 core-hours of %2 left',
      formatCoreHours(use.coreHours),
      formatCoreHours(use.coreHoursLeft)
    )
  ].join(', ');
  const over = use.over.map(o => overWords(o, trans));
  const text = over.length
    ? trans.__('%1 — over the limit for %2', uses, over.join(', '))
    : uses;
  return { text, fits: over.length === 0 };
}
