/**
 * Pipeline runs through the API, with the real planner (`python -m user_batch.pipeline_plan`),
 * the real runner (`pipetask` on the planned graph) and a real butler repo made by the demo
 * (`python -m user_batch.pipeline_demo make-repo`), reused by every test of this file.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job, PipelinePlan, PipelineStatus } from '@user-batch/contract';
import { loadConfig } from '../src/config';
import { PYTHON, REPO } from './catalog/helpers';
import { makeApp, tempDir, type TestApp, waitFor, writtenState } from './helpers';

/** Making the repo and building graphs start the LSST stack (seconds each): allow for a busy machine. */
const SLOW = 300_000;
const DETECTORS = 4;
const ALICE = { 'x-user-batch-secret': 's', 'x-auth-request-user': 'alice' };
const BOB = { 'x-user-batch-secret': 's', 'x-auth-request-user': 'bob' };

describe('pipeline runs through the API', () => {
  let t: TestApp;
  let dir: string;
  let repo: string;

  /** The demo pipeline over the demo repo, from a file in alice's Jupyter folder. */
  const definition = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    file: 'pipelines/add.yaml',
    butlerRepo: repo,
    inputCollections: ['demo/raw'],
    ...extra,
  });
  const spec = (pipeline: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    name: 'add run',
    kind: 'pipeline',
    backend: 'local',
    source: { notebookPath: 'pipelines/add.yaml', pipeline },
    resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 900 },
    ...extra,
  });
  const plan = (pipeline: Record<string, unknown>, headers = ALICE, name = 'add run') =>
    t.app.inject({ method: 'POST', url: '/api/pipelines/plan', headers, payload: { name, pipeline } });
  const submit = (body: Record<string, unknown>, headers = ALICE) =>
    t.app.inject({ method: 'POST', url: '/api/jobs', headers, payload: body });
  const status = async (id: string, headers = ALICE) => t.app.inject({ method: 'GET', url: `/api/jobs/${id}/pipeline`, headers });
  const ended = (id: string): Promise<Job> =>
    waitFor(
      async () => {
        const job = (await t.app.inject({ method: 'GET', url: `/api/jobs/${id}`, headers: ALICE })).json<Job>();
        return ['succeeded', 'failed', 'cancelled'].includes(job.state) ? job : null;
      },
      `job ${id} to end`,
      SLOW,
    );
  const plansKept = (): number => (existsSync(t.app.pipelines.plansDir) ? readdirSync(t.app.pipelines.plansDir).length : 0);
  /** One dataset of the output collection, read back with the butler. */
  const butlerGet = (datasetType: string, detector: number, collection: string): number[] =>
    JSON.parse(
      execFileSync(
        PYTHON,
        [
          '-c',
          'import sys, json\nfrom lsst.daf.butler import Butler\nb = Butler.from_config(sys.argv[1])\n' +
            'print(json.dumps(b.get(sys.argv[2], instrument="DEMO", detector=int(sys.argv[3]), collections=sys.argv[4]).tolist()))',
          repo,
          datasetType,
          String(detector),
          collection,
        ],
        { timeout: 120_000 },
      ).toString(),
    );

  beforeAll(async () => {
    dir = tempDir('ub-pipeline-');
    const repoRoot = join(dir, 'repos');
    repo = join(repoRoot, 'demo');
    mkdirSync(repoRoot, { recursive: true });
    execFileSync(PYTHON, ['-m', 'user_batch.pipeline_demo', 'make-repo', repo, '--detectors', String(DETECTORS)], {
      cwd: REPO,
      timeout: SLOW,
    });
    const root = join(dir, 'root');
    mkdirSync(join(root, 'pipelines'), { recursive: true });
    copyFileSync(join(REPO, 'demo', 'pipelines', 'add.yaml'), join(root, 'pipelines', 'add.yaml'));
    const site = join(dir, 'site.json');
    writeFileSync(join(dir, 'pw'), 'not used\n');
    writeFileSync(
      site,
      JSON.stringify({
        backends: [
          { name: 'local', label: 'Here', default: true },
          // never reached: a pipeline is refused before anything is submitted to it
          {
            name: 'dask',
            label: 'Dask',
            type: 'dask-gateway',
            address: 'http://127.0.0.1:9',
            auth: { type: 'basic', passwordFile: join(dir, 'pw') },
          },
        ],
        pipelines: {
          standard: [
            {
              name: 'demo-add',
              pipeline: join(REPO, 'demo', 'pipelines', 'add.yaml'),
              description: 'Two chained additions',
              inputCollections: ['demo/raw'],
            },
          ],
          secondsPerQuantum: 2,
          taskSeconds: { addB: 10 },
          clusterDimensions: ['detector'],
        },
      }),
    );
    t = await makeApp(
      {
        USER_BATCH_AUTH: 'trusted-header',
        USER_BATCH_SECRET: 's',
        USER_BATCH_GROUPS: '',
        USER_BATCH_PYTHON: PYTHON,
        USER_BATCH_CONFIG: site,
        USER_BATCH_DATA_DIR: join(dir, 'data'),
        USER_BATCH_ROOT_DIR: root,
        USER_BATCH_PIPELINE_REPO_ROOTS: repoRoot,
      },
      { runnerCommand: [PYTHON, '-m', 'user_batch.runner'], pollIntervalMs: 200 },
    );
  }, SLOW);
  afterAll(async () => {
    await t?.app.close();
  });

  it("lists the site's standard pipelines for the dialog", async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/pipelines/standard', headers: ALICE });
    expect(res.statusCode).toBe(200);
    expect(res.json().pipelines).toEqual([
      {
        name: 'demo-add',
        description: 'Two chained additions',
        pipeline: join(REPO, 'demo', 'pipelines', 'add.yaml'),
        inputCollections: ['demo/raw'],
        dataQuery: null,
      },
    ]);
  });

  it(
    'plans a run: quanta per task label, the output run, and core-hours from the per-task costs against the quota',
    async () => {
      const res = await plan(definition());
      expect(res.statusCode).toBe(200);
      const answer = res.json<PipelinePlan>();
      expect(answer.plan.labels.map(l => [l.label, l.quanta])).toEqual([
        ['addA', DETECTORS],
        ['addB', DETECTORS],
      ]);
      expect(answer.plan.totalQuanta).toBe(2 * DETECTORS);
      expect(answer.plan.outputCollection).toBe('u/alice/add_run');
      expect(answer.plan.outputRun).toMatch(/^u\/alice\/add_run\/\d{8}T\d{6}Z$/);
      // addA at the default 2 s per quantum, addB at its configured 10 s
      expect(answer.estimate.coreHours).toBeCloseTo((DETECTORS * 2 + DETECTORS * 10) / 3600, 9);
      expect(answer.estimate.secondsPerQuantum).toBe(6);
      expect(answer.quota).toMatchObject({
        fits: true,
        message: expect.stringMatching(/^Estimated [<\d.]+ core-hours of the [\d.]+ you have left\.$/),
      });
    },
    SLOW,
  );

  it(
    'plans a standard pipeline with a data query and a label subset',
    async () => {
      const res = await plan({
        standard: 'demo-add',
        butlerRepo: repo,
        inputCollections: ['demo/raw'],
        labels: ['first'],
        dataQuery: "instrument='DEMO' AND detector IN (0, 1)",
      });
      expect(res.statusCode).toBe(200);
      expect(res.json<PipelinePlan>().plan.labels.map(l => [l.label, l.quanta])).toEqual([['addA', 2]]);
    },
    SLOW,
  );

  it.each([
    ['a bad data query', { dataQuery: 'detector IN (0, 1' }, /data query .* is not valid/],
    ['an unknown input collection', { inputCollections: ['no/such/collection'] }, /input collection 'no\/such\/collection' does not exist/],
    [
      'a bad config override',
      { configOverrides: [{ label: 'addA', field: 'noSuchField', value: '1' }] },
      /addA:noSuchField=1 cannot be applied/,
    ],
  ])(
    "refuses %s with the planner's sentence, before anything is stored",
    async (_what, change, sentence) => {
      const before = writtenState(t.app, dir);
      const plansBefore = plansKept();
      const planned = await plan(definition(change));
      expect(planned.statusCode).toBe(400);
      expect(planned.json()).toMatchObject({ code: 'pipeline_plan_failed', error: expect.stringMatching(sentence) });
      expect(planned.json().details.detail).toEqual(expect.any(String));
      // the same at submit, where the graph is built when no planId is given
      const submitted = await submit(spec(definition(change)));
      expect(submitted.statusCode).toBe(400);
      expect(submitted.json().error).toBe(planned.json().error);
      expect(writtenState(t.app, dir)).toEqual(before);
      expect(plansKept()).toBe(plansBefore);
    },
    SLOW,
  );

  it('refuses a butler repo outside the allowed folders, saying the same whether it exists or not', async () => {
    const existing = await plan(definition({ butlerRepo: '/etc' }));
    const missing = await plan(definition({ butlerRepo: '/no/such/repo' }));
    expect(existing.statusCode).toBe(403);
    expect(existing.json().code).toBe('repo_not_allowed');
    expect(existing.json().error).toMatch(/your Jupyter folder or the site's repository folders/);
    expect(missing.statusCode).toBe(403);
    expect(missing.json().error.replace('/no/such/repo', 'X')).toBe(existing.json().error.replace('/etc', 'X'));
  });

  it(
    'gives two plans made at the same moment different output runs (a run is named to the second)',
    async () => {
      const [a, b] = await Promise.all([plan(definition()), plan(definition())]);
      expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
      const runs = [a, b].map(r => r.json<PipelinePlan>().plan.outputRun);
      expect(runs[0]).not.toBe(runs[1]);
      expect(runs.every(r => r.startsWith('u/alice/add_run/'))).toBe(true);
    },
    SLOW,
  );

  it('answers 404 for a standard pipeline the site does not offer', async () => {
    const res = await plan({ standard: 'nope', butlerRepo: repo, inputCollections: ['demo/raw'] });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'unknown_standard_pipeline', error: expect.stringContaining('demo-add') });
  });

  it('refuses a pipeline on a Dask Gateway backend with a sentence, at plan and at submit, storing nothing', async () => {
    const before = writtenState(t.app, dir);
    const res = await submit(spec(definition(), { backend: 'dask' }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/\(Dask Gateway\) does not run pipelines: choose the local backend/);
    const planned = await t.app.inject({
      method: 'POST',
      url: '/api/pipelines/plan',
      headers: ALICE,
      payload: { name: 'add run', pipeline: definition(), backend: 'dask' },
    });
    expect(planned.statusCode).toBe(400);
    expect(planned.json().error).toBe(res.json().error);
    expect(writtenState(t.app, dir)).toEqual(before);
  });

  it(
    'runs the planned graph: the quanta that ran are the ones planned, the outputs are in the butler, and the plan runs once',
    async () => {
      const planned = (
        await plan(definition({ configOverrides: [{ label: 'addA', field: 'addend', value: '100' }] }))
      ).json<PipelinePlan>();
      const body = spec(definition({ configOverrides: [{ label: 'addA', field: 'addend', value: '100' }], planId: planned.planId }));

      // another user can neither take the plan nor see that it exists
      const stolen = await submit(body, BOB);
      expect(stolen.statusCode).toBe(400);
      expect(stolen.json().code).toBe('plan_not_found');
      // a definition that differs from the planned one is refused
      const changed = await submit(spec(definition({ planId: planned.planId })));
      expect(changed.statusCode).toBe(400);
      expect(changed.json().error).toMatch(/differs from the plan .*configOverrides/);

      const res = await submit(body);
      expect(res.statusCode).toBe(201);
      // the local backend runs the graph with pipetask (the site's clustering is for BPS only)
      const file = JSON.parse(readFileSync(join(t.config.dataDir, 'jobs', res.json<Job>().id, 'pipeline.json'), 'utf8'));
      expect(file).toMatchObject({ engine: 'pipetask', user: 'alice', account: 'alice', outputRun: planned.plan.outputRun });
      expect(file.clusterDimensions).toBeUndefined();
      const job = await ended(res.json<Job>().id);
      expect(job.state).toBe('succeeded');
      expect(job.progress).toMatchObject({ total: planned.plan.totalQuanta, done: planned.plan.totalQuanta, failed: 0 });

      const st = (await status(job.id)).json<PipelineStatus>();
      expect(st.plan?.outputRun).toBe(planned.plan.outputRun);
      expect(st.progress?.labels.map(l => [l.label, l.succeeded, l.failed])).toEqual([
        ['addA', DETECTORS, 0],
        ['addB', DETECTORS, 0],
      ]);
      expect(st.outputs).toEqual(expect.arrayContaining([{ datasetType: 'demo_b', count: DETECTORS }]));
      // input_array(2) = [200..204], + 100 (the override) + 1
      expect(butlerGet('demo_b', 2, planned.plan.outputRun)).toEqual([301, 302, 303, 304, 305]);

      const again = await submit(body);
      expect(again.statusCode).toBe(409);
      expect(again.json().error).toMatch(/already submitted/);

      const bobSees = await status(job.id, BOB);
      expect(bobSees.statusCode).toBe(404);

      const prov = (await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/provenance`, headers: ALICE })).json();
      expect(prov.pipeline.plan.graphSha256).toBe(planned.plan.graphSha256);
      expect(prov.pipeline.run).toMatchObject({ outputRun: planned.plan.outputRun, butlerRepo: repo });
      // the pipeline file, content-addressed, as it was read for the graph
      const yaml = readFileSync(join(t.config.rootDir, 'pipelines', 'add.yaml'), 'utf8');
      const entry = prov.code.find((c: { kind: string }) => c.kind === 'pipeline');
      expect(entry).toMatchObject({ sha256: createHash('sha256').update(yaml).digest('hex') });
      const code = await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/code/${entry.sha256}`, headers: ALICE });
      expect(code.body).toBe(yaml);

      // submitted again from its record: the same overrides, a new graph into a new output run
      expect((await t.app.inject({ method: 'POST', url: `/api/jobs/${job.id}/rerun`, headers: BOB })).statusCode).toBe(404);
      const rerun = await t.app.inject({ method: 'POST', url: `/api/jobs/${job.id}/rerun`, headers: ALICE });
      expect(rerun.statusCode).toBe(201);
      const second = await ended(rerun.json<Job>().id);
      expect(second.state).toBe('succeeded');
      const secondRun = (await status(second.id)).json<PipelineStatus>().plan?.outputRun;
      expect(secondRun).toMatch(new RegExp(`^${planned.plan.outputCollection}/`));
      expect(secondRun).not.toBe(planned.plan.outputRun);
      expect(butlerGet('demo_b', 2, secondRun!)).toEqual([301, 302, 303, 304, 305]);
    },
    SLOW,
  );

  it(
    'ends failed when a quantum fails, naming its data ID, with the quanta downstream blocked',
    async () => {
      const res = await submit(
        spec(definition({ configOverrides: [{ label: 'addA', field: 'failOnDetectors', value: '[1]' }] }), { name: 'add fails' }),
      );
      expect(res.statusCode).toBe(201);
      const job = await ended(res.json<Job>().id);
      expect(job.state).toBe('failed');
      const st = (await status(job.id)).json<PipelineStatus>();
      expect(st.progress?.failures).toEqual([
        expect.objectContaining({
          label: 'addA',
          dataId: expect.objectContaining({ detector: 1 }),
          exception: expect.stringMatching(/InjectedFailure/),
        }),
      ]);
      expect(st.progress?.labels.find(l => l.label === 'addB')).toMatchObject({ blocked: 1, succeeded: DETECTORS - 1 });
    },
    SLOW,
  );

  it(
    'answers not_a_pipeline_run for a job of another kind',
    async () => {
      const res = await submit({
        name: 'cells',
        kind: 'cells',
        backend: 'local',
        source: { notebookPath: 'a.ipynb', cells: [{ id: 'c1', role: 'main', source: 'pass' }] },
      });
      expect(res.statusCode).toBe(201);
      const id = res.json<Job>().id;
      const st = await status(id);
      expect(st.statusCode).toBe(400);
      expect(st.json().code).toBe('not_a_pipeline_run');
      await t.app.inject({ method: 'POST', url: `/api/jobs/${id}/cancel`, headers: ALICE });
      await ended(id);
    },
    SLOW,
  );

  it(
    'removes plans left unsubmitted for over an hour: their planId no longer runs',
    async () => {
      const old = (await plan(definition())).json<PipelinePlan>();
      const hoursAgo = new Date(Date.now() - 2 * 3600_000);
      utimesSync(join(t.app.pipelines.plansDir, old.planId), hoursAgo, hoursAgo);
      expect((await plan(definition())).statusCode).toBe(200); // any plan request clears old ones
      const res = await submit(spec(definition({ planId: old.planId })));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'plan_not_found', error: expect.stringMatching(/kept for an hour/) });
    },
    SLOW,
  );

  it(
    'refuses a run whose estimate does not fit the quota, saying how to cost less, and keeps its plan for a later submit',
    async () => {
      const quotaFile = join(dir, 'quota.json');
      writeFileSync(quotaFile, JSON.stringify({ users: { carol: { coreHours: 1 } } }));
      const site = join(dir, 'site-costly.json');
      writeFileSync(site, JSON.stringify({ pipelines: { secondsPerQuantum: 3600 } }));
      const costly = await makeApp(
        {
          USER_BATCH_USER: 'carol',
          USER_BATCH_GROUPS: '',
          USER_BATCH_PYTHON: PYTHON,
          USER_BATCH_CONFIG: site,
          USER_BATCH_QUOTA_FILE: quotaFile,
          USER_BATCH_DATA_DIR: join(dir, 'data-costly'),
          USER_BATCH_ROOT_DIR: t.config.rootDir,
          USER_BATCH_PIPELINE_REPO_ROOTS: join(dir, 'repos'),
        },
        { runnerCommand: [PYTHON, '-m', 'user_batch.runner'] },
      );
      try {
        const res = await costly.app.inject({
          method: 'POST',
          url: '/api/pipelines/plan',
          payload: { name: 'add run', pipeline: definition() },
        });
        expect(res.statusCode).toBe(200);
        const planned = res.json<PipelinePlan>();
        expect(planned.estimate.coreHours).toBe(2 * DETECTORS);
        expect(planned.quota).toMatchObject({
          fits: false,
          message: expect.stringMatching(/narrow the data query or run fewer task labels/),
        });
        const body = spec(definition({ planId: planned.planId }), { resources: { cpus: 1, memoryMiB: 2048, walltimeSeconds: 60 } });
        for (let i = 0; i < 2; i++) {
          // the second refusal is again about the quota: the first left the plan unused
          const refused = await costly.app.inject({ method: 'POST', url: '/api/jobs', payload: body });
          expect(refused.statusCode).toBe(422);
          expect(refused.json()).toMatchObject({
            code: 'quota_exceeded',
            error: expect.stringMatching(new RegExp(`this pipeline run \\(${2 * DETECTORS} quanta\\)`)),
          });
        }
        expect((await costly.app.inject({ method: 'GET', url: '/api/jobs' })).json().jobs).toEqual([]);
      } finally {
        await costly.app.close();
      }
    },
    SLOW,
  );
});

describe('pipelines in the site config', () => {
  const siteWith = (pipelines: Record<string, unknown>): string => {
    const file = join(tempDir('ub-pipeline-site-'), 'site.json');
    writeFileSync(file, JSON.stringify({ pipelines }));
    return file;
  };

  it('takes the dimensions BPS clusters quanta by (none unless the site says), and refuses what is not a dimension name', () => {
    expect(loadConfig({ USER_BATCH_CONFIG: siteWith({}) }).pipelines.clusterDimensions).toEqual([]);
    expect(loadConfig({ USER_BATCH_CONFIG: siteWith({ clusterDimensions: ['detector', 'visit'] }) }).pipelines.clusterDimensions).toEqual([
      'detector',
      'visit',
    ]);
    expect(() => loadConfig({ USER_BATCH_CONFIG: siteWith({ clusterDimensions: ['detector: 1'] }) })).toThrow(
      /a dimension name, like detector or visit/,
    );
  });
});
