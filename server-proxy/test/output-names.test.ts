import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Job, OutputFile } from '@user-batch/contract';
import { buildApp } from '../src/app';
import { folderSafeName, newOutputDirRelative } from '../src/jobdir';
import { cellsSpec, localDay, makeApp, type TestApp, testConfig, waitForState } from './helpers';

describe('job names as folder names', () => {
  it.each([
    ['fit residuals', 'fit-residuals'],
    ['Fit  Residuals (v2)', 'fit-residuals-v2'],
    ['say "hi" \'there\'', 'say-hi-there'],
    ['../../etc/passwd', 'etc-passwd'],
    ['a/b\\c', 'a-b-c'],
    ['Réduction des données', 'reduction-des-donnees'],
    ['снимки 星 🚀', 'job'],
    ['...', 'job'],
    ['.', 'job'],
    ['   ', 'job'],
    ['keep_under-score', 'keep_under-score'],
  ])('%j is %j', (name, folder) => {
    expect(folderSafeName(name)).toBe(folder);
  });

  it('cuts a long name to 40 characters, never ending in a dash', () => {
    const cut = folderSafeName(`${'a'.repeat(39)} b c d e f`);
    expect(cut).toBe('a'.repeat(39));
    expect(folderSafeName('word '.repeat(60)).length).toBeLessThanOrEqual(40);
    expect(folderSafeName('word '.repeat(60))).toMatch(/^[a-z0-9_-]+[a-z0-9]$/);
  });

  it('names the folder by the day, the name and the first 8 characters of the id', () => {
    const at = new Date(2026, 11, 2, 23, 59);
    expect(newOutputDirRelative('mx2b9ips5b423a3a', 'Fit residuals', at)).toBe('batch-jobs/2026-12-02-fit-residuals-mx2b9ips');
    expect(newOutputDirRelative('mx2b9ips5b423a3a', 'Fit residuals', at, true)).toBe(
      'batch-jobs/2026-12-02-fit-residuals-mx2b9ips5b423a3a',
    );
  });
});

describe('output folders of submitted jobs', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeApp();
  });
  afterEach(async () => {
    await t.app.close();
  });

  const submit = async (name: string): Promise<Job> => {
    const res = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec({ name, params: { sleep: 0.01 } }) });
    expect(res.statusCode).toBe(201);
    return res.json<Job>();
  };

  it('writes an unsafe name into a safe folder under batch-jobs, and the executed notebook says it is a batch result', async () => {
    const job = await submit('../"quoted"/ Ünïcode…name');
    const short = job.id.slice(0, 8);
    expect(job.outputDir).toBe(`batch-jobs/${localDay(job.createdAt)}-quoted-unicode-name-${short}`);
    expect(job.outputNotebook).toBe(`${job.outputDir}/analysis.batch-${short}.ipynb`);
    const done = await waitForState(t.app, job.id, ['succeeded']);
    expect(existsSync(join(t.dir, 'root', done.outputDir, `analysis.batch-${short}.ipynb`))).toBe(true);
    const outputs = (await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/outputs` })).json<{ outputs: OutputFile[] }>().outputs;
    expect(outputs.map(o => o.jupyterPath)).toContain(job.outputNotebook);
  });

  it('gives two jobs of the same name and day two folders', async () => {
    const [a, b] = await Promise.all([submit('same'), submit('same')]);
    expect(a.outputDir).not.toBe(b.outputDir);
    expect(a.outputDir.startsWith(`batch-jobs/${localDay(a.createdAt)}-same-`)).toBe(true);
    await waitForState(t.app, a.id, ['succeeded']);
    await waitForState(t.app, b.id, ['succeeded']);
  });

  it('keeps a name of dots or symbols out of the way: the folder is "job"', async () => {
    const job = await submit('...');
    expect(job.outputDir).toBe(`batch-jobs/${localDay(job.createdAt)}-job-${job.id.slice(0, 8)}`);
    await waitForState(t.app, job.id, ['succeeded']);
  });
});

describe('jobs stored with the old output folder (batch-jobs/<id>)', () => {
  it('still lists, serves, runs after a restart and deletes their outputs from the recorded folder', async () => {
    const { config, dir } = testConfig();
    let app = await buildApp(config, { logger: false });
    await app.ready();
    try {
      const job = (await app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec({ params: { sleep: 0.01 } }) })).json<Job>();
      await waitForState(app, job.id, ['succeeded']);
      // what the previous version stored and wrote: batch-jobs/<id>/analysis.ipynb
      const oldDir = `batch-jobs/${job.id}`;
      renameSync(join(dir, 'root', job.outputDir), join(dir, 'root', oldDir));
      renameSync(join(dir, 'root', oldDir, `analysis.batch-${job.id.slice(0, 8)}.ipynb`), join(dir, 'root', oldDir, 'analysis.ipynb'));
      app.db.prepare('UPDATE jobs SET output_dir = ?, output_notebook = ? WHERE id = ?').run(oldDir, `${oldDir}/analysis.ipynb`, job.id);
      // and a job it stored but had not started when it stopped
      const pending = (await app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec({ params: { sleep: 30 } }) })).json<Job>();
      await app.inject({ method: 'POST', url: `/api/jobs/${pending.id}/cancel` });
      await waitForState(app, pending.id, ['cancelled']);
      const stored = app.store.get(pending.id);
      if (!stored) throw new Error('the job is stored');
      const waiting = { ...stored, id: `${pending.id.slice(0, -1)}x`, outputDir: `batch-jobs/${pending.id.slice(0, -1)}x` };
      app.store.insert({
        ...waiting,
        state: 'pending',
        stateReason: 'Waiting to start.',
        startedAt: null,
        endedAt: null,
        exitCode: null,
        outputNotebook: `${waiting.outputDir}/analysis.ipynb`,
        spec: { ...waiting.spec, parameters: { sleep: 0.01 } },
        backendRef: null,
      });
      await app.close();

      app = await buildApp(config, { logger: false });
      await app.ready();
      const outputs = (await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/outputs` })).json<{ outputs: OutputFile[] }>().outputs;
      expect(outputs.map(o => o.jupyterPath)).toContain(`${oldDir}/analysis.ipynb`);
      const file = await app.inject({ method: 'GET', url: `/api/jobs/${job.id}/outputs/analysis.ipynb` });
      expect(file.statusCode).toBe(200);

      const restarted = await waitForState(app, waiting.id, ['succeeded', 'failed']);
      expect(restarted).toMatchObject({ state: 'succeeded', outputDir: waiting.outputDir });
      expect(JSON.parse(readFileSync(join(dir, 'data', 'jobs', waiting.id, 'run.json'), 'utf8'))).toMatchObject({
        outputDir: join(dir, 'root', 'batch-jobs', waiting.id),
        outputNotebook: 'analysis.ipynb',
      });
      expect(existsSync(join(dir, 'root', waiting.outputDir, 'analysis.ipynb'))).toBe(true);

      const del = await app.inject({ method: 'DELETE', url: `/api/jobs/${job.id}`, payload: {} });
      expect(del.json()).toEqual({ deleted: job.id, removed: [oldDir] });
      expect(existsSync(join(dir, 'root', oldDir))).toBe(false);
    } finally {
      await app.close();
    }
  });
});
