import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '@user-batch/contract';
import { cellsSpec, makeApp, type TestApp, waitForState, writtenState } from './helpers';

const TRUSTED = { USER_BATCH_AUTH: 'trusted-header', USER_BATCH_SECRET: 's3cret' };
const as = (user: string, groups = ''): Record<string, string> => ({
  'x-user-batch-secret': 's3cret',
  'x-auth-request-user': user,
  'x-auth-request-groups': groups,
});

describe('auth and isolation between users', () => {
  let t: TestApp;
  let bobJob: Job;
  beforeAll(async () => {
    t = await makeApp(TRUSTED);
    const res = await t.app.inject({ method: 'POST', url: '/api/jobs', headers: as('bob'), payload: cellsSpec({ name: 'bob private' }) });
    bobJob = res.json<Job>();
    await waitForState(t.app, bobJob.id, ['succeeded'], 10_000).catch(() => undefined);
  });
  afterAll(async () => {
    await t.app.close();
  });

  it('refuses requests without the launch secret, but answers health', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/jobs', headers: { 'x-auth-request-user': 'bob' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'unauthorized', error: expect.stringContaining('X-User-Batch-Secret') });
    const wrong = await t.app.inject({ method: 'GET', url: '/api/jobs', headers: { ...as('bob'), 'x-user-batch-secret': 'nope' } });
    expect(wrong.statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
  });

  it('refuses a trusted-header request with no user', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/jobs', headers: { 'x-user-batch-secret': 's3cret' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toContain('X-Auth-Request-User');
  });

  it("answers another user's job id exactly like a missing one", async () => {
    const missing = await t.app.inject({ method: 'GET', url: '/api/jobs/doesnotexist', headers: as('alice') });
    for (const suffix of ['', '/logs', '/outputs', '/provenance', '/outputs/analysis.ipynb']) {
      const other = await t.app.inject({ method: 'GET', url: `/api/jobs/${bobJob.id}${suffix}`, headers: as('alice') });
      expect(other.statusCode).toBe(404);
      expect(other.json()).toEqual(missing.json());
    }
    const cancel = await t.app.inject({ method: 'POST', url: `/api/jobs/${bobJob.id}/cancel`, headers: as('alice') });
    expect(cancel.statusCode).toBe(404);
    const list = await t.app.inject({ method: 'GET', url: '/api/jobs', headers: as('alice') });
    expect(list.json().jobs).toEqual([]);
    const own = await t.app.inject({ method: 'GET', url: `/api/jobs/${bobJob.id}`, headers: as('bob') });
    expect(own.json<Job>().name).toBe('bob private');
  });

  it('lets a user charge only their own name or their groups', async () => {
    const before = writtenState(t.app, t.dir);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: as('carol', 'g_a,g_b'),
      payload: cellsSpec({ account: 'g_dp02' }),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({
      code: 'account_not_allowed',
      error: 'You cannot charge account "g_dp02"; choose your own name (carol) or one of your groups (g_a, g_b).',
    });
    expect(writtenState(t.app, t.dir)).toEqual(before);
    const ok = await t.app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: as('carol', 'g_a,g_b'),
      payload: cellsSpec({ account: 'g_b' }),
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json<Job>().account).toBe('g_b');
  });
});

describe('bad input is refused with a message and writes nothing', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp();
  });
  afterAll(async () => {
    await t.app.close();
  });

  const spec = cellsSpec();
  const cases: [string, unknown, number, string][] = [
    ['a missing name', { ...spec, name: undefined }, 400, 'name'],
    ['zero cpus', { ...spec, resources: { cpus: 0, memoryMiB: 1024, walltimeSeconds: 60 } }, 400, 'resources.cpus'],
    ['an unknown kind', { ...spec, kind: 'shell' }, 400, 'kind'],
    ['an unknown backend', { ...spec, backend: 'slurm' }, 400, 'Unknown backend "slurm"; this proxy offers: local.'],
    [
      'a parameter that is not an identifier',
      { ...spec, parameters: { 'my-param': 1 } },
      400,
      'parameter name "my-param" is not a Python identifier',
    ],
    ['a parameter named like a keyword', { ...spec, parameters: { class: 1 } }, 400, 'parameter name "class"'],
    [
      'a sweep item with a bad parameter name',
      { ...spec, sweep: [{ a: 1 }, { 'b c': 2 }] },
      400,
      'sweep item 2: parameter name "b c" is not a Python identifier',
    ],
    ['an empty sweep', { ...spec, sweep: [] }, 400, 'sweep'],
    [
      'a notebook path climbing out of the root',
      { ...spec, source: { ...(spec.source as object), notebookPath: '../etc/x.ipynb' } },
      400,
      'must not contain ".."',
    ],
    [
      'an absolute notebook path',
      { ...spec, source: { ...(spec.source as object), notebookPath: '/etc/x.ipynb' } },
      400,
      'relative to the Jupyter root',
    ],
    [
      'cells without a main cell',
      { ...spec, source: { notebookPath: 'a.ipynb', cells: [{ id: 's', role: 'setup', source: '' }] } },
      400,
      'at least one main cell',
    ],
    ['a notebook job without a notebook', { ...spec, kind: 'notebook' }, 400, 'needs the notebook JSON'],
    [
      'memory over the per-job limit',
      cellsSpec({ memoryMiB: 100_000 }),
      422,
      'Memory per job limit is 8192 MiB; you asked for 100000 MiB.',
    ],
  ];

  it.each(cases)('refuses %s', async (_what, payload, status, message) => {
    const before = writtenState(t.app, t.dir);
    const res = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: payload as object });
    expect(res.statusCode).toBe(status);
    expect(res.json().error).toContain(message);
    expect(res.json().code).toEqual(expect.any(String));
    expect(writtenState(t.app, t.dir)).toEqual(before);
  });

  it('refuses a body that is not JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/jobs',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain('not valid JSON');
    expect(writtenState(t.app, t.dir).rows).toBe(0);
  });

  it('refuses a body over 10 MiB with 413', async () => {
    const big = { ...spec, source: { notebookPath: 'a.ipynb', cells: [{ id: 'm', role: 'main', source: 'x'.repeat(11 * 1024 * 1024) }] } };
    const res = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: big });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'body_too_large', error: expect.stringContaining('larger than 10 MiB') });
    expect(writtenState(t.app, t.dir)).toEqual({ rows: 0, jobDirs: 0, outputDirs: 0 });
  });

  it('refuses output paths that leave the output folder', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: spec });
    const job = await waitForState(t.app, res.json<Job>().id, ['succeeded']);
    const outDir = join(t.dir, 'root', job.outputDir);
    writeFileSync(join(t.dir, 'secret.txt'), 'not yours');
    symlinkSync(join(t.dir, 'secret.txt'), join(outDir, 'escape.txt'));
    mkdirSync(join(outDir, 'sub'));
    for (const path of ['..%2F..%2Fsecret.txt', 'sub/..%2F..%2F..%2Fsecret.txt', '%2Fetc%2Fpasswd', 'escape.txt']) {
      const bad = await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/outputs/${path}` });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'invalid_path', error: expect.stringContaining("leaves the job's output folder") });
    }
    const listed = await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/outputs` });
    expect(listed.json().outputs.map((o: { path: string }) => o.path)).not.toContain('escape.txt');
    const missing = await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/outputs/nope.txt` });
    expect(missing.statusCode).toBe(404);
  });
});

describe('idempotency keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp();
  });
  afterAll(async () => {
    await t.app.close();
  });

  it('returns the same job for the same key and spec, and refuses the key for another spec', async () => {
    const headers = { 'idempotency-key': 'k-123' };
    const first = await t.app.inject({ method: 'POST', url: '/api/jobs', headers, payload: cellsSpec() });
    const second = await t.app.inject({ method: 'POST', url: '/api/jobs', headers, payload: cellsSpec() });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.json<Job>().id).toBe(first.json<Job>().id);
    const inBody = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: { ...cellsSpec(), idempotencyKey: 'k-123' } });
    expect(inBody.json<Job>().id).toBe(first.json<Job>().id);
    const conflict = await t.app.inject({ method: 'POST', url: '/api/jobs', headers, payload: cellsSpec({ name: 'other' }) });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ code: 'idempotency_conflict', error: expect.stringContaining('different job spec') });
    expect(writtenState(t.app, t.dir).rows).toBe(1);
  });
});
