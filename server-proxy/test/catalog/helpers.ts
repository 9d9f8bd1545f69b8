import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '../../..');
export const PYTHON = join(REPO, '.venv/bin/python');
/** Building a catalog starts Python with lsdb: allow for a busy machine. */
export const BUILD_TIMEOUT = 300_000;

/**
 * Build a catalog with a generator script once and reuse it: the folder is named after the
 * script's content and arguments, so all test files (and later runs) share one build, and a
 * changed script builds afresh. Built in a scratch folder and renamed, so a parallel jest worker
 * never sees half a catalog.
 */
function buildOnce(script: string, args: string[]): string {
  const hash = createHash('sha256')
    .update(readFileSync(join(REPO, script)))
    .update(args.join('\0'))
    .digest('hex')
    .slice(0, 12);
  const dir = join(tmpdir(), `ub-catalog-${hash}`);
  if (existsSync(join(dir, 'partition_info.csv'))) return dir;
  const scratch = mkdtempSync(join(tmpdir(), 'ub-catalog-build-'));
  const out = join(scratch, 'catalog');
  execFileSync(PYTHON, [script, out, ...args], { cwd: REPO, stdio: 'pipe', timeout: 300_000 });
  try {
    renameSync(out, dir);
  } catch {
    // another worker won the race: its catalog is the same
  }
  rmSync(scratch, { recursive: true, force: true });
  return dir;
}

/** The small real HATS catalog of tests/fixtures/make_catalog.py (10 partitions, orders 0-4). */
export function fixtureCatalog(): string {
  return buildOnce('tests/fixtures/make_catalog.py', []);
}

/** A synthetic order-5 index (12,288 partitions, _metadata only) from bench/plan-bench.py. */
export function order5Index(): string {
  return buildOnce('bench/plan-bench.py', ['--order', '5', '--columns', '7', '--no-files']);
}

export interface Expected {
  partitions: Record<string, { rows: number; bytes: number; columnBytes: Record<string, number> }>;
  regions: { hats: [number, number][]; near_hats: [number, number][]; matching?: [number, number][] }[];
}

/** Independent answers from tests/fixtures/expected_partitions.py (pandas, pyarrow, hats). */
export function expectedFor(catalog: string, regions: unknown[], withRows = true): Expected {
  const scratch = mkdtempSync(join(tmpdir(), 'ub-regions-'));
  const file = join(scratch, 'regions.json');
  writeFileSync(file, JSON.stringify(regions));
  try {
    const args = ['tests/fixtures/expected_partitions.py', catalog, file, ...(withRows ? [] : ['--no-rows'])];
    return JSON.parse(execFileSync(PYTHON, args, { cwd: REPO, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 }));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export const key = (p: { order: number; pixel: number } | [number, number]): string =>
  Array.isArray(p) ? `${p[0]}/${p[1]}` : `${p.order}/${p.pixel}`;
