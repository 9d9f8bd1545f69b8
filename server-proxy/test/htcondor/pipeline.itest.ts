/**
 * Pipeline runs on the REAL pool made by bin/condor-pool, through the API: the proxy plans the
 * graph, the htcondor backend submits the runner as a local-universe job of the pool's user, and
 * the runner hands the planned graph to `bps submit` (HTCondor plugin), whose DAG runs the quanta
 * on the pool. Run by `bin/test condor`; by hand:
 *   bin/condor-pool start && cd server-proxy && npm run build && npx jest --runInBand --testMatch '**\/test/htcondor/pipeline.itest.ts'
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Job, PipelinePlan, PipelineProvenanceFile, PipelineStatus } from '@user-batch/contract';
import { buildApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { waitFor, waitForState } from '../helpers';

const REPO = join(__dirname, '..', '..', '..');
const CONDOR_CMD = join(REPO, 'bin', 'condor-cmd');
const PYTHON = join(REPO, '.venv', 'bin', 'python');
/** BPS, the DAG and the LSST stack starting per quantum: allow for a busy 2-core machine. */
const SLOW = 600_000;
const DETECTORS = 2;
/** The demo pipeline's first addend (demo/pipelines/add.yaml: addA +10, then addB +1, overridden here). */
const ADD_A = 10;

function poolEnv(): Record<string, string> {
  const out = execFileSync(join(REPO, 'bin', 'condor-pool'), ['env'], { encoding: 'utf8' });
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map(line => /^(\w+)=(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map(m => [m[1], m[2]]),
  );
}
const POOL = poolEnv();
const UID = Number(POOL.CONDOR_POOL_UID);
const condor = (tool: string, ...args: string[]): string => execFileSync(CONDOR_CMD, [tool, ...args], { encoding: 'utf8' });

/** The runner, BPS and the quanta run as the pool's user: it must write the butler repo. */
function openToPoolUser(path: string): void {
  chmodSync(path, 0o777);
  if (!statSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) openToPoolUser(join(path, name));
}

/** One dataset of a collection, read back with the butler. */
function butlerGet(repo: string, datasetType: string, detector: number, collection: string): number[] {
  const script =
    'import sys, json\nfrom lsst.daf.butler import Butler\nb = Butler.from_config(sys.argv[1])\n' +
    'print(json.dumps(b.get(sys.argv[2], instrument="DEMO", detector=int(sys.argv[3]), collections=sys.argv[4]).tolist()))';
  return JSON.parse(execFileSync(PYTHON, ['-c', script, repo, datasetType, String(detector), collection], { timeout: 120_000 }).toString());
}
const input = (detector: number): number[] => [0, 1, 2, 3, 4].map(i => i + 100 * detector);

describe('pipeline runs on a real HTCondor pool through BPS', () => {
  const dir = mkdtempSync(join(POOL.USER_BATCH_CONDOR_SHARED, 'itest-pipeline-'));
  const root = join(dir, 'root');
  const repo = join(root, 'butler-repo');
  let app: FastifyInstance;

  const definition = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    file: 'pipelines/add.yaml',
    butlerRepo: 'butler-repo',
    inputCollections: ['demo/raw'],
    ...extra,
  });
  const spec = (name: string, pipeline: Record<string, unknown>): Record<string, unknown> => ({
    name,
    kind: 'pipeline',
    backend: 'htcondor',
    account: 'g_dp02',
    source: { notebookPath: 'pipelines/add.yaml', pipeline },
    resources: { cpus: 1, memoryMiB: 512, walltimeSeconds: 900 },
  });
  async function planAndSubmit(name: string, pipeline: Record<string, unknown>): Promise<{ job: Job; plan: PipelinePlan }> {
    const planned = await app.inject({ method: 'POST', url: '/api/pipelines/plan', payload: { name, pipeline, backend: 'htcondor' } });
    expect(planned.statusCode).toBe(200);
    const plan = planned.json<PipelinePlan>();
    const res = await app.inject({ method: 'POST', url: '/api/jobs', payload: spec(name, { ...pipeline, planId: plan.planId }) });
    expect(res.statusCode).toBe(201);
    return { job: res.json<Job>(), plan };
  }
  const status = async (id: string): Promise<PipelineStatus> =>
    (await app.inject({ method: 'GET', url: `/api/jobs/${id}/pipeline` })).json<PipelineStatus>();
  /** Label, accounting group and user of each job BPS submitted for an output run. */
  const bpsJobs = (outputRun: string, tool: 'condor_q' | 'condor_history'): string[][] =>
    condor(
      tool,
      ...(tool === 'condor_q' ? ['-allusers'] : []),
      '-constraint',
      `bps_run == "${outputRun.replaceAll('/', '_')}"`,
      '-af',
      'bps_job_label',
      'AcctGroup',
      'AcctGroupUser',
    )
      .split('\n')
      .filter(line => line.trim())
      .map(line => line.split(/\s+/));

  beforeAll(async () => {
    chmodSync(dir, 0o755);
    mkdirSync(join(root, 'pipelines'), { recursive: true });
    copyFileSync(join(REPO, 'demo', 'pipelines', 'add.yaml'), join(root, 'pipelines', 'add.yaml'));
    execFileSync(PYTHON, ['-m', 'user_batch.pipeline_demo', 'make-repo', repo, '--detectors', String(DETECTORS)], {
      cwd: REPO,
      timeout: SLOW,
    });
    openToPoolUser(repo);
    const siteFile = join(dir, 'site.json');
    writeFileSync(
      siteFile,
      JSON.stringify({
        backends: [
          { name: 'local', label: 'This server', default: true },
          {
            name: 'htcondor',
            label: 'HTCondor pool',
            type: 'htcondor',
            commandPrefix: [CONDOR_CMD],
            stagingDir: POOL.USER_BATCH_CONDOR_SHARED,
            python: PYTHON,
            jobOwner: { uid: UID, gid: UID },
          },
        ],
        pollIntervalMs: 500,
      }),
    );
    writeFileSync(join(dir, 'quotas.yaml'), 'default: { concurrentJobs: 10, concurrentCores: 20, coreHours: 100 }\n');
    const env = {
      USER_BATCH_DATA_DIR: join(dir, 'data'),
      USER_BATCH_ROOT_DIR: root,
      USER_BATCH_USER: 'alice',
      USER_BATCH_GROUPS: 'g_dp02',
      USER_BATCH_CONFIG: siteFile,
      USER_BATCH_QUOTA_FILE: join(dir, 'quotas.yaml'),
      USER_BATCH_PYTHON: PYTHON,
    };
    app = await buildApp({ ...loadConfig(env), logLevel: 'silent' }, { logger: false });
    await app.ready();
  }, SLOW);
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'runs the planned graph with bps submit, charges the job account to each pool job, and the outputs are in the butler',
    async () => {
      const { job, plan } = await planAndSubmit(
        'add on the pool',
        definition({ configOverrides: [{ label: 'addB', field: 'addend', value: '5' }] }),
      );
      // the runner is told to use BPS, and who is charged
      const file = JSON.parse(readFileSync(join(dir, 'data', 'jobs', job.id, 'pipeline.json'), 'utf8')) as Record<string, unknown>;
      expect(file).toMatchObject({ engine: 'bps', user: 'alice', account: 'g_dp02', outputRun: plan.plan.outputRun });
      expect(readFileSync(join(dir, 'data', 'jobs', job.id, 'job.sub'), 'utf8')).toMatch(/^universe = local$/m);

      const done = await waitForState(app, job.id, ['succeeded', 'failed', 'cancelled', 'lost'], SLOW);
      expect({ state: done.state, reason: done.stateReason }).toEqual({ state: 'succeeded', reason: null });
      const seen = await status(job.id);
      // what ran is what was estimated: the same quanta per label
      expect(seen.progress?.labels.map(l => [l.label, l.succeeded, l.failed, l.blocked, l.quanta])).toEqual(
        plan.plan.labels.map(l => [l.label, l.quanta, 0, 0, l.quanta]),
      );
      expect(seen.outputs).toEqual(
        expect.arrayContaining([
          { datasetType: 'demo_a', count: DETECTORS },
          { datasetType: 'demo_b', count: DETECTORS },
        ]),
      );
      for (let d = 0; d < DETECTORS; d++) {
        expect(butlerGet(repo, 'demo_b', d, plan.plan.outputRun)).toEqual(input(d).map(v => v + ADD_A + 5));
      }
      // every pool job of the workflow (init, each quantum, final) carried the account and the user
      const history = bpsJobs(plan.plan.outputRun, 'condor_history').filter(row => row[0] !== 'undefined');
      expect(new Set(history.map(row => row[0]))).toEqual(new Set(['pipetaskInit', 'addA', 'addB', 'finalJob']));
      expect(new Set(history.map(row => `${row[1]} ${row[2]}`))).toEqual(new Set(['g_dp02 alice']));
      // provenance: the engine, its submit folder (on disk), the override, the graph that was planned
      const prov = (await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/provenance` })).json<{
        pipeline: { run: PipelineProvenanceFile };
      }>();
      const run = prov.pipeline.run;
      expect(run).toMatchObject({ status: 'succeeded', engine: 'bps', outputRun: plan.plan.outputRun });
      expect(run.configOverrides).toEqual([{ label: 'addB', field: 'addend', value: '5' }]);
      expect(run.expandedPipeline).toContain('addend');
      expect(statSync(run.bps?.submitPath ?? '').isDirectory()).toBe(true);
      expect(run.bps?.graph?.sha256).toMatch(/^[0-9a-f]{64}$/);
    },
    SLOW,
  );

  it(
    'cancel removes the BPS workflow from the pool and ends the job cancelled',
    async () => {
      const { job, plan } = await planAndSubmit(
        'slow add',
        definition({ configOverrides: [{ label: 'addA', field: 'sleepSeconds', value: '120' }] }),
      );
      // the workflow is on the pool: its DAGMan job (and soon its quanta) carry the output run
      await waitFor(() => bpsJobs(plan.plan.outputRun, 'condor_q').length > 0 || null, 'the BPS workflow to reach the pool', SLOW);
      const res = await app.inject({ method: 'POST', url: `/api/jobs/${job.id}/cancel` });
      expect(res.statusCode).toBeLessThan(300);
      const done = await waitForState(app, job.id, ['succeeded', 'failed', 'cancelled', 'lost'], SLOW);
      expect(done.state).toBe('cancelled');
      await waitFor(() => bpsJobs(plan.plan.outputRun, 'condor_q').length === 0 || null, "the workflow's jobs to leave the queue", 120_000);
      const run = JSON.parse(readFileSync(join(dir, 'data', 'jobs', job.id, 'pipeline-provenance.json'), 'utf8')) as PipelineProvenanceFile;
      expect(run).toMatchObject({ status: 'cancelled', engine: 'bps' });
    },
    SLOW,
  );
});
