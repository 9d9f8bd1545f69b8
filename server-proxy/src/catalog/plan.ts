import type { CatalogPlan as ApiCatalogPlan, PlannedPartition } from '@user-batch/contract';
import { z } from 'zod';
import { CatalogError } from './errors';
import { type CircleTest, pixelMayMeet, regionTest } from './geometry';
import { type CatalogInfo, readCatalogInfo } from './hats';
import { parseRegion, Region } from './region';

/**
 * Plan a catalog run: which partitions of a HATS catalog a region touches, how many rows and bytes
 * that is, and a rough core-hour estimate, all from the partition index and the Parquet footers
 * (no data is read). The selection is conservative: it never leaves out a partition that holds a
 * row inside the region, and may add a few neighbouring partitions (see geometry.ts).
 */

/** Rough cost of processing rows, for the estimate only; callers with a measured rate pass theirs. */
export const DEFAULT_SECONDS_PER_MILLION_ROWS = 60;

export const CatalogPlanRequest = z.object({
  catalogDir: z.string().min(1),
  region: Region.optional(),
  columns: z.array(z.string().min(1)).min(1).optional(),
  secondsPerMillionRows: z.number().positive().optional(),
  cpus: z.number().int().min(1).optional(),
  /** Reuse the parsed index of an unchanged catalog (default true); false forces a fresh read. */
  cache: z.boolean().optional(),
});
export type CatalogPlanRequest = z.input<typeof CatalogPlanRequest>;

export type { PlannedPartition } from '@user-batch/contract';

/** The planner's whole plan: the API's CatalogPlan before the route shortens the partition list and adds the quota. */
export interface CatalogPlan extends Omit<ApiCatalogPlan, 'partitionsShown' | 'quota' | 'timings'> {
  timings: { ms: number; readMs: number; selectMs: number };
}

export async function planCatalogRun(request: CatalogPlanRequest): Promise<CatalogPlan> {
  const started = performance.now();
  // validate the region first: a typo there should not cost a catalog read
  const region = request.region === undefined ? null : parseRegion(request.region);
  const test = region ? regionTest(region) : null; // also checks the polygon's shape
  const info = await readCatalogInfo(request.catalogDir, { cache: request.cache });
  const read = performance.now();
  const columnIndexes = request.columns ? resolveColumns(info, request.columns) : null;
  const partitions = selectPartitions(info, test, columnIndexes);
  const selected = performance.now();

  const rows = sum(partitions.map(p => p.rows));
  const secondsPerMillionRows = request.secondsPerMillionRows ?? DEFAULT_SECONDS_PER_MILLION_ROWS;
  const cpus = request.cpus ?? 1;
  return {
    catalog: summary(info),
    region,
    columns: request.columns ?? null,
    partitions,
    totals: { partitions: partitions.length, rows, bytes: sum(partitions.map(p => p.bytes)) },
    estimate: estimate(partitions, secondsPerMillionRows, cpus),
    timings: { ms: selected - started, readMs: read - started, selectMs: selected - read },
  };
}

function summary(info: CatalogInfo): CatalogPlan['catalog'] {
  return {
    dir: info.dir,
    name: info.name,
    raColumn: info.raColumn,
    decColumn: info.decColumn,
    totalRows: info.totalRows,
    totalPartitions: info.partitions.length,
    orders: [...new Set(info.partitions.map(p => p.order))].sort((a, b) => a - b),
    columns: info.columns,
  };
}

function resolveColumns(info: CatalogInfo, wanted: string[]): number[] {
  const index = new Map(info.columns.map((c, i) => [c.name, i]));
  const unknown = wanted.filter(c => !index.has(c));
  if (unknown.length > 0) {
    const list = unknown.map(c => `"${c}"`).join(', ');
    throw new CatalogError(
      'unknown_column',
      `${unknown.length === 1 ? 'Column' : 'Columns'} ${list} ${unknown.length === 1 ? 'is' : 'are'} not in catalog "${info.name}". ` +
        `Available columns: ${info.columns.map(c => c.name).join(', ')}.`,
    );
  }
  return [...new Set(wanted)].map(c => index.get(c)!);
}

/**
 * How far below the catalog's deepest order a partition is refined before it is kept: 2 orders
 * finer means the excess is within about a quarter of the deepest partitions' width; no partition
 * is refined more than MAX_REFINE orders below its own (cost: a coarse partition near a region's
 * edge tests ~2^levels small pixels along that edge).
 */
const REFINE_BELOW_DEEPEST = 2;
const MAX_REFINE = 6;

function selectPartitions(info: CatalogInfo, test: CircleTest | null, columnIndexes: number[] | null): PlannedPartition[] {
  const deepest = Math.max(0, ...info.partitions.map(p => p.order));
  const out: PlannedPartition[] = [];
  for (const p of info.partitions) {
    const refineTo = Math.min(deepest + REFINE_BELOW_DEEPEST, p.order + MAX_REFINE);
    if (test && !pixelMayMeet(test, p.order, p.pixel, refineTo)) continue;
    const bytes = columnIndexes ? sum(columnIndexes.map(i => p.columnBytes[i])) : p.bytes;
    out.push({ order: p.order, pixel: p.pixel, rows: p.rows, bytes });
  }
  return out;
}

function estimate(partitions: PlannedPartition[], secondsPerMillionRows: number, cpus: number): CatalogPlan['estimate'] {
  const seconds = partitions.map(p => (p.rows / 1e6) * secondsPerMillionRows);
  const coreHours = sum(seconds) / 3600;
  // one partition per task: the run lasts at least as long as its largest partition
  const wallHours = Math.max(coreHours / Math.max(1, Math.min(cpus, partitions.length)), Math.max(0, ...seconds) / 3600);
  return { coreHours, wallHours, secondsPerMillionRows, cpus };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
