/**
 * The htcondor backend against the REAL pool made by bin/condor-pool (no fake condor).
 * Run by `bin/test condor`, which starts the pool first; by hand:
 *   bin/condor-pool start && cd server-proxy && npm run build && npx jest --runInBand --testMatch '**\/test/htcondor/*.itest.ts'
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { Job } from '@user-batch/contract';
import { freePort, waitFor, waitForState } from '../helpers';

const REPO = join(__dirname, '..', '..', '..');
const PROXY = join(__dirname, '..', '..');
const CONDOR_CMD = join(REPO, 'bin', 'condor-cmd');
const COUNTING = join(__dirname, 'fixtures', 'counting-condor-cmd');
const PYTHON = join(REPO, '.venv', 'bin', 'python');

function poolEnv(): Record<string, string> {
  const out = execFileSync(join(REPO, 'bin', 'condor-pool'), ['env'], { encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const line of out.trim().split('\n')) {
    const m = /^(\w+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}
const POOL = poolEnv();
const SHARED = POOL.USER_BATCH_CONDOR_SHARED;
const UID = Number(POOL.CONDOR_POOL_UID);

/** condor tools straight through the pool's wrapper (not counted). */
function condor(tool: string, ...args: string[]): string {
  return execFileSync(CONDOR_CMD, [tool, ...args], { encoding: 'utf8' });
}
function clustersFor(jobId: string): number[] {
  const c = `UserBatchJobId == "${jobId}"`;
  const q = JSON.parse(condor('condor_q', '-allusers', '-json', '-constraint', c, '-attributes', 'ClusterId') || '[]') as {
    ClusterId: number;
  }[];
  const h = JSON.parse(condor('condor_history', '-json', '-constraint', c, '-attributes', 'ClusterId') || '[]') as { ClusterId: number }[];
  return [...new Set([...q, ...h].map(a => a.ClusterId))];
}

interface Setup {
  dir: string;
  countFile: string;
  siteFile: string;
}

function setup(): Setup {
  const dir = mkdtempSync(join(SHARED, 'itest-'));
  chmodSync(dir, 0o755); // the job user must reach the job and output folders below
  const countFile = join(dir, 'condor-calls.txt');
  writeFileSync(countFile, '');
  chmodSync(countFile, 0o666);
  const siteFile = join(dir, 'site.json');
  const htcondor = { commandPrefix: [COUNTING, countFile], stagingDir: SHARED, python: PYTHON, jobOwner: { uid: UID, gid: UID } };
  writeFileSync(
    siteFile,
    JSON.stringify({
      backends: [
        { name: 'local', label: 'This server', default: true },
        { name: 'htcondor', label: 'HTCondor pool', type: 'htcondor', ...htcondor },
        // a site mistake: the interpreter does not exist on the execute node, so HTCondor holds the job
        { name: 'htcondor-broken', label: 'Broken', type: 'htcondor', ...htcondor, python: '/nonexistent/python3' },
      ],
      pollIntervalMs: 500,
    }),
  );
  // room for a 100-item sweep (every item may run at once on HTCondor: items × cores)
  writeFileSync(join(dir, 'quotas.yaml'), 'default: { concurrentJobs: 20, concurrentCores: 150, coreHours: 5000 }\n');
  return { dir, countFile, siteFile };
}

function envFor(s: Setup): NodeJS.ProcessEnv {
  return {
    USER_BATCH_DATA_DIR: join(s.dir, 'data'),
    USER_BATCH_ROOT_DIR: join(s.dir, 'root'),
    USER_BATCH_USER: 'alice',
    USER_BATCH_GROUPS: 'g_dp02',
    USER_BATCH_CONFIG: s.siteFile,
    USER_BATCH_QUOTA_FILE: join(s.dir, 'quotas.yaml'),
    USER_BATCH_PYTHON: PYTHON,
  };
}

const calls = (s: Setup): string[] => readFileSync(s.countFile, 'utf8').split('\n').filter(Boolean);

function spec(name: string, cells: string[], backend = 'htcondor', walltimeSeconds = 600): Record<string, unknown> {
  return {
    name,
    kind: 'cells',
    source: {
      notebookPath: 'work/analysis.ipynb',
      cells: cells.map((source, i) => ({ id: `c${i}`, role: 'main', source })),
    },
    parameters: { threshold: 0.5, label: 'x"\n$(HOME)' },
    resources: { cpus: 1, memoryMiB: 512, walltimeSeconds },
    backend,
    account: 'g_dp02',
  };
}

async function post(app: FastifyInstance, body: Record<string, unknown>): Promise<Job> {
  const res = await app.inject({ method: 'POST', url: '/api/jobs', payload: body });
  expect(res.statusCode).toBe(201);
  return res.json<Job>();
}

describe('htcondor backend on a real pool', () => {
  const s = setup();
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await buildApp({ ...loadConfig(envFor(s)), logLevel: 'silent' }, { logger: false });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(s.dir, { recursive: true, force: true });
  });

  it('offers the backend next to the local default', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/backends' });
    expect(res.json()).toEqual({
      backends: [
        { name: 'local', label: 'This server', default: true, sweepsInParallel: false, type: 'local' },
        { name: 'htcondor', label: 'HTCondor pool', default: false, sweepsInParallel: true, type: 'htcondor' },
        { name: 'htcondor-broken', label: 'Broken', default: false, sweepsInParallel: true, type: 'htcondor' },
      ],
    });
  });

  it('runs a cells job to completion, streams its log and keeps its output notebook', async () => {
    const job = await post(
      app,
      spec('fit $(HOME)\nqueue 5 "quoted"', [
        'import os, time\nprint("hello from", os.environ["BATCH_JOB_ID"], threshold, repr(label))',
        'time.sleep(2)\nprint("done")',
      ]),
    );
    expect(['queued', 'running']).toContain(job.state);
    const sub = readFileSync(join(s.dir, 'data', 'jobs', job.id, 'job.sub'), 'utf8');
    expect(sub).toContain(`+UserBatchJobId = "${job.id}"`);
    expect(sub).toContain('accounting_group = g_dp02');
    // the description HTCondor made: the name was read literally, the accounting set, our id on the job
    const [ad] = JSON.parse(
      condor(
        'condor_q',
        '-allusers',
        '-json',
        '-constraint',
        `UserBatchJobId == "${job.id}"`,
        '-attributes',
        'JobBatchName,AcctGroup,AcctGroupUser,RequestCpus,RequestMemory,UserBatchJobId',
      ),
    ) as Record<string, unknown>[];
    expect(ad).toMatchObject({
      JobBatchName: "fit $(HOME) queue 5 'quoted'",
      AcctGroup: 'g_dp02',
      AcctGroupUser: 'alice',
      RequestCpus: 1,
      RequestMemory: 512,
    });
    // the log streams while the job runs
    await waitFor(
      async () => {
        const res = await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/logs` });
        return res.json<{ text: string }>().text.includes('hello from') ? true : null;
      },
      'the log to show the first cell',
      90_000,
    );
    const done = await waitForState(app, job.id, ['succeeded', 'failed', 'lost'], 120_000);
    expect(done.stateReason).toBeNull();
    expect(done.state).toBe('succeeded');
    expect(done.exitCode).toBe(0);
    expect(done.progress).toEqual({ total: 2, done: 2, failed: 0 });
    const outputs = (await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/outputs` })).json<{ outputs: { path: string }[] }>();
    const notebookName = `analysis.batch-${job.id.slice(0, 8)}.ipynb`;
    expect(outputs.outputs.map(o => o.path)).toContain(notebookName);
    // the parameter with a quote, a newline and a macro reached the kernel literally
    const nb = JSON.parse(readFileSync(join(s.dir, 'root', done.outputDir, notebookName), 'utf8')) as {
      cells: { outputs?: { text?: string[] }[] }[];
    };
    const printed = nb.cells
      .flatMap(c => c.outputs ?? [])
      .flatMap(o => o.text ?? [])
      .join('');
    expect(printed).toContain(`hello from ${job.id} 0.5 'x"\\n$(HOME)'`);
    const prov = (await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/provenance` })).json<{
      backend: { ref: Record<string, unknown> };
    }>();
    expect(prov.backend.ref).toMatchObject({ exitCode: 0 });
    expect(typeof prov.backend.ref.clusterId).toBe('number');
    expect(typeof prov.backend.ref.wallClockSeconds).toBe('number');
    expect(done.cost.usedCoreHours).not.toBeNull();
    // HTCondor's own user log of the job: its events, in order
    const userLog = (await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/logs?source=htcondor` })).json<{
      text: string;
      complete: boolean;
    }>();
    expect(userLog.text).toMatch(/Job submitted from host[\s\S]*Job executing on host[\s\S]*Job terminated/);
    expect(userLog.complete).toBe(true);
    const notCondor = await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/logs?source=nope` });
    expect(notCondor.statusCode).toBe(400);
  }, 180_000);

  it('shows why HTCondor held a job, and cancel removes the held job', async () => {
    const job = await post(app, spec('held for a missing interpreter', ['print(1)'], 'htcondor-broken'));
    const held = await waitForState(app, job.id, ['held', 'succeeded', 'failed'], 90_000);
    expect(held.state).toBe('held');
    expect(held.stateReason).toMatch(/could not start the job's program \(code 6\).*nonexistent\/python3/);
    const res = await app.inject({ method: 'POST', url: `/api/jobs/${job.id}/cancel` });
    expect(res.statusCode).toBe(200);
    expect(res.json<Job>().state).toBe('cancelled');
    expect(JSON.parse(condor('condor_q', '-allusers', '-json', '-constraint', `UserBatchJobId == "${job.id}"`) || '[]')).toEqual([]);
  }, 120_000);

  it('a job put on hold can be released and then runs to completion', async () => {
    const job = await post(app, spec('hold and release', ['print("released ok")']));
    const ref = await waitFor(() => app.store.get(job.id)?.backendRef as { clusterId: number } | null, 'a cluster');
    condor('condor_hold', String(ref.clusterId));
    const held = await waitForState(app, job.id, ['held'], 60_000);
    expect(held.stateReason).toMatch(/someone put it on hold \(condor_hold\) \(code 1\)/);
    const notHeld = await app.inject({ method: 'POST', url: `/api/jobs/${job.id}/release` });
    expect(notHeld.statusCode).toBe(200);
    expect(['queued', 'running', 'succeeded']).toContain(notHeld.json<Job>().state);
    const done = await waitForState(app, job.id, ['succeeded', 'failed'], 120_000);
    expect(done.state).toBe('succeeded');
    const again = await app.inject({ method: 'POST', url: `/api/jobs/${job.id}/release` });
    expect(again.statusCode).toBe(409);
  }, 200_000);

  it('cancels a running job: HTCondor removes it and the runner saves what it did', async () => {
    const job = await post(app, spec('long', ['print("started", flush=True)\nimport time\ntime.sleep(600)']));
    await waitFor(
      async () => {
        const res = await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/logs` });
        return res.json<{ text: string }>().text.includes('started') ? true : null;
      },
      'the job to run its cell',
      90_000,
    );
    const res = await app.inject({ method: 'POST', url: `/api/jobs/${job.id}/cancel` });
    expect(res.json<Job>().state).toBe('cancelled');
    expect(JSON.parse(condor('condor_q', '-allusers', '-json', '-constraint', `UserBatchJobId == "${job.id}"`) || '[]')).toEqual([]);
    expect(existsSync(join(s.dir, 'data', 'jobs', job.id, 'exit.json'))).toBe(true);
  }, 150_000);

  it('stops a job at its walltime and says so', async () => {
    const job = await post(app, spec('too long', ['import time\ntime.sleep(120)'], 'htcondor', 4));
    const done = await waitForState(app, job.id, ['failed', 'succeeded', 'cancelled'], 120_000);
    expect(done).toMatchObject({ state: 'failed', stateReason: 'Stopped after the walltime of 4 seconds.', exitCode: 124 });
    expect(readFileSync(join(s.dir, 'data', 'jobs', job.id, 'job.sub'), 'utf8')).toMatch(/^periodic_remove = .*> 34\)$/m);
  }, 150_000);

  it('keeps a running job through a schedd restart and reports how it really ended', async () => {
    const job = await post(
      app,
      spec('across a schedd restart', [
        'print("started", flush=True)\nimport time\ntime.sleep(15)\nprint("after the restart", flush=True)',
      ]),
    );
    await waitFor(
      async () => {
        const res = await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/logs` });
        return res.json<{ text: string }>().text.includes('started') ? true : null;
      },
      'the job to run its cell',
      90_000,
    );
    execFileSync(join(REPO, 'bin', 'condor-pool'), ['restart-schedd']);
    const done = await waitForState(app, job.id, ['succeeded', 'failed', 'cancelled', 'lost'], 150_000);
    expect(done).toMatchObject({ state: 'succeeded', exitCode: 0 });
    const log = (await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/logs` })).json<{ text: string }>().text;
    expect(log).toContain('after the restart');
    const prov = (await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/provenance` })).json<{ events: { state: string }[] }>();
    // never shown as lost or failed while the schedd was away
    expect(prov.events.map(e => e.state).filter(st => st === 'lost' || st === 'failed')).toEqual([]);
  }, 240_000);

  it('runs a 100-item sweep as one cluster of 100 procs, with progress per item and the failed item named', async () => {
    const before = calls(s).length;
    const job = await post(app, {
      ...spec('sweep of 100', [
        'import os\nif n == 37:\n    raise ValueError(f"item {n} is cursed")\n' +
          'open(os.path.join(os.environ["BATCH_OUTPUT_DIR"], "square.txt"), "w").write(str(n * n))\nprint("square", n * n)',
      ]),
      sweep: Array.from({ length: 100 }, (_, n) => ({ n })),
    });
    expect(calls(s).slice(before)).toEqual(['condor_submit']);
    expect(job.progress).toEqual({ total: 100, done: 0, failed: 0, items: 'q'.repeat(100) });
    const ads = JSON.parse(
      condor(
        'condor_q',
        '-allusers',
        '-json',
        '-constraint',
        `UserBatchJobId == "${job.id}"`,
        '-attributes',
        'ClusterId,ProcId,UserBatchItem',
      ),
    ) as { ClusterId: number; ProcId: number; UserBatchItem: number }[];
    expect(new Set(ads.map(a => a.ClusterId)).size).toBe(1);
    expect(ads.map(a => a.UserBatchItem).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, n) => n));
    // progress moves item by item while the sweep runs
    const seen = new Set<string>();
    const done = await waitFor(
      async () => {
        const j = (await app.inject({ method: 'GET', url: `/api/jobs/${job.id}` })).json<Job>();
        if (j.progress?.items) seen.add(j.progress.items);
        return ['succeeded', 'failed', 'cancelled', 'lost'].includes(j.state) ? j : null;
      },
      'the sweep to end',
      900_000,
    );
    const partial = [...seen].filter(items => items.includes('r') && /[df]/.test(items));
    expect(partial.length).toBeGreaterThan(0);
    expect(done).toMatchObject({ state: 'failed', exitCode: 1 });
    expect(done.progress).toEqual({ total: 100, done: 99, failed: 1, items: `${'d'.repeat(37)}f${'d'.repeat(62)}` });
    // the quota settles to the items' own run times: at most the pool's 2 slots busy all along,
    // not 100 cores × the sweep's elapsed time as reserved
    const elapsedHours = (Date.parse(done.endedAt ?? '') - Date.parse(done.startedAt ?? '')) / 3600_000;
    expect(done.cost.usedCoreHours).toBeGreaterThan(0);
    expect(done.cost.usedCoreHours).toBeLessThanOrEqual(2 * elapsedHours * 1.05);
    expect(done.stateReason).toBe('1 of 100 sweep items failed (item 37); item 37: ValueError: item 37 is cursed.');
    expect(done.error).toMatchObject({ ename: 'ValueError', evalue: '(sweep item 37) item 37 is cursed', cellId: 'c0' });
    const out = join(s.dir, 'root', done.outputDir);
    for (const n of [0, 36, 38, 99]) expect(readFileSync(join(out, `item-${n}`, 'square.txt'), 'utf8')).toBe(String(n * n));
    expect(existsSync(join(out, 'item-37', 'square.txt'))).toBe(false);
    // each item has its own log; by default the first failed one
    const log = async (q: string) =>
      (await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/logs${q}` })).json<{ text: string }>().text;
    expect(await log('')).toContain('item 37 is cursed');
    expect(await log('?item=38')).toContain('square 1444');
    expect((await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/logs?item=100` })).json().error).toBe(
      'This sweep has items 0 to 99; there is no item 100.',
    );
  }, 960_000);

  it('cancel removes the whole cluster of a sweep, running and waiting items alike', async () => {
    const job = await post(app, {
      ...spec('sweep to cancel', ['print("item", n, flush=True)\nimport time\ntime.sleep(600)']),
      sweep: Array.from({ length: 12 }, (_, n) => ({ n })),
    });
    await waitFor(
      async () => {
        const j = (await app.inject({ method: 'GET', url: `/api/jobs/${job.id}` })).json<Job>();
        return j.progress?.items?.includes('r') ? j : null;
      },
      'an item to run',
      120_000,
    );
    const res = await app.inject({ method: 'POST', url: `/api/jobs/${job.id}/cancel` });
    expect(res.statusCode).toBe(200);
    const cancelled = res.json<Job>();
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.progress?.items).toBe('c'.repeat(12));
    // condor_rm is asynchronous: on a loaded machine procs can still show as Removing (JobStatus 3)
    // after the proxy's own 10 s wait; every one of them must leave the queue
    const inQueue = (): unknown[] =>
      JSON.parse(condor('condor_q', '-allusers', '-json', '-constraint', `UserBatchJobId == "${job.id}"`) || '[]');
    await waitFor(() => inQueue().length === 0, 'every proc of the sweep to leave the queue', 60_000);
    expect(inQueue()).toEqual([]);
  }, 240_000);

  it('refuses a sweep whose items could not all run at once within the core limit, and says what fits', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/jobs',
      payload: { ...spec('too wide', ['print(n)']), sweep: Array.from({ length: 200 }, (_, n) => ({ n })) },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatch(
      /^Concurrent cores limit is 150; you are using \d+ and asked for 200 \(200 sweep items × 1 core\)\. A sweep running all at once needs items × cores; use at most \d+ items of 1 core, or the local backend \(one item at a time\), or wait for a job to finish\.$/,
    );
  });

  it('polls every job with one condor_q (and at most one condor_history)', async () => {
    await app.jobs.stopPolling();
    const jobs = [];
    const beforeSubmits = calls(s).length;
    for (let i = 0; i < 3; i++) jobs.push(await post(app, spec(`poll ${i}`, ['import time\ntime.sleep(30)'])));
    // a submit is one condor_submit, nothing else
    expect(calls(s).slice(beforeSubmits)).toEqual(['condor_submit', 'condor_submit', 'condor_submit']);
    expect(app.store.listActive().filter(j => j.backend === 'htcondor').length).toBeGreaterThanOrEqual(3);
    const before = calls(s).length;
    await app.jobs.pollOnce();
    const during = calls(s).slice(before);
    expect(during.filter(t => t === 'condor_q')).toHaveLength(1);
    expect(during.filter(t => t === 'condor_history').length).toBeLessThanOrEqual(1);
    expect(during.filter(t => t !== 'condor_q' && t !== 'condor_history')).toEqual([]);
    for (const j of jobs) await app.inject({ method: 'POST', url: `/api/jobs/${j.id}/cancel` });
    app.jobs.startPolling(500);
  }, 150_000);

  it('a stored job whose cluster exists is adopted on reconcile, never submitted twice', async () => {
    await app.jobs.stopPolling();
    const job = await post(app, spec('adopt me', ['print("adopted")']));
    const first = clustersFor(job.id);
    expect(first).toHaveLength(1);
    // as if the proxy died between condor_submit and recording the cluster
    app.store.update(job.id, { state: 'pending', backendRef: null });
    await app.jobs.reconcile();
    const after = app.store.get(job.id);
    expect((after?.backendRef as { clusterId: number }).clusterId).toBe(first[0]);
    app.jobs.startPolling(500);
    await waitForState(app, job.id, ['succeeded'], 120_000);
    expect(clustersFor(job.id)).toEqual(first);
  }, 180_000);

  it('a job HTCondor no longer knows is marked lost at the next poll, not left queued', async () => {
    await app.jobs.stopPolling();
    const job = await post(app, spec('forgotten', ['print(1)']));
    await app.inject({ method: 'POST', url: `/api/jobs/${job.id}/cancel` });
    // a stored, submitted job whose id HTCondor has in neither its queue nor its history (as after
    // a history purge, or a schedd that lost its queue): a copy of the real record under a new id
    const record = app.store.get(job.id);
    if (!record) throw new Error('no record');
    const forgotten = `${job.id}x`;
    app.store.insert({
      ...record,
      id: forgotten,
      state: 'queued',
      stateReason: 'Waiting in the HTCondor queue.',
      endedAt: null,
      backendRef: { clusterId: 999_999, procId: 0, schedd: null },
    });
    mkdirSync(join(s.dir, 'data', 'jobs', forgotten), { recursive: true });
    await app.jobs.pollOnce();
    app.jobs.startPolling(500);
    const after = app.store.get(forgotten);
    expect(after).toMatchObject({ state: 'lost' });
    expect(after?.stateReason).toBe(
      'HTCondor no longer knows this job (neither in its queue nor in its recent history) and the job never reported how it ended. Run it again.',
    );
  }, 120_000);
});

describe('the built proxy killed with SIGKILL around an htcondor submit', () => {
  const s = setup();
  let proxy: ChildProcess | null = null;

  const start = async (port: number): Promise<ChildProcess> => {
    const child = spawn(process.execPath, [join(PROXY, 'dist', 'server.js')], {
      env: { ...process.env, ...envFor(s), USER_BATCH_PORT: String(port), USER_BATCH_HOST: '127.0.0.1', USER_BATCH_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor(
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${port}/api/health`)).ok;
        } catch {
          return false;
        }
      },
      'the proxy to listen',
      30_000,
    );
    return child;
  };
  afterAll(() => {
    if (proxy && proxy.exitCode === null) proxy.kill('SIGKILL');
    rmSync(s.dir, { recursive: true, force: true });
  });

  it('finds the job again through its UserBatchJobId: exactly one cluster, run to the end', async () => {
    const port = await freePort();
    proxy = await start(port);
    const res = await fetch(`http://127.0.0.1:${port}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(spec('survives a crash', ['import time\ntime.sleep(3)\nprint("survived")'])),
    });
    const job = (await res.json()) as Job;
    expect(res.status).toBe(201);
    proxy.kill('SIGKILL');
    await new Promise(r => proxy?.once('exit', r));
    const port2 = await freePort();
    proxy = await start(port2);
    const done = await waitFor(
      async () => {
        const j = (await (await fetch(`http://127.0.0.1:${port2}/api/jobs/${job.id}`)).json()) as Job;
        return ['succeeded', 'failed', 'lost', 'cancelled'].includes(j.state) ? j : null;
      },
      'the job to end after the restart',
      120_000,
    );
    expect(done.state).toBe('succeeded');
    expect(clustersFor(job.id)).toHaveLength(1);
    proxy.kill('SIGTERM');
    await new Promise(r => proxy?.once('exit', r));
  }, 180_000);

  it('killed between condor_submit and recording the cluster: the restart adopts that cluster, no second submit', async () => {
    const port = await freePort();
    proxy = await start(port);
    writeFileSync(`${s.countFile}.stall-submit`, '30');
    const submitsBefore = calls(s).filter(t => t === 'condor_submit').length;
    const posting = fetch(`http://127.0.0.1:${port}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(spec('killed mid-submit', ['print("only once")'])),
    }).catch(() => null); // the proxy dies before it answers
    const known = new Set(readdirSync(join(s.dir, 'data', 'jobs')));
    // the new job's folder, then its cluster in HTCondor (condor_submit returned; the wrapper stalls)
    const jobId = await waitFor(() => readdirSync(join(s.dir, 'data', 'jobs')).find(d => !known.has(d)) ?? null, 'the job folder', 30_000);
    await waitFor(() => clustersFor(jobId).length === 1, 'the cluster to exist', 30_000);
    proxy.kill('SIGKILL');
    await new Promise(r => proxy?.once('exit', r));
    await posting;
    rmSync(`${s.countFile}.stall-submit`);
    const port2 = await freePort();
    proxy = await start(port2);
    const done = await waitFor(
      async () => {
        const j = (await (await fetch(`http://127.0.0.1:${port2}/api/jobs/${jobId}`)).json()) as Job;
        return ['succeeded', 'failed', 'lost', 'cancelled'].includes(j.state) ? j : null;
      },
      'the adopted job to end',
      120_000,
    );
    expect(done.state).toBe('succeeded');
    expect(clustersFor(jobId)).toHaveLength(1);
    expect(calls(s).filter(t => t === 'condor_submit').length).toBe(submitsBefore + 1);
    proxy.kill('SIGTERM');
    await new Promise(r => proxy?.once('exit', r));
  }, 240_000);
});
