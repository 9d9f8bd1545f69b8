/** Script jobs (a Python file as the editor has it), run by the real runner on the local backend. */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '@user-batch/contract';
import { PYTHON } from './catalog/helpers';
import { localDay, makeApp, type TestApp, waitForState } from './helpers';

const SCRIPT =
  'import os, sys\nprint("argv", sys.argv[1:], "file", os.path.basename(__file__), "threshold", threshold)\n' +
  'if __name__ == "__main__":\n    open(os.path.join(os.environ["BATCH_OUTPUT_DIR"], "done.txt"), "w").write("ok")\n' +
  '"a last expression python would not print"\n';

describe('script jobs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp(
      { USER_BATCH_GROUPS: '', USER_BATCH_PYTHON: PYTHON },
      { runnerCommand: [PYTHON, '-m', 'user_batch.runner'], pollIntervalMs: 200 },
    );
  });
  afterAll(async () => {
    await t.app.close();
  });

  it('runs the file as `python script.py args` would, with the parameters, and keeps an executed notebook', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/jobs',
      payload: {
        name: 'a script',
        kind: 'script',
        backend: 'local',
        parameters: { threshold: 0.25 },
        source: { notebookPath: 'work/fit.py', script: { content: SCRIPT, args: ['--band', 'r'] } },
        resources: { cpus: 1, memoryMiB: 1024, walltimeSeconds: 300 },
      },
    });
    expect(res.statusCode).toBe(201);
    const job = res.json<Job>();
    expect(job).toMatchObject({ kind: 'script', outputNotebook: `${job.outputDir}/fit.batch-${job.id.slice(0, 8)}.ipynb` });
    expect(job.outputDir).toBe(`batch-jobs/${localDay(job.createdAt)}-a-script-${job.id.slice(0, 8)}`);
    const done = await waitForState(t.app, job.id, ['succeeded', 'failed'], 120_000);
    expect(done.state).toBe('succeeded');
    const log = (await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/logs` })).json<{ text: string }>().text;
    expect(log).toContain("argv ['--band', 'r'] file fit.py threshold 0.25");
    // as `python fit.py` would: the log names the script, and no expression's value is shown
    expect(log).toContain('running the script work/fit.py');
    expect(log).not.toMatch(/cell\(s\) to run/);
    expect(log).not.toContain('a last expression python would not print');
    expect(existsSync(join(t.config.rootDir, job.outputDir, 'done.txt'))).toBe(true);
    expect(existsSync(join(t.config.rootDir, job.outputNotebook ?? ''))).toBe(true);
    const prov = (await t.app.inject({ method: 'GET', url: `/api/jobs/${job.id}/provenance` })).json();
    const sha = createHash('sha256').update(SCRIPT).digest('hex');
    expect(prov.code).toEqual([expect.objectContaining({ kind: 'script', sha256: sha })]);
    expect(prov.notebook).toEqual({ path: 'work/fit.py', sha256: sha });
  }, 150_000);

  it("refuses a script job without the file's text", async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/jobs',
      payload: {
        name: 'empty',
        kind: 'script',
        backend: 'local',
        source: { notebookPath: 'work/fit.py' },
      },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain('a "script" job needs source.script.content');
  });
});
