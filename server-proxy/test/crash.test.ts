import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '@user-batch/contract';
import { cellsSpec, FAKE_RUNNER, freePort, tempDir, waitFor } from './helpers';

const ROOT = join(__dirname, '..');

describe('the built proxy survives being killed', () => {
  const dir = tempDir('user-batch-crash-');
  let port = 0;
  let base = '';
  let proxy: ChildProcess | null = null;
  const headers = { 'x-user-batch-secret': 'crash-secret', 'content-type': 'application/json' };

  const start = async (extraEnv: NodeJS.ProcessEnv = {}, onPort = port): Promise<ChildProcess> => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'server.js')], {
      env: {
        ...process.env,
        ...extraEnv,
        USER_BATCH_PORT: String(onPort),
        USER_BATCH_HOST: '127.0.0.1',
        USER_BATCH_SECRET: 'crash-secret',
        USER_BATCH_USER: 'alice',
        USER_BATCH_DATA_DIR: join(dir, 'data'),
        USER_BATCH_ROOT_DIR: join(dir, 'root'),
        USER_BATCH_CONFIG: join(dir, 'site.json'),
        USER_BATCH_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor(
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${onPort}/api/health`)).ok;
        } catch {
          return false;
        }
      },
      'the proxy to listen',
      30_000,
    );
    return child;
  };
  const post = async (spec: Record<string, unknown>, key?: string, to = base): Promise<{ status: number; job: Job }> => {
    const res = await fetch(`${to}/api/jobs`, {
      method: 'POST',
      headers: key ? { ...headers, 'idempotency-key': key } : headers,
      body: JSON.stringify(spec),
    });
    return { status: res.status, job: (await res.json()) as Job };
  };

  beforeAll(async () => {
    // the workspace's one TypeScript (hoisted to the repository root's node_modules)
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT });
    writeFileSync(join(dir, 'site.json'), JSON.stringify({ runnerCommand: ['python3', FAKE_RUNNER], pollIntervalMs: 100 }));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
  }, 180_000);
  afterAll(() => {
    if (proxy && proxy.exitCode === null) proxy.kill('SIGKILL');
  });

  it('keeps every acknowledged job and its true end state across SIGKILL and restart, without duplicates', async () => {
    proxy = await start();
    const ok = await post(cellsSpec({ name: 'will succeed', params: { sleep: 1.5 } }), 'retry-me');
    const bad = await post(cellsSpec({ name: 'will fail', params: { sleep: 1.5, fail: 'cell' } }));
    const dies = await post(cellsSpec({ name: 'will crash', params: { sleep: 1.5, fail: 'crash' } }));
    expect([ok.status, bad.status, dies.status]).toEqual([201, 201, 201]);
    const ids = [ok.job.id, bad.job.id, dies.job.id];

    proxy.kill('SIGKILL');
    await new Promise<void>(r => proxy!.once('exit', () => r()));
    // The jobs outlive the proxy (own process groups) and record how they ended.
    await waitFor(() => existsSync(join(dir, 'data', 'jobs', ok.job.id, 'exit.json')), 'the job to finish while the proxy is down');
    await waitFor(() => existsSync(join(dir, 'data', 'jobs', bad.job.id, 'exit.json')), 'the failing job to finish');
    await new Promise(r => setTimeout(r, 2000)); // the crashing job has died by now too

    proxy = await start();
    const list = (await (await fetch(`${base}/api/jobs`, { headers })).json()) as { jobs: Job[] };
    expect(list.jobs.map(j => j.id).sort()).toEqual([...ids].sort());
    const byId = new Map(list.jobs.map(j => [j.id, j]));
    expect(byId.get(ok.job.id)).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect(byId.get(bad.job.id)).toMatchObject({ state: 'failed', error: { ename: 'ValueError' } });
    expect(byId.get(dies.job.id)).toMatchObject({
      state: 'failed',
      stateReason: "The job's process ended without reporting how (killed or crashed).",
    });

    const retried = await post(cellsSpec({ name: 'will succeed', params: { sleep: 1.5 } }), 'retry-me');
    expect(retried.status).toBe(200);
    expect(retried.job.id).toBe(ok.job.id);
    const after = (await (await fetch(`${base}/api/jobs`, { headers })).json()) as { jobs: Job[] };
    expect(after.jobs).toHaveLength(3);

    const quota = (await (await fetch(`${base}/api/quota`, { headers })).json()) as { usage: { concurrentJobs: number } };
    expect(quota.usage.concurrentJobs).toBe(0);

    proxy.kill('SIGTERM');
    const code = await new Promise<number | null>(r => proxy!.once('exit', c => r(c)));
    expect(code).toBe(0);
  }, 120_000);

  it('never lets two proxy processes sharing one store exceed a quota together', async () => {
    const shared = tempDir('user-batch-shared-');
    writeFileSync(join(shared, 'quota.yaml'), 'default: { concurrentJobs: 3, concurrentCores: 100, coreHours: 1000 }\n');
    const env = {
      USER_BATCH_DATA_DIR: join(shared, 'data'),
      USER_BATCH_ROOT_DIR: join(shared, 'root'),
      USER_BATCH_QUOTA_FILE: join(shared, 'quota.yaml'),
    };
    const ports = [await freePort(), await freePort()];
    const proxies = [await start(env, ports[0]), await start(env, ports[1])];
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          post(cellsSpec({ name: `shared ${i}`, params: { sleep: 3 } }), undefined, `http://127.0.0.1:${ports[i % 2]}`),
        ),
      );
      expect(results.filter(r => r.status === 201)).toHaveLength(3);
      expect(results.filter(r => r.status === 422)).toHaveLength(17);
    } finally {
      for (const p of proxies) p.kill('SIGKILL');
    }
  }, 120_000);

  it('leaves by itself when the Jupyter server that started it is killed', async () => {
    const orphanPort = await freePort();
    // a shell stands in for the Jupyter server: it starts the proxy, then dies with SIGKILL
    const parent = spawn('sh', ['-c', `"${process.execPath}" "${join(ROOT, 'dist', 'server.js')}" & echo $!; wait`], {
      env: {
        ...process.env,
        USER_BATCH_EXIT_WITH_PARENT: '1',
        USER_BATCH_PORT: String(orphanPort),
        USER_BATCH_HOST: '127.0.0.1',
        USER_BATCH_DATA_DIR: join(dir, 'orphan-data'),
        USER_BATCH_ROOT_DIR: join(dir, 'orphan-root'),
        USER_BATCH_LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = await new Promise<number>(resolve => parent.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${orphanPort}/api/health`)).ok;
        } catch {
          return false;
        }
      },
      'the proxy to listen',
      30_000,
    );
    parent.kill('SIGKILL');
    await waitFor(() => !alive(), 'the orphaned proxy to exit', 15_000);
    expect(alive()).toBe(false);
  }, 60_000);
});
