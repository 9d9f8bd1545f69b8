import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Job, OutputFile, Provenance, QuotaStatus } from '@user-batch/contract';
import { cellsSpec, localDay, makeApp, type TestApp, waitForState } from './helpers';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('job lifecycle through the API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp();
  });
  afterAll(async () => {
    await t.app.close();
  });

  it('answers health without auth and lists the configured backends', async () => {
    const health = await t.app.inject({ method: 'GET', url: '/api/health' });
    expect(health.json()).toEqual({ ok: true, version: '0.1.0' });
    const backends = await t.app.inject({ method: 'GET', url: '/api/backends' });
    expect(backends.json().backends).toEqual([expect.objectContaining({ name: 'local', default: true })]);
  });

  it('runs a cells job to success and shows its log, outputs, provenance and code', async () => {
    const submit = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec({ params: { threshold: 0.75 } }) });
    expect(submit.statusCode).toBe(201);
    const created = submit.json<Job>();
    // a folder a person can read: the submit day, the name made safe, the id's first 8 characters
    const folder = `batch-jobs/${localDay(created.createdAt)}-fit-residuals-${created.id.slice(0, 8)}`;
    expect(created).toMatchObject({ user: 'alice', account: 'alice', state: 'running', outputDir: folder });
    expect(created.outputNotebook).toBe(`${folder}/analysis.batch-${created.id.slice(0, 8)}.ipynb`);

    const done = await waitForState(t.app, created.id, ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    expect(done.exitCode).toBe(0);
    expect(done.progress).toEqual({ total: 3, done: 3, failed: 0 });
    expect(done.cost.usedCoreHours).not.toBeNull();

    // run.json carries what the runner needs, in the contract's shape
    const run = JSON.parse(readFileSync(join(t.dir, 'data', 'jobs', created.id, 'run.json'), 'utf8'));
    expect(run).toMatchObject({
      jobId: created.id,
      kind: 'cells',
      kernelName: 'python3',
      notebookDir: join(t.dir, 'root', 'work'),
      outputDir: join(t.dir, 'root', ...folder.split('/')),
      outputNotebook: `analysis.batch-${created.id.slice(0, 8)}.ipynb`,
      parameters: { threshold: 0.75 },
    });

    const list = await t.app.inject({ method: 'GET', url: '/api/jobs' });
    expect(list.json<{ jobs: Job[] }>().jobs.map(j => j.id)).toContain(created.id);

    const log = await t.app.inject({ method: 'GET', url: `/api/jobs/${created.id}/logs?from=0` });
    const chunk = log.json<{ text: string; next: number; size: number; complete: boolean }>();
    expect(chunk.text).toContain('[cell main1] x = math.sqrt(2)');
    expect(chunk.next).toBe(chunk.size);
    expect(chunk.complete).toBe(true);
    const tail = await t.app.inject({ method: 'GET', url: `/api/jobs/${created.id}/logs?from=${chunk.next}` });
    expect(tail.json()).toMatchObject({ text: '', from: chunk.size });

    const outputs = (await t.app.inject({ method: 'GET', url: `/api/jobs/${created.id}/outputs` })).json<{ outputs: OutputFile[] }>()
      .outputs;
    expect(outputs.map(o => o.path).sort()).toEqual([`analysis.batch-${created.id.slice(0, 8)}.ipynb`, 'plots/result.txt']);
    const result = outputs.find(o => o.path === 'plots/result.txt');
    expect(result).toMatchObject({ jupyterPath: `${folder}/plots/result.txt`, sha256: sha('threshold=0.75\n') });

    const file = await t.app.inject({ method: 'GET', url: `/api/jobs/${created.id}/outputs/plots/result.txt` });
    expect(file.statusCode).toBe(200);
    expect(file.body).toBe('threshold=0.75\n');

    const prov = await t.app.inject({ method: 'GET', url: `/api/jobs/${created.id}/provenance?download=1` });
    expect(prov.headers['content-disposition']).toContain('attachment');
    const record = prov.json<Provenance>();
    expect(record.code.map(c => c.sha256)).toEqual([sha('import math'), sha('x = math.sqrt(2)'), sha('print(x)')]);
    expect(record.parameters).toEqual({ threshold: 0.75 });
    expect(record.events.map(e => e.state)).toEqual(['pending', 'running', 'succeeded']);
    // the end says nothing more than "succeeded": not the reason it had while it ran
    expect(record.events.at(-1)?.reason).toBeNull();
    expect(record.outputs).toHaveLength(2);
    expect(record.environment).toMatchObject({ python: { version: expect.any(String) } });

    const code = await t.app.inject({ method: 'GET', url: `/api/jobs/${created.id}/code/${sha('print(x)')}` });
    expect(code.body).toBe('print(x)');
    const notMine = await t.app.inject({ method: 'GET', url: `/api/jobs/${created.id}/code/${sha('other')}` });
    expect(notMine.statusCode).toBe(404);
  });

  it('runs a whole notebook and records the notebook hash', async () => {
    const notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [{ cell_type: 'code', source: 'y = 2', metadata: {}, outputs: [] }],
    };
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/jobs',
      payload: { ...cellsSpec(), kind: 'notebook', source: { notebookPath: 'nb/whole.ipynb', notebook } },
    });
    expect(res.statusCode).toBe(201);
    const job = await waitForState(t.app, res.json<Job>().id, ['succeeded', 'failed']);
    expect(job.state).toBe('succeeded');
    const prov = (await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/provenance` })).json<Provenance>();
    expect(prov.notebook.sha256).toBe(sha(JSON.stringify(notebook)));
    expect(readFileSync(join(t.dir, 'data', 'objects', 'sha256', prov.notebook.sha256!.slice(0, 2), prov.notebook.sha256!), 'utf8')).toBe(
      JSON.stringify(notebook),
    );
  });

  it('records the saved notebook a cells job came from, and the log, by sha256', async () => {
    const saved = JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] });
    mkdirSync(join(t.dir, 'root', 'work'), { recursive: true });
    writeFileSync(join(t.dir, 'root', 'work', 'analysis.ipynb'), saved);
    const res = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec() });
    const job = await waitForState(t.app, res.json<Job>().id, ['succeeded', 'failed']);
    // the file changing after submit does not change what was recorded
    writeFileSync(join(t.dir, 'root', 'work', 'analysis.ipynb'), 'edited later');
    const prov = (await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/provenance` })).json<Provenance>();
    expect(prov.notebook).toEqual({ path: 'work/analysis.ipynb', sha256: sha(saved) });
    const log = readFileSync(join(t.dir, 'data', 'jobs', job.id, 'output.log'));
    expect(prov.logs).toEqual([{ name: 'output.log', size: log.length, sha256: createHash('sha256').update(log).digest('hex') }]);
  });

  it('reports a failing cell with its error and cell id', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec({ params: { fail: 'cell' } }) });
    const job = await waitForState(t.app, res.json<Job>().id, ['succeeded', 'failed']);
    expect(job.state).toBe('failed');
    expect(job.stateReason).toBe('Cell setup1 raised ValueError: bad value');
    expect(job.error).toEqual({
      ename: 'ValueError',
      evalue: 'bad value',
      traceback: 'Traceback:\nValueError: bad value',
      cellId: 'setup1',
    });
  });

  it('cancels a running job, and refuses to cancel it twice', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec({ params: { sleep: 30 } }) });
    const id = res.json<Job>().id;
    const cancel = await t.app.inject({ method: 'POST', url: `/api/jobs/${id}/cancel` });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json<Job>()).toMatchObject({ state: 'cancelled', stateReason: 'Cancelled at your request.' });
    const again = await t.app.inject({ method: 'POST', url: `/api/jobs/${id}/cancel` });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toContain('already ended (cancelled)');
  });

  it('shows quota limits with additive group grants and current usage', async () => {
    const quota = (await t.app.inject({ method: 'GET', url: '/api/quota' })).json<QuotaStatus>();
    expect(quota).toMatchObject({ user: 'alice', accounts: ['alice', 'g_dp02'], windowHours: 24 });
    expect(quota.limits.concurrentJobs).toBe(4);
    expect(quota.usage.concurrentJobs).toBe(0);
    expect(quota.usage.coreHours).toBeGreaterThan(0);
    expect(quota.usage.coreHours).toBeLessThan(0.01); // settled to seconds of use, not the reserved walltime
  });

  it('publishes an OpenAPI document generated from the schemas', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/jobs', '/api/jobs/{id}', '/api/quota']));
  });
});
