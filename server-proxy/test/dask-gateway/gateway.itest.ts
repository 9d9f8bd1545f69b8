/**
 * The dask-gateway backend against the REAL gateway of bin/dask-gateway (no fake gateway) and the
 * real job runner. Run by `bin/test dask`, which starts the gateway first; by hand:
 *   bin/dask-gateway start && cd server-proxy && npx jest --runInBand --testMatch '**\/test/dask-gateway/*.itest.ts'
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { Job } from '@user-batch/contract';
import { BUILD_TIMEOUT, fixtureCatalog } from '../catalog/helpers';
import { freePort, tempDir, waitFor, waitForState } from '../helpers';

jest.mock('../../src/catalog/hyparquet-loader', () => ({
  loadHyparquet: () => require('../catalog/native-import').nativeImport('hyparquet'),
}));

const REPO = join(__dirname, '..', '..', '..');
const PYTHON = join(REPO, '.venv', 'bin', 'python');
const GATEWAY = join(REPO, 'bin', 'dask-gateway');

function gatewayEnv(): Record<string, string> {
  const out = execFileSync(GATEWAY, ['env'], { encoding: 'utf8' });
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map(l => /^(\w+)=(.*)$/.exec(l))
      .filter(m => m !== null)
      .map(m => [m[1], m[2]]),
  );
}
const GW = gatewayEnv();
// SimpleAuthenticator takes any user name: one of our own keeps other sessions' clusters apart
const USER = `jest${process.pid}`;
const PASSWORD = readFileSync(GW.USER_BATCH_TEST_GATEWAY_PASSWORD_FILE, 'utf8').trim();

interface ClusterInfo {
  name: string;
  status: string;
  options: Record<string, unknown>;
}
/** The gateway's own view, as the job's user: every cluster, whatever its status. */
async function clusters(): Promise<ClusterInfo[]> {
  const res = await fetch(`${GW.USER_BATCH_TEST_GATEWAY_ADDRESS}/api/v1/clusters/?status=PENDING,RUNNING,STOPPING,STOPPED,FAILED`, {
    headers: { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
  });
  return Object.values((await res.json()) as Record<string, ClusterInfo>);
}
const clustersOf = async (jobId: string): Promise<ClusterInfo[]> => (await clusters()).filter(c => c.options.user_batch_job === jobId);

function cellsSpec(name: string, cells: string[], resources: Record<string, unknown>, backend = 'dask'): Record<string, unknown> {
  return {
    name,
    kind: 'cells',
    backend,
    source: { notebookPath: 'work/dask.ipynb', cells: cells.map((source, i) => ({ id: `c${i}`, role: 'main', source })) },
    resources: { cpus: 1, memoryMiB: 1024, walltimeSeconds: 600, ...resources },
  };
}

async function post(app: FastifyInstance, body: Record<string, unknown>): Promise<Job> {
  const res = await app.inject({ method: 'POST', url: '/api/jobs', payload: body });
  expect(res.json()).toMatchObject({ id: expect.any(String) });
  return res.json<Job>();
}

const logOf = async (app: FastifyInstance, id: string): Promise<string> =>
  (await app.inject({ method: 'GET', url: `/api/jobs/${id}/logs` })).json<{ text: string }>().text;

describe('dask-gateway backend on a real gateway', () => {
  const dir = tempDir('user-batch-dask-');
  let app: FastifyInstance;
  let catalog: string;

  beforeAll(async () => {
    catalog = fixtureCatalog();
    const down = await freePort(); // nothing listens there: an unreachable gateway
    writeFileSync(
      join(dir, 'site.json'),
      JSON.stringify({
        backends: [
          { name: 'local', label: 'This server', default: true },
          {
            name: 'dask',
            label: 'Dask Gateway',
            type: 'dask-gateway',
            address: GW.USER_BATCH_TEST_GATEWAY_ADDRESS,
            proxyAddress: GW.USER_BATCH_TEST_GATEWAY_PROXY_ADDRESS,
            auth: { type: 'basic', passwordFile: GW.USER_BATCH_TEST_GATEWAY_PASSWORD_FILE },
          },
          {
            name: 'dask-down',
            label: 'Gateway that is down',
            type: 'dask-gateway',
            address: `http://127.0.0.1:${down}`,
            auth: { type: 'basic', passwordFile: GW.USER_BATCH_TEST_GATEWAY_PASSWORD_FILE },
          },
        ],
        pollIntervalMs: 300,
      }),
    );
    writeFileSync(
      join(dir, 'quotas.yaml'),
      'default: { concurrentJobs: 10, concurrentCores: 200, coreHours: 1000, daskWorkersPerCluster: 2 }\n',
    );
    const config = loadConfig({
      USER_BATCH_DATA_DIR: join(dir, 'data'),
      USER_BATCH_ROOT_DIR: join(dir, 'root'),
      USER_BATCH_USER: USER,
      USER_BATCH_GROUPS: '',
      USER_BATCH_CONFIG: join(dir, 'site.json'),
      USER_BATCH_QUOTA_FILE: join(dir, 'quotas.yaml'),
      USER_BATCH_PYTHON: PYTHON,
      USER_BATCH_CATALOG_ROOTS: catalog,
    });
    app = await buildApp({ ...config, logLevel: 'silent' }, { logger: false });
    await app.ready();
  }, BUILD_TIMEOUT);
  afterAll(async () => {
    await app.close();
    // never leave a cluster behind, even when a test failed
    const left = (await clusters()).filter(c => c.status === 'PENDING' || c.status === 'RUNNING');
    for (const c of left) {
      await fetch(`${GW.USER_BATCH_TEST_GATEWAY_ADDRESS}/api/v1/clusters/${c.name}`, {
        method: 'DELETE',
        headers: { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
      });
    }
    rmSync(dir, { recursive: true, force: true });
    expect(left.map(c => c.name)).toEqual([]);
  });

  it('runs a cells job on its own cluster through dask_client(), links the dashboard, and stops the cluster at the end', async () => {
    const job = await post(
      app,
      cellsSpec(
        'sum on the gateway',
        [
          'from user_batch import dask_client\nimport dask.array as da\nclient = dask_client()\nclient.wait_for_workers(2, timeout=120)\n' +
            'print("workers", len(client.scheduler_info()["workers"]))\nprint("sum", int(da.ones((2000, 500), chunks=(500, 500)).sum().compute()))',
          // a plain Gateway() in the user's code reaches the same gateway (Dask's config is set)
          'from dask_gateway import Gateway\nimport os\nprint("mine", os.environ["USER_BATCH_DASK_CLUSTER"] in [c.name for c in Gateway().list_clusters()])',
        ],
        { workers: 2, cpus: 1, memoryMiB: 1024 },
      ),
    );
    expect(job.state).toBe('queued');
    expect(job.stateReason).toMatch(/^Starting Dask cluster \S+ on the gateway\.$/);
    const running = await waitForState(app, job.id, ['running', 'failed'], 120_000);
    expect(running.stateReason).toMatch(/^Running on Dask cluster \S+: 2 workers of 1 core and 1024 MiB each\.$/);
    expect(running.dashboardUrl).toMatch(new RegExp(`^${GW.USER_BATCH_TEST_GATEWAY_ADDRESS}/clusters/\\S+/status$`));
    const [cluster] = await clustersOf(job.id);
    // the job's resources, and its share of the quota as the cluster's cap
    expect(cluster.options).toMatchObject({ worker_cores: 1, worker_memory: 1, max_workers: 2, user_batch_job: job.id });
    const done = await waitForState(app, job.id, ['succeeded', 'failed', 'cancelled'], 240_000);
    const log = await logOf(app, job.id);
    expect(done.state).toBe('succeeded');
    expect(log).toContain('workers 2');
    expect(log).toContain('sum 1000000');
    expect(log).toContain('mine True');
    expect(done.dashboardUrl).toBeNull();
    expect((await clustersOf(job.id)).map(c => c.status)).toEqual(['STOPPED']);
    const prov = (await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/provenance` })).json<{
      backend: { ref: Record<string, unknown> };
    }>();
    expect(prov.backend.ref).toMatchObject({ cluster: cluster.name, options: { worker_cores: 1, max_workers: 2 }, clusterStopped: true });
  }, 400_000);

  it('runs a catalog job with LSDB on the gateway cluster: every partition done, the result written, the cluster stopped', async () => {
    const job = await post(app, {
      name: 'catalog on the gateway',
      kind: 'catalog',
      backend: 'dask',
      source: {
        notebookPath: 'work/catalog.ipynb',
        catalog: {
          path: catalog,
          region: { type: 'box', ra: [140, 160], dec: [-10, 10] },
          function: { name: 'process', source: 'def process(df):\n    return df[df["mag"] < 22]\n' },
        },
      },
      resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 900, workers: 2 },
    });
    const done = await waitForState(app, job.id, ['succeeded', 'failed', 'cancelled'], 400_000);
    expect(done.state).toBe('succeeded');
    expect(done.progress?.total).toBeGreaterThan(0);
    expect(done.progress).toEqual({ total: done.progress?.total, done: done.progress?.total, failed: 0 });
    const prov = (await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/provenance` })).json();
    // the driver ran its Dask work on the gateway's cluster, not on a local one
    expect(prov.catalog.run.dask).toMatchObject({ cluster: 'GatewayCluster', workers: 2 });
    expect((await clustersOf(job.id)).map(c => c.status)).toEqual(['STOPPED']);
    const preview = await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/preview` });
    expect(preview.statusCode).toBe(200);
  }, 450_000);

  it('runs script and notebook jobs on clusters of their own too, each stopped at the end', async () => {
    const use = 'from user_batch import dask_client\nclient = dask_client()\nprint("total", client.submit(sum, [20, 22]).result())';
    const script = await post(app, {
      name: 'script on the gateway',
      kind: 'script',
      backend: 'dask',
      source: { notebookPath: 'work/sum.py', script: { content: use } },
      resources: { cpus: 1, memoryMiB: 1024, walltimeSeconds: 600 },
    });
    const notebook = await post(app, {
      name: 'notebook on the gateway',
      kind: 'notebook',
      backend: 'dask',
      source: {
        notebookPath: 'work/sum.ipynb',
        notebook: {
          nbformat: 4,
          nbformat_minor: 5,
          metadata: {},
          cells: [{ cell_type: 'code', id: 'a1', metadata: {}, execution_count: null, outputs: [], source: use }],
        },
      },
      resources: { cpus: 1, memoryMiB: 1024, walltimeSeconds: 600 },
    });
    for (const job of [script, notebook]) {
      const done = await waitForState(app, job.id, ['succeeded', 'failed', 'cancelled'], 240_000);
      expect(done.state).toBe('succeeded');
      expect(await logOf(app, job.id)).toContain('total 42');
      expect((await clustersOf(job.id)).map(c => c.status)).toEqual(['STOPPED']);
    }
  }, 500_000);

  it('a job cannot grow its cluster past its share: the gateway caps a scale() from inside the job', async () => {
    const job = await post(
      app,
      cellsSpec(
        'greedy',
        [
          'from dask_gateway import Gateway\nimport os, time\ncl = Gateway().connect(os.environ["USER_BATCH_DASK_CLUSTER"])\ncl.scale(4)\ntime.sleep(8)\n' +
            'print("workers", len(cl.get_client().scheduler_info()["workers"]))',
        ],
        { workers: 1 },
      ),
    );
    const done = await waitForState(app, job.id, ['succeeded', 'failed', 'cancelled'], 240_000);
    expect(done.state).toBe('succeeded');
    expect(await logOf(app, job.id)).toMatch(/workers 1\b/);
  }, 300_000);

  it('cancel in the middle stops the driver and the cluster', async () => {
    const job = await post(
      app,
      cellsSpec(
        'to cancel',
        ['from user_batch import dask_client\nclient = dask_client()\nprint("ready", flush=True)\nimport time\ntime.sleep(600)'],
        {},
      ),
    );
    await waitFor(async () => ((await logOf(app, job.id)).includes('ready') ? true : null), 'the job to connect', 180_000);
    expect((await clustersOf(job.id)).map(c => c.status)).toEqual(['RUNNING']);
    const res = await app.inject({ method: 'POST', url: `/api/jobs/${job.id}/cancel` });
    expect(res.json<Job>()).toMatchObject({ state: 'cancelled', stateReason: 'Cancelled at your request.' });
    expect((await clustersOf(job.id)).map(c => c.status)).toEqual(['STOPPED']);
  }, 300_000);

  it('options the gateway refuses fail the job with its reason, and no cluster is made', async () => {
    const job = await post(app, cellsSpec('too big', ['print(1)'], { cpus: 64 }));
    expect(job.state).toBe('failed');
    expect(job.stateReason).toBe(
      'The Dask Gateway refused the cluster options: worker_cores must be <= 4.000000, got 64. Ask for fewer cores or less memory per worker.',
    );
    expect(await clustersOf(job.id)).toEqual([]);
  });

  it('an unreachable gateway fails the job with a sentence that says so', async () => {
    const job = await post(app, cellsSpec('nowhere', ['print(1)'], {}, 'dask-down'));
    expect(job.state).toBe('failed');
    expect(job.stateReason).toMatch(
      /^Could not reach the Dask Gateway at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\. It may be down or restarting; try again in a minute, or ask the site's administrators\.$/,
    );
  });

  it('refuses more workers than the quota allows per cluster, before any cluster exists', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/jobs',
      payload: cellsSpec('too many', ['print(1)'], { adaptiveWorkers: { minimum: 1, maximum: 3 } }),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toBe('Dask workers per cluster limit is 2; you asked for 3. Ask for at most 2 workers.');
  });

  it('a gateway restart during a run ends the job with a clear reason, never stuck in running', async () => {
    const job = await post(
      app,
      cellsSpec(
        'across a gateway restart',
        [
          'from user_batch import dask_client\nclient = dask_client()\nprint("ready", flush=True)\nimport time\n' +
            'for i in range(120):\n    client.submit(sum, [i, 1]).result()\n    time.sleep(1)',
        ],
        {},
      ),
    );
    await waitFor(async () => ((await logOf(app, job.id)).includes('ready') ? true : null), 'the job to connect', 180_000);
    execFileSync(GATEWAY, ['stop'], { stdio: 'ignore' });
    execFileSync(GATEWAY, ['start'], { stdio: 'ignore' });
    const done = await waitForState(app, job.id, ['succeeded', 'failed', 'cancelled', 'lost'], 120_000);
    expect(done.state).toBe('failed');
    expect(done.stateReason).toMatch(
      /^The Dask cluster \S+ (is gone|is STOPPED|is FAILED|stopped) while the job ran \(the gateway restarted or the cluster failed\)/,
    );
  }, 400_000);
});
