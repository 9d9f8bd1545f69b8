import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Db } from './store/db';
import { HttpError } from './errors';
import type { QuotaLimits, QuotaStatus, QuotaUsage } from './schemas';

const PartialLimits = z
  .object({
    concurrentJobs: z.number().min(0),
    concurrentCores: z.number().min(0),
    coreHours: z.number().min(0),
    memoryPerJobMiB: z.number().min(0),
    daskWorkersPerCluster: z.number().int().min(0),
  })
  .partial()
  .strict();

const QuotaFile = z
  .object({
    windowHours: z.number().positive().default(24),
    default: PartialLimits.default({}),
    groups: z.record(z.string(), PartialLimits).default({}),
    users: z.record(z.string(), PartialLimits).default({}),
  })
  .strict();
export type QuotaPolicy = z.infer<typeof QuotaFile>;

const BUILT_IN: QuotaLimits = { concurrentJobs: 4, concurrentCores: 4, coreHours: 20, memoryPerJobMiB: 8192, daskWorkersPerCluster: 4 };
const LIMIT_KEYS = Object.keys(BUILT_IN) as (keyof QuotaLimits)[];

export function loadQuotaPolicy(file: string | undefined): QuotaPolicy {
  if (!file) return QuotaFile.parse({});
  const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
  const result = QuotaFile.safeParse(parsed ?? {});
  if (!result.success) throw new Error(`Quota file ${file} is not valid: ${z.prettifyError(result.error)}`);
  return result.data;
}

/** Default, plus every grant of the user's groups, then the user's own overrides. */
export function limitsFor(policy: QuotaPolicy, user: string, groups: readonly string[]): QuotaLimits {
  const limits: QuotaLimits = { ...BUILT_IN, ...policy.default };
  for (const group of groups) {
    const grant = policy.groups[group];
    if (!grant) continue;
    for (const key of LIMIT_KEYS) limits[key] += grant[key] ?? 0;
  }
  return { ...limits, ...policy.users[user] };
}

export interface QuotaRequest {
  /** Cores per run. */
  cpus: number;
  memoryMiB: number;
  walltimeSeconds: number;
  /** Runs the job makes (a sweep's items; default 1), and how many of them may run at once. */
  runs?: number;
  parallelRuns?: number;
  /** Dask Gateway: the most workers the job's cluster may have (each with `cpus` cores). */
  workers?: number;
  /** A planned estimate (catalog runs) that must fit the core-hours left, and what it is of. */
  estimatedCoreHours?: number;
  estimateOf?: string;
}

const round = (n: number): number => Math.round(n * 1000) / 1000;
const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

export class QuotaLedger {
  constructor(
    private readonly db: Db,
    private readonly policy: QuotaPolicy,
  ) {}

  get windowHours(): number {
    return this.policy.windowHours;
  }

  usage(user: string, now: Date = new Date()): QuotaUsage {
    const since = new Date(now.getTime() - this.policy.windowHours * 3600_000).toISOString();
    const row = this.db
      .prepare(
        `SELECT
           COALESCE(SUM(CASE WHEN settled_at IS NULL THEN 1 ELSE 0 END), 0) AS jobs,
           COALESCE(SUM(CASE WHEN settled_at IS NULL THEN cpus ELSE 0 END), 0) AS cores,
           COALESCE(SUM(CASE WHEN created_at >= @since THEN COALESCE(used_core_hours, reserved_core_hours) ELSE 0 END), 0) AS hours
         FROM quota_reservations WHERE user = @user`,
      )
      .get({ user, since }) as { jobs: number; cores: number; hours: number };
    return { concurrentJobs: row.jobs, concurrentCores: row.cores, coreHours: Math.round(row.hours * 1e6) / 1e6 };
  }

  status(user: string, groups: readonly string[]): QuotaStatus {
    return {
      user,
      accounts: [user, ...groups.filter((g) => g !== user)],
      windowHours: this.policy.windowHours,
      limits: limitsFor(this.policy, user, groups),
      usage: this.usage(user),
    };
  }

  /**
   * Refuses (422) when the request does not fit, else records the reservation.
   * Call inside the same IMMEDIATE transaction as the job insert, so parallel submissions serialise.
   */
  reserve(jobId: string, user: string, groups: readonly string[], account: string, req: QuotaRequest, at: string): number {
    const limits = limitsFor(this.policy, user, groups);
    const usage = this.usage(user, new Date(at));
    const runs = req.runs ?? 1;
    const workers = req.workers ?? 1;
    const cores = req.cpus * workers * Math.min(runs, req.parallelRuns ?? 1);
    const coreHours = round((runs * workers * req.cpus * req.walltimeSeconds) / 3600);
    const what = [runs > 1 ? `${runs} sweep items` : '', workers > 1 ? `${workers} workers` : '', plural(req.cpus, 'core', 'cores')]
      .filter(Boolean).join(' × ');
    const refuse = (limit: keyof QuotaLimits, used: number, asked: number, message: string): never => {
      throw new HttpError(422, 'quota_exceeded', message, { limit, limitValue: limits[limit], usage: used, request: asked });
    };
    if (workers > limits.daskWorkersPerCluster) {
      refuse('daskWorkersPerCluster', 0, workers,
        `Dask workers per cluster limit is ${limits.daskWorkersPerCluster}; you asked for ${workers}. Ask for at most ${plural(limits.daskWorkersPerCluster, 'worker', 'workers')}.`);
    }
    if (req.memoryMiB > limits.memoryPerJobMiB) {
      refuse('memoryPerJobMiB', 0, req.memoryMiB,
        `Memory per job limit is ${limits.memoryPerJobMiB} MiB; you asked for ${req.memoryMiB} MiB. Ask for at most ${limits.memoryPerJobMiB} MiB.`);
    }
    if (usage.concurrentJobs + 1 > limits.concurrentJobs) {
      refuse('concurrentJobs', usage.concurrentJobs, 1,
        `Concurrent jobs limit is ${limits.concurrentJobs}; you have ${usage.concurrentJobs} not yet finished. Wait for a job to finish or cancel one.`);
    }
    if (usage.concurrentCores + cores > limits.concurrentCores) {
      const fit = Math.max(0, limits.concurrentCores - usage.concurrentCores);
      const advice = fit === 0
        ? 'Wait for a job to finish or cancel one.'
        : runs > 1 && (req.parallelRuns ?? 1) > 1
          ? `A sweep running all at once needs items × cores; use at most ${plural(Math.floor(fit / req.cpus), 'item', 'items')} of ${plural(req.cpus, 'core', 'cores')}, or the local backend (one item at a time), or wait for a job to finish.`
          : `Ask for at most ${plural(fit, 'core', 'cores')} or wait for a job to finish.`;
      refuse('concurrentCores', usage.concurrentCores, cores,
        `Concurrent cores limit is ${limits.concurrentCores}; you are using ${usage.concurrentCores} and asked for ${cores}${cores > req.cpus ? ` (${what})` : ''}. ${advice}`);
    }
    if (usage.coreHours + coreHours > limits.coreHours + 1e-9) {
      const fit = round(Math.max(0, limits.coreHours - usage.coreHours));
      const advice = fit > 0
        ? `Ask for at most ${fit} core-hours (fewer cores or a shorter walltime) or wait for older jobs to leave the ${this.policy.windowHours}-hour window.`
        : `Wait for older jobs to leave the ${this.policy.windowHours}-hour window.`;
      refuse('coreHours', usage.coreHours, coreHours,
        `Core-hours limit is ${limits.coreHours} per ${this.policy.windowHours} hours; you have used ${usage.coreHours} and this job reserves ${coreHours} (${what} × walltime). ${advice}`);
    }
    if (req.estimatedCoreHours !== undefined && usage.coreHours + req.estimatedCoreHours > limits.coreHours + 1e-9) {
      const left = round(Math.max(0, limits.coreHours - usage.coreHours));
      refuse('coreHours', usage.coreHours, round(req.estimatedCoreHours),
        `Core-hours limit is ${limits.coreHours} per ${this.policy.windowHours} hours and ${left} are left; ${req.estimateOf ?? 'this job'} is estimated at ${round(req.estimatedCoreHours)} core-hours. Choose a smaller region or fewer columns, or wait for older jobs to leave the window.`);
    }
    this.db
      .prepare(
        `INSERT INTO quota_reservations (job_id, user, account, cpus, memory_mib, reserved_core_hours, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(jobId, user, account, cores, req.memoryMiB, coreHours, at);
    return coreHours;
  }

  /** Replace the reservation by what the job really used: cpus × elapsed hours, or what the backend measured. */
  settle(jobId: string, startedAt: string | null, endedAt: string, usedCoreHours?: number): boolean {
    const row = this.db
      .prepare('SELECT cpus FROM quota_reservations WHERE job_id = ? AND settled_at IS NULL')
      .get(jobId) as { cpus: number } | undefined;
    if (!row) return false;
    const elapsedMs = startedAt ? Math.max(0, Date.parse(endedAt) - Date.parse(startedAt)) : 0;
    const used = Math.round((usedCoreHours ?? (row.cpus * elapsedMs) / 3600_000) * 1e6) / 1e6;
    this.db
      .prepare('UPDATE quota_reservations SET used_core_hours = ?, settled_at = ? WHERE job_id = ?')
      .run(used, endedAt, jobId);
    return true;
  }
}
