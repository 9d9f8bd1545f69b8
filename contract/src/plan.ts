import { z } from 'zod';
import { Region } from './region';

/** A catalog run's plan and partitions, as the API answers them (POST /catalogs/plan, GET /jobs/:id/partitions). */

/** The body of POST /catalogs/plan. */
export const PlanRequest = z.object({
  path: z.string().min(1).max(1024),
  region: Region.optional(),
  columns: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
  /** Cores that work at once: cpus × workers of the job, for the wall-time estimate. */
  cpus: z.number().int().min(1).max(100_000).optional(),
});
export type PlanRequest = z.input<typeof PlanRequest>;

export const CatalogColumn = z.object({
  name: z.string(),
  /** Parquet logical type if any (STRING, INTEGER, ...), else the physical type (DOUBLE, INT64...). */
  type: z.string(),
});
export type CatalogColumn = z.infer<typeof CatalogColumn>;

export const CatalogSummary = z.object({
  dir: z.string(),
  name: z.string(),
  raColumn: z.string(),
  decColumn: z.string(),
  totalRows: z.number(),
  totalPartitions: z.number(),
  orders: z.array(z.number()),
  columns: z.array(CatalogColumn),
});
export type CatalogSummary = z.infer<typeof CatalogSummary>;

export const PlannedPartition = z.object({
  order: z.number(),
  pixel: z.number(),
  rows: z.number(),
  /** Bytes of the requested columns (all columns if none were requested). */
  bytes: z.number(),
});
export type PlannedPartition = z.infer<typeof PlannedPartition>;

export const PlanTotals = z.object({ partitions: z.number(), rows: z.number(), bytes: z.number() });
export const PlanEstimate = z.object({
  coreHours: z.number(),
  /** Wall-clock hours with `cpus` cores busy, one partition per core at a time. */
  wallHours: z.number(),
  secondsPerMillionRows: z.number(),
  cpus: z.number(),
});
export type PlanEstimate = z.infer<typeof PlanEstimate>;

/** Whether the plan's estimate fits the core-hours left, with the sentence the dialog shows. */
export const PlanQuota = z.object({ coreHoursLeft: z.number(), fits: z.boolean(), message: z.string() });
export type PlanQuota = z.infer<typeof PlanQuota>;

/** The answer of POST /catalogs/plan: at most `partitionsShown` partitions listed, the totals cover all. */
export const CatalogPlan = z
  .object({
    catalog: CatalogSummary,
    region: Region.nullable(),
    columns: z.array(z.string()).nullable(),
    totals: PlanTotals,
    estimate: PlanEstimate,
    partitions: z.array(PlannedPartition),
    partitionsShown: z.number(),
    quota: PlanQuota,
    timings: z.object({ ms: z.number() }),
  })
  .meta({ id: 'CatalogPlan' });
export type CatalogPlan = z.infer<typeof CatalogPlan>;

export const PartitionStateName = z.enum(['pending', 'done', 'failed', 'cancelled']);
export type PartitionStateName = z.infer<typeof PartitionStateName>;

/** One partition of a catalog run, as the driver writes it to partitions.json and the API answers it. */
export const PartitionState = z.object({
  order: z.number(),
  pixel: z.number(),
  state: PartitionStateName,
  /** Rows written and seconds taken, once done; null before. */
  rows: z.number().nullable().default(null),
  seconds: z.number().nullable().default(null),
  error: z.object({ ename: z.string(), evalue: z.string(), traceback: z.string() }).nullable().default(null),
});
export type PartitionState = z.infer<typeof PartitionState>;
export const PartitionList = z.object({ partitions: z.array(PartitionState) });
