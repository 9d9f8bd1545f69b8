import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../src/app';
import { isSameProcessAlive, processStartTicks } from '../src/backends/procinfo';
import { type Job, JobSpec } from '@user-batch/contract';
import { cellsSpec, makeApp, type TestApp, testConfig, waitFor, waitForState } from './helpers';

const submit = async (t: TestApp, spec: Record<string, unknown>): Promise<Job> => {
  const res = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: spec });
  expect(res.statusCode).toBe(201);
  return res.json<Job>();
};

const processAlive = (pid: number): boolean => isSameProcessAlive(pid, null);

describe('local backend with real processes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp({ USER_BATCH_GROUPS: '' }, { walltimeGraceMs: 300, cancelGraceMs: 500 });
  });
  afterAll(async () => {
    await t.app.close();
  });

  it('fails a job whose process dies without reporting, with a sentence saying so', async () => {
    const job = await submit(t, cellsSpec({ params: { fail: 'crash' } }));
    const done = await waitForState(t.app, job.id, ['failed', 'succeeded']);
    expect(done).toMatchObject({ state: 'failed', stateReason: "The job's process ended without reporting how (killed or crashed)." });
  });

  it("kills the kernel's own process group when the runner dies without cleaning up", async () => {
    const job = await submit(t, cellsSpec({ params: { fail: 'crash', kernel: true, sleep: 3 } }));
    const launchFile = join(t.dir, 'data', 'jobs', job.id, 'launch.json');
    const kernelPgid = await waitFor(
      () => existsSync(launchFile) && (JSON.parse(readFileSync(launchFile, 'utf8')) as { kernelPgid?: number }).kernelPgid,
      'kernelPgid',
    );
    expect(processAlive(kernelPgid)).toBe(true);
    await waitForState(t.app, job.id, ['failed']);
    await waitFor(() => !processAlive(kernelPgid), 'the orphaned kernel to be killed', 5000);
  });

  it('shows a job stopped by a signal from outside as cancelled, with a reason', async () => {
    const job = await submit(t, cellsSpec({ params: { sleep: 30 } }));
    const launchFile = join(t.dir, 'data', 'jobs', job.id, 'launch.json');
    const launch = await waitFor(
      () => existsSync(launchFile) && (JSON.parse(readFileSync(launchFile, 'utf8')) as { pgid: number }),
      'launch.json',
    );
    process.kill(-launch.pgid, 'SIGTERM');
    const done = await waitForState(t.app, job.id, ['cancelled', 'failed']);
    expect(done).toMatchObject({ state: 'cancelled', exitCode: 143, stateReason: 'The job was stopped by a signal before it finished.' });
  });

  it('shows a job ended as soon as its process exits, not at the next poll', async () => {
    const slowPoll = await makeApp({ USER_BATCH_GROUPS: '' }, { pollIntervalMs: 600_000 });
    try {
      const job = await submit(slowPoll, cellsSpec({}));
      const done = await waitForState(slowPoll.app, job.id, ['succeeded', 'failed'], 15_000);
      expect(done.state).toBe('succeeded');
    } finally {
      await slowPoll.app.close();
    }
  });

  it('reports a runner error', async () => {
    const job = await submit(t, cellsSpec({ params: { fail: 'runner' } }));
    const done = await waitForState(t.app, job.id, ['failed', 'succeeded']);
    expect(done).toMatchObject({ state: 'failed', exitCode: 2, stateReason: 'The job runner failed: no kernel' });
  });

  it('reports a walltime stop by the runner in minutes', async () => {
    const job = await submit(t, cellsSpec({ walltimeSeconds: 60, params: { sleep: 0 } }));
    await waitForState(t.app, job.id, ['succeeded']);
    const slow = await submit(t, cellsSpec({ walltimeSeconds: 1, params: { sleep: 20 } }));
    const done = await waitForState(t.app, slow.id, ['failed', 'succeeded']);
    expect(done).toMatchObject({ state: 'failed', stateReason: 'Stopped after the walltime of 1 second.' });
  });

  it('stops a job that overruns its walltime even when the runner does not', async () => {
    const job = await submit(t, cellsSpec({ walltimeSeconds: 1, params: { sleep: 60, ignoreWalltime: true } }));
    const ref = await waitFor(
      () => JSON.parse(readFileSync(join(t.dir, 'data', 'jobs', job.id, 'spawn.json'), 'utf8')) as { pid: number },
      'spawn.json',
    );
    const done = await waitForState(t.app, job.id, ['failed', 'succeeded'], 10_000);
    expect(done).toMatchObject({ state: 'failed', stateReason: 'Stopped after the walltime of 1 second.' });
    await waitFor(() => !processAlive(ref.pid), 'the overrunning process to be killed', 3000);
  });

  it("cancels the job's whole process group, even a process that ignores SIGTERM", async () => {
    const job = await submit(t, cellsSpec({ params: { sleep: 60, child: true, kernel: true, ignoreTerm: true } }));
    const jobDir = join(t.dir, 'data', 'jobs', job.id);
    const launch = await waitFor(
      () =>
        existsSync(join(jobDir, 'launch.json')) &&
        (JSON.parse(readFileSync(join(jobDir, 'launch.json'), 'utf8')) as { pgid: number; kernelPgid?: number }),
      'launch.json',
    );
    await waitFor(
      () => (JSON.parse(readFileSync(join(jobDir, 'launch.json'), 'utf8')) as { kernelPgid?: number }).kernelPgid,
      'kernelPgid',
    );
    const kernelPgid = (JSON.parse(readFileSync(join(jobDir, 'launch.json'), 'utf8')) as { kernelPgid: number }).kernelPgid;
    await new Promise(r => setTimeout(r, 300)); // let the runner start its child
    const started = Date.now();
    const res = await t.app.inject({ method: 'POST', url: `/api/jobs/${job.id}/cancel` });
    expect(res.json<Job>().state).toBe('cancelled');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450); // waited the grace, then SIGKILL
    expect(() => process.kill(-launch.pgid, 0)).toThrow();
    expect(() => process.kill(-kernelPgid, 0)).toThrow();
    const quota = (await t.app.inject({ method: 'GET', url: '/api/quota' })).json();
    expect(quota.usage.concurrentJobs).toBe(0);
  });

  it('does not mistake a reused pid for the job', async () => {
    const child = spawn('sleep', ['5'], { stdio: 'ignore' });
    const pid = child.pid!;
    const ticks = processStartTicks(pid);
    expect(ticks).not.toBeNull();
    expect(isSameProcessAlive(pid, ticks)).toBe(true);
    expect(isSameProcessAlive(pid, (ticks ?? 0) - 1)).toBe(false);
    child.kill('SIGKILL');
    await waitFor(() => !isSameProcessAlive(pid, ticks), 'sleep to die');
  });
});

describe('a runner that cannot start', () => {
  it('fails the job with a sentence naming the runner, and gives the quota back', async () => {
    const t = await makeApp({ USER_BATCH_GROUPS: '' }, { runnerCommand: ['/nonexistent/python3', '-m', 'user_batch.runner'] });
    try {
      const res = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec() });
      expect(res.statusCode).toBe(201);
      expect(res.json<Job>()).toMatchObject({
        state: 'failed',
        stateReason: 'Could not start the job runner "/nonexistent/python3": it was not found or is not executable.',
      });
      expect((await t.app.inject({ method: 'GET', url: '/api/quota' })).json().usage.concurrentJobs).toBe(0);
    } finally {
      await t.app.close();
    }
  });
});

describe('reconcile after a restart (real processes)', () => {
  it('starts stored jobs that never started, adopts running ones and finishes ended ones', async () => {
    const { config, dir } = testConfig({ USER_BATCH_GROUPS: '' });
    const first = await buildApp(config, { logger: false });
    await first.ready();
    const t = { app: first, config, dir };
    const running = await submit(t, cellsSpec({ name: 'adopt me', params: { sleep: 1.5 } }));
    const ended = await submit(t, cellsSpec({ name: 'ends while down', params: { sleep: 0.2 } }));
    // A job stored but never started: what a crash between the store write and the spawn leaves.
    const local = first.backends.get('local')!;
    const realSubmit = local.submit.bind(local);
    local.submit = () => new Promise(() => undefined); // the proxy "dies" before the spawn
    const spec = JobSpec.parse(cellsSpec({ name: 'never started' }));
    void first.jobs.submit({ name: 'alice', groups: [] }, spec, undefined);
    const stored = await waitFor(() => first.store.listOwned('alice').find(j => j.name === 'never started'), 'the stored job');
    local.submit = realSubmit;
    expect(stored.state).toBe('pending');
    await first.jobs.stopPolling(); // the proxy "dies": nothing watches the jobs any more
    await waitFor(() => existsSync(join(dir, 'data', 'jobs', ended.id, 'exit.json')), 'the job to end while the proxy is down');
    await first.close();

    const second = await buildApp(config, { logger: false });
    await second.ready();
    try {
      expect((await second.inject({ method: 'GET', url: `/api/jobs/${ended.id}` })).json<Job>().state).toBe('succeeded');
      expect((await second.inject({ method: 'GET', url: `/api/jobs/${running.id}` })).json<Job>().state).toBe('running');
      const restarted = await waitForState(second, stored.id, ['succeeded', 'failed']);
      expect(restarted.state).toBe('succeeded');
      expect(await waitForState(second, running.id, ['succeeded', 'failed'])).toMatchObject({ state: 'succeeded' });
      const jobs = (await second.inject({ method: 'GET', url: '/api/jobs' })).json<{ jobs: Job[] }>().jobs;
      expect(jobs).toHaveLength(3);
    } finally {
      await second.close();
    }
  });
});
