import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Db } from './store/db';
import { HttpError } from './errors';
import { type CostRequest, jobCost, type QuotaLimits, quotaRefusal, type QuotaStatus, type QuotaUsage } from '@user-batch/contract';

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
      accounts: [user, ...groups.filter(g => g !== user)],
      windowHours: this.policy.windowHours,
      limits: limitsFor(this.policy, user, groups),
      usage: this.usage(user),
    };
  }

  /**
   * Refuses (422) when the request does not fit (the contract's quotaRefusal: which limit and the
   * sentence), else records the reservation. `estimate`: a catalog run's planned core-hours, which must fit too.
   * Call inside the same IMMEDIATE transaction as the job insert, so parallel submissions serialise.
   */
  reserve(
    jobId: string,
    user: string,
    groups: readonly string[],
    account: string,
    req: CostRequest,
    at: string,
    estimate?: { coreHours: number; of: string },
  ): number {
    const quota = {
      windowHours: this.policy.windowHours,
      limits: limitsFor(this.policy, user, groups),
      usage: this.usage(user, new Date(at)),
    };
    const refusal = quotaRefusal(quota, req, estimate);
    if (refusal) {
      const { message, ...details } = refusal;
      throw new HttpError(422, 'quota_exceeded', message, details);
    }
    const { cores, coreHours } = jobCost(req);
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
    const row = this.db.prepare('SELECT cpus FROM quota_reservations WHERE job_id = ? AND settled_at IS NULL').get(jobId) as
      { cpus: number } | undefined;
    if (!row) return false;
    const elapsedMs = startedAt ? Math.max(0, Date.parse(endedAt) - Date.parse(startedAt)) : 0;
    const used = Math.round((usedCoreHours ?? (row.cpus * elapsedMs) / 3600_000) * 1e6) / 1e6;
    this.db.prepare('UPDATE quota_reservations SET used_core_hours = ?, settled_at = ? WHERE job_id = ?').run(used, endedAt, jobId);
    return true;
  }
}
