import type { QuotaLimits, QuotaUsage } from './api';

/**
 * What a job costs of a person's quota, and whether it fits, in one place: the submit dialog
 * shows `quotaSummary`, the plan route `planQuota`, and the proxy's ledger refuses with
 * `quotaRefusal` and reserves `jobCost(...).coreHours`. They used to compute this apart.
 */

/** What a job asks for, in the quota's terms. */
export interface CostRequest {
  /** Cores per run; on a Dask Gateway, per worker. */
  cpus: number;
  memoryMiB: number;
  walltimeSeconds: number;
  /** Runs the job makes: a sweep's items (default 1). */
  runs?: number;
  /** Whether the backend runs a sweep's items all at once (HTCondor) rather than in turn (local). */
  sweepsInParallel?: boolean;
  /** Dask Gateway: the most workers the job's cluster may have (fixed, or the adaptive maximum). */
  workers?: number;
}

/** What a job holds at once and what it may use in all. */
export interface JobCost {
  /** Cores held at once: cpus × workers × the runs side by side. */
  cores: number;
  /** Core-hours reserved: every run × workers × cpus × walltime, rounded to 0.001. */
  coreHours: number;
}

/** The quota a cost is checked against. Older proxies send no daskWorkersPerCluster (no cap then). */
export interface QuotaView {
  windowHours: number;
  limits: Omit<QuotaLimits, 'daskWorkersPerCluster'> & { daskWorkersPerCluster?: number };
  usage: QuotaUsage;
}

export const roundCoreHours = (n: number): number => Math.round(n * 1000) / 1000;
/**
 * Core-hours as every message and label shows them: "0", "<0.01", two decimals under 10, one under
 * 100, whole numbers above (trailing zeros dropped): 0.025984 → "0.03", 23.978 → "24", 150.2 → "150".
 */
export function formatCoreHours(n: number): string {
  if (n === 0) return '0';
  if (n > 0 && n < 0.01) return '<0.01';
  const digits = n < 10 ? 2 : n < 100 ? 1 : 0;
  return String(Number(n.toFixed(digits)));
}
const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
/** Sums of core-hours carry float noise: a job that fits exactly must fit. */
const EPSILON = 1e-9;

/** What to do when a plan's estimate does not fit: a catalog run's way to cost less. */
const CATALOG_ADVICE = 'Choose a smaller region or fewer columns';

export function jobCost(req: CostRequest): JobCost {
  const runs = req.runs ?? 1;
  const workers = req.workers ?? 1;
  return {
    cores: req.cpus * workers * (req.sweepsInParallel ? runs : 1),
    coreHours: roundCoreHours((runs * workers * req.cpus * req.walltimeSeconds) / 3600),
  };
}

export type QuotaLimitName = keyof QuotaLimits;

/** Why a job does not fit: which limit, its value, what is used and what was asked, and the sentence. */
export interface QuotaRefusal {
  limit: QuotaLimitName;
  limitValue: number;
  usage: number;
  request: number;
  message: string;
}

/**
 * The first limit the job would break, with a sentence saying what to do; null when it fits.
 * `estimate`: a planned cost (a catalog run) that must also fit the core-hours left.
 */
export function quotaRefusal(
  quota: QuotaView,
  req: CostRequest,
  estimate?: { coreHours: number; of: string; advice?: string },
): QuotaRefusal | null {
  const { limits, usage, windowHours } = quota;
  const runs = req.runs ?? 1;
  const workers = req.workers ?? 1;
  const { cores, coreHours } = jobCost(req);
  const what = [runs > 1 ? `${runs} sweep items` : '', workers > 1 ? `${workers} workers` : '', plural(req.cpus, 'core', 'cores')]
    .filter(Boolean)
    .join(' × ');
  const refuse = (limit: QuotaLimitName, used: number, asked: number, message: string): QuotaRefusal => ({
    limit,
    limitValue: limits[limit] ?? 0,
    usage: used,
    request: asked,
    message,
  });

  const perCluster = limits.daskWorkersPerCluster;
  if (perCluster !== undefined && workers > perCluster) {
    return refuse(
      'daskWorkersPerCluster',
      0,
      workers,
      `Dask workers per cluster limit is ${perCluster}; you asked for ${workers}. Ask for at most ${plural(perCluster, 'worker', 'workers')}.`,
    );
  }
  if (req.memoryMiB > limits.memoryPerJobMiB) {
    return refuse(
      'memoryPerJobMiB',
      0,
      req.memoryMiB,
      `Memory per job limit is ${limits.memoryPerJobMiB} MiB; you asked for ${req.memoryMiB} MiB. Ask for at most ${limits.memoryPerJobMiB} MiB.`,
    );
  }
  if (usage.concurrentJobs + 1 > limits.concurrentJobs) {
    return refuse(
      'concurrentJobs',
      usage.concurrentJobs,
      1,
      `Concurrent jobs limit is ${limits.concurrentJobs}; you have ${usage.concurrentJobs} not yet finished. Wait for a job to finish or cancel one.`,
    );
  }
  if (usage.concurrentCores + cores > limits.concurrentCores) {
    const fit = Math.max(0, limits.concurrentCores - usage.concurrentCores);
    const advice =
      fit === 0
        ? 'Wait for a job to finish or cancel one.'
        : runs > 1 && req.sweepsInParallel
          ? `A sweep running all at once needs items × cores; use at most ${plural(Math.floor(fit / req.cpus), 'item', 'items')} of ${plural(req.cpus, 'core', 'cores')}, or the local backend (one item at a time), or wait for a job to finish.`
          : `Ask for at most ${plural(fit, 'core', 'cores')} or wait for a job to finish.`;
    return refuse(
      'concurrentCores',
      usage.concurrentCores,
      cores,
      `Concurrent cores limit is ${limits.concurrentCores}; you are using ${usage.concurrentCores} and asked for ${cores}${cores > req.cpus ? ` (${what})` : ''}. ${advice}`,
    );
  }
  if (usage.coreHours + coreHours > limits.coreHours + EPSILON) {
    const fit = roundCoreHours(Math.max(0, limits.coreHours - usage.coreHours));
    const advice =
      fit > 0
        ? `Ask for at most ${formatCoreHours(fit)} core-hours (fewer cores or a shorter walltime) or wait for older jobs to leave the ${windowHours}-hour window.`
        : `Wait for older jobs to leave the ${windowHours}-hour window.`;
    return refuse(
      'coreHours',
      usage.coreHours,
      coreHours,
      `Core-hours limit is ${limits.coreHours} per ${windowHours} hours; you have used ${formatCoreHours(usage.coreHours)} and this job reserves ${formatCoreHours(coreHours)} (${what} × walltime). ${advice}`,
    );
  }
  if (estimate && usage.coreHours + estimate.coreHours > limits.coreHours + EPSILON) {
    const left = roundCoreHours(Math.max(0, limits.coreHours - usage.coreHours));
    return refuse(
      'coreHours',
      usage.coreHours,
      roundCoreHours(estimate.coreHours),
      `Core-hours limit is ${limits.coreHours} per ${windowHours} hours and ${formatCoreHours(left)} are left; ${estimate.of} is estimated at ${formatCoreHours(estimate.coreHours)} core-hours. ${estimate.advice ?? CATALOG_ADVICE}, or wait for older jobs to leave the window.`,
    );
  }
  return null;
}

/**
 * A plan's estimate against the core-hours left, with the sentence the dialog shows. `advice`:
 * how this kind of run costs less (a sentence start, capitalised), the catalog's by default.
 */
export function planQuota(
  quota: QuotaView,
  estimatedCoreHours: number,
  advice: string = CATALOG_ADVICE,
): { coreHoursLeft: number; fits: boolean; message: string } {
  const left = Math.max(0, quota.limits.coreHours - quota.usage.coreHours);
  const fits = estimatedCoreHours <= left + EPSILON;
  const cost = roundCoreHours(estimatedCoreHours);
  return {
    coreHoursLeft: roundCoreHours(left),
    fits,
    message: fits
      ? `Estimated ${formatCoreHours(cost)} core-hours of the ${formatCoreHours(left)} you have left.`
      : `Estimated ${formatCoreHours(cost)} core-hours, but only ${formatCoreHours(left)} are left in your ${quota.windowHours}-hour window: ${advice.charAt(0).toLowerCase()}${advice.slice(1)}, or wait.`,
  };
}

/** The submit dialog's request: walltime in minutes, `parallel` for the backend's sweepsInParallel. */
export interface DialogCostRequest {
  cpus: number;
  memoryMiB: number;
  walltimeMinutes: number;
  /** A sweep's number of runs; 1 (the default) for a single run. */
  runs?: number;
  /** Whether the backend runs a sweep's items all at once. */
  parallel?: boolean;
  /** Dask Gateway: the most workers the job's cluster may have; cpus are per worker. Absent elsewhere. */
  workers?: number;
}

/** A limit a job would go over, with the limit's value. */
export type QuotaOver =
  | { limit: 'concurrentJobs' | 'concurrentCores' | 'coreHours'; max: number }
  | { limit: 'memoryPerJobMiB'; max: number }
  | { limit: 'daskWorkersPerCluster'; max: number };

/**
 * What the job would take of the quota, in numbers, and which limits it would go over: the one
 * rule behind the dialog's line, whatever words (and language) the line is then said in.
 */
export function quotaUse(
  quota: Omit<QuotaView, 'windowHours'> & { windowHours?: number },
  request: DialogCostRequest,
): { jobs: number; coresInUse: number; coreHours: number; coreHoursLeft: number; over: QuotaOver[] } {
  const { limits, usage } = quota;
  const { cores, coreHours } = jobCost({
    cpus: request.cpus,
    memoryMiB: request.memoryMiB,
    walltimeSeconds: request.walltimeMinutes * 60,
    runs: request.runs,
    sweepsInParallel: request.parallel,
    workers: request.workers,
  });
  const jobs = usage.concurrentJobs + 1;
  const coresInUse = usage.concurrentCores + cores;
  const over: QuotaOver[] = [];
  if (jobs > limits.concurrentJobs) over.push({ limit: 'concurrentJobs', max: limits.concurrentJobs });
  if (coresInUse > limits.concurrentCores) over.push({ limit: 'concurrentCores', max: limits.concurrentCores });
  if (usage.coreHours + coreHours > limits.coreHours + EPSILON) over.push({ limit: 'coreHours', max: limits.coreHours });
  if (request.memoryMiB > limits.memoryPerJobMiB) over.push({ limit: 'memoryPerJobMiB', max: limits.memoryPerJobMiB });
  const perCluster = limits.daskWorkersPerCluster;
  if (request.workers !== undefined && perCluster !== undefined && request.workers > perCluster) {
    over.push({ limit: 'daskWorkersPerCluster', max: perCluster });
  }
  return { jobs, coresInUse, coreHours, coreHoursLeft: Math.max(0, limits.coreHours - usage.coreHours), over };
}

/**
 * One line saying what the job would take of the quota, and whether it fits: the submit
 * dialog's line, in English (the extension says the same through its translator). `windowHours`
 * is not needed for it, so a quota without it is accepted.
 */
export function quotaSummary(
  quota: Omit<QuotaView, 'windowHours'> & { windowHours?: number },
  request: DialogCostRequest,
): { text: string; fits: boolean } {
  const { limits } = quota;
  const use = quotaUse(quota, request);
  const parts = [
    `Uses ${use.jobs} of ${limits.concurrentJobs} concurrent jobs`,
    `${use.coresInUse} of ${limits.concurrentCores} cores`,
    `est. ${formatCoreHours(use.coreHours)} core-hours of ${formatCoreHours(use.coreHoursLeft)} left`,
  ];
  const words: Record<QuotaOver['limit'], (max: number) => string> = {
    concurrentJobs: () => 'concurrent jobs',
    concurrentCores: () => 'cores',
    coreHours: () => 'core-hours',
    memoryPerJobMiB: max => `memory (at most ${max} MiB a job)`,
    daskWorkersPerCluster: max => `Dask workers (at most ${max} worker${max === 1 ? '' : 's'} per cluster)`,
  };
  const over = use.over.map(o => words[o.limit](o.max));
  const text = parts.join(', ') + (over.length ? ` — over the limit for ${over.join(', ')}` : '');
  return { text, fits: over.length === 0 };
}
