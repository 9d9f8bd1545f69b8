/**
 * Catalog runs through the API, with the real planner, the real job runner and LSDB driver on a
 * local Dask cluster, over the real HATS catalog of tests/fixtures/make_catalog.py.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '@user-batch/contract';
import { BUILD_TIMEOUT, fixtureCatalog, PYTHON, REPO } from './catalog/helpers';
import { makeApp, type TestApp, waitForState } from './helpers';

jest.mock('../src/catalog/hyparquet-loader', () => ({
  loadHyparquet: () => require('./catalog/native-import').nativeImport('hyparquet'),
}));

const FUNCTION = 'def process(df):\n    out = df[df["mag"] < 21].copy()\n    out["flux2"] = out["flux"] * 2\n    return out\n';
const CONE = { type: 'cone', ra: 40, dec: 10, radiusArcsec: 3600 };

function catalogSpec(path: string, extra: Record<string, unknown> = {}, source = FUNCTION): Record<string, unknown> {
  return {
    name: 'flux over a cone',
    kind: 'catalog',
    backend: 'local',
    source: {
      notebookPath: 'work/catalog.ipynb',
      catalog: { path, region: CONE, columns: ['id', 'ra', 'dec', 'mag', 'flux'], function: { name: 'process', source }, ...extra },
    },
    resources: { cpus: 2, memoryMiB: 2048, walltimeSeconds: 600 },
  };
}

/** Rows of an Arrow IPC file, read independently with pyarrow. */
function arrowRows(bytes: Buffer): { rows: number; columns: string[] } {
  const out = execFileSync(
    PYTHON,
    [
      '-c',
      'import sys, json, pyarrow.ipc as ipc, pyarrow as pa\nt = ipc.open_file(pa.BufferReader(sys.stdin.buffer.read())).read_all()\nprint(json.dumps({"rows": t.num_rows, "columns": t.column_names}))',
    ],
    { input: bytes },
  );
  return JSON.parse(out.toString());
}

describe('catalog runs through the API', () => {
  let t: TestApp;
  let catalog: string;
  beforeAll(async () => {
    catalog = fixtureCatalog();
    // the survey's catalogs are in a site catalog folder, reached by absolute path or through a
    // link in the user's Jupyter folder
    t = await makeApp(
      { USER_BATCH_GROUPS: '', USER_BATCH_PYTHON: PYTHON, USER_BATCH_CATALOG_ROOTS: catalog },
      { runnerCommand: [PYTHON, '-m', 'user_batch.runner'], pollIntervalMs: 200 },
    );
    mkdirSync(join(t.config.rootDir, 'data'), { recursive: true });
    symlinkSync(catalog, join(t.config.rootDir, 'data', 'synthetic'));
  }, BUILD_TIMEOUT);
  afterAll(async () => {
    await t.app.close();
  });

  it('plans a run: partitions, rows, bytes and core-hours before anything runs, and whether it fits the quota', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/catalogs/plan',
      payload: { path: 'data/synthetic', region: CONE, columns: ['ra', 'dec', 'mag'] },
    });
    expect(res.statusCode).toBe(200);
    const plan = res.json();
    expect(plan.catalog).toMatchObject({ name: expect.any(String), raColumn: 'ra', decColumn: 'dec', totalPartitions: 10 });
    expect(plan.totals.partitions).toBeGreaterThan(0);
    expect(plan.totals.partitions).toBeLessThan(10);
    expect(plan.totals.rows).toBe(plan.partitions.reduce((n: number, p: { rows: number }) => n + p.rows, 0));
    expect(plan.estimate.coreHours).toBeGreaterThan(0);
    expect(plan.quota).toMatchObject({
      fits: true,
      message: expect.stringMatching(/^Estimated [<\d.]+ core-hours of the [\d.]+ you have left\.$/),
    });
  });

  it.each([
    ['a folder that is not a catalog', { path: 'data' }, 400, /^.*data is not a HATS catalog: partition_info\.csv is missing/],
    [
      'a region out of range',
      { path: 'data/synthetic', region: { type: 'cone', ra: 10, dec: 95, radiusArcsec: 10 } },
      400,
      /dec must be between -90 and 90 degrees; got 95/,
    ],
    ['a column the catalog does not have', { path: 'data/synthetic', columns: ['magnitude'] }, 400, /"magnitude".*Available columns/],
    [
      'a folder outside the Jupyter root and the catalog folders',
      { path: '/etc' },
      400,
      /^Catalogs are read from your Jupyter folder or the site's catalog folders \(\/.*\); \/etc is elsewhere\.$/,
    ],
    ['a folder that does not exist', { path: 'nowhere' }, 400, /^There is no catalog folder at nowhere/],
  ])('refuses to plan %s with a sentence', async (_what, payload, status, message) => {
    const res = await t.app.inject({ method: 'POST', url: '/api/catalogs/plan', payload });
    expect(res.statusCode).toBe(status);
    expect(res.json().error).toMatch(message);
  });

  it('runs a function over the cone: progress per partition, a preview, the result catalog with a sha256 per file in provenance', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: catalogSpec(catalog) });
    expect(res.statusCode).toBe(201);
    const job = res.json<Job>();
    expect(job.kind).toBe('catalog');
    const done = await waitForState(t.app, job.id, ['succeeded', 'failed', 'cancelled'], 180_000);
    expect(done.state).toBe('succeeded');
    const prov = (await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/provenance` })).json();
    const planned = prov.catalog.plan;
    expect(done.progress).toEqual({ total: planned.totals.partitions, done: planned.totals.partitions, failed: 0 });
    const parts = (await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/partitions` })).json().partitions;
    expect(parts.map((p: { state: string }) => p.state)).toEqual(Array(planned.totals.partitions).fill('done'));
    const preview = await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/preview` });
    expect(preview.headers['content-type']).toBe('application/vnd.apache.arrow.file');
    const table = arrowRows(preview.rawPayload);
    expect(table.rows).toBeGreaterThan(0);
    expect(table.rows).toBeLessThanOrEqual(20);
    expect(table.columns).toEqual(expect.arrayContaining(['id', 'ra', 'dec', 'mag', 'flux', 'flux2']));
    // provenance: what was read, the function, the output files with their hashes
    expect(prov.catalog.run).toMatchObject({ function: { name: 'process', source: FUNCTION } });
    expect(prov.code).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'function', role: 'main' })]));
    const files = prov.catalog.run.output.files as { path: string; sha256: string }[];
    expect(files.length).toBeGreaterThan(2);
    for (const f of files.slice(0, 5)) {
      const abs = f.path.startsWith('/') ? f.path : join(prov.catalog.run.output.path, f.path);
      expect(createHash('sha256').update(readFileSync(abs)).digest('hex')).toBe(f.sha256);
    }
    expect(files.some(f => f.path.endsWith('partition_info.csv'))).toBe(true);
  }, 200_000);

  it('names the partition that failed, with its traceback, and keeps the others', async () => {
    const failing = 'def process(df, pixel):\n    if pixel.pixel == FAIL_AT:\n        raise ValueError("bad pixel")\n    return df\n';
    const plan = (
      await t.app.inject({ method: 'POST', url: '/api/catalogs/plan', payload: { path: 'data/synthetic', region: CONE } })
    ).json();
    const victim = plan.partitions[0];
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/jobs',
      payload: catalogSpec('data/synthetic', { setupSource: `FAIL_AT = ${victim.pixel}` }, failing),
    });
    const done = await waitForState(t.app, res.json<Job>().id, ['succeeded', 'failed', 'cancelled'], 180_000);
    expect(done.state).toBe('failed');
    expect(done.stateReason).toContain(`partition Norder=${victim.order} Npix=${victim.pixel} failed: ValueError: bad pixel`);
    expect(done.error?.traceback).toContain('raise ValueError("bad pixel")');
    const parts = (await t.app.inject({ method: 'GET', url: `/api/jobs/${done.id}/partitions` })).json().partitions as {
      pixel: number;
      state: string;
    }[];
    expect(parts.filter(p => p.state === 'failed').map(p => p.pixel)).toEqual([victim.pixel]);
    expect(done.progress).toMatchObject({ failed: 1, done: plan.totals.partitions - 1 });
  }, 200_000);

  it('refuses a spec whose function source does not define the function it names', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: catalogSpec('data/synthetic', {}, 'x = 1\n') });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain('the function source does not define "def process(df): ..."');
  });
});
void REPO;
