import type { Job, Provenance } from '@user-batch/contract';
import { cellsSpec, makeApp, type TestApp, waitForState } from './helpers';

const notebook = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [{ cell_type: 'code', source: 'y = 2', metadata: {}, outputs: [] }],
};

/** "Run again" from the sidebar: POST /api/jobs/:id/rerun, for the kinds the submit dialog makes. */
describe('running a job again from its record', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp();
  });
  afterAll(async () => {
    await t.app.close();
  });

  const provenance = async (id: string): Promise<Provenance> =>
    (await t.app.inject({ method: 'GET', url: `/api/jobs/${id}/provenance` })).json<Provenance>();

  it.each([
    ['cells', { ...cellsSpec({ name: 'cells again', params: { sleep: 0.01 } }), idempotencyKey: 'first-cells' }],
    [
      'notebook',
      {
        ...cellsSpec({ name: 'notebook again', params: { sleep: 0.01 } }),
        kind: 'notebook',
        source: { notebookPath: 'nb/whole.ipynb', notebook },
        idempotencyKey: 'first-notebook',
      },
    ],
    [
      'script',
      {
        ...cellsSpec({ name: 'script again', params: { sleep: 0.01 } }),
        kind: 'script',
        source: { notebookPath: 'work/fit.py', script: { content: 'print("fit")\n', args: ['--band', 'r'] } },
        idempotencyKey: 'first-script',
      },
    ],
  ])('submits a %s job again as a new job with the same spec', async (_kind, spec) => {
    const first = await waitForState(t.app, (await t.app.inject({ method: 'POST', url: '/api/jobs', payload: spec })).json<Job>().id, [
      'succeeded',
    ]);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/jobs/${first.id}/rerun`,
      headers: { 'idempotency-key': `again-${first.id}` },
    });
    expect(res.statusCode).toBe(201);
    const again = res.json<Job>();
    expect(again.id).not.toBe(first.id);
    expect(again).toMatchObject({ name: first.name, kind: first.kind, notebookPath: first.notebookPath });
    // its own output folder: the same name and day, another id
    expect(again.outputDir).not.toBe(first.outputDir);
    await waitForState(t.app, again.id, ['succeeded']);
    const [before, after] = [await provenance(first.id), await provenance(again.id)];
    // the same spec (the idempotency key is not part of the hash), the same code
    expect(after.specSha256).toBe(before.specSha256);
    expect(after.code).toEqual(before.code);
    expect((after.spec as { idempotencyKey?: string }).idempotencyKey).toBeUndefined();

    // a retried click (the same key) is the same new job, not a third one
    const retried = await t.app.inject({
      method: 'POST',
      url: `/api/jobs/${first.id}/rerun`,
      headers: { 'idempotency-key': `again-${first.id}` },
    });
    expect(retried.statusCode).toBe(200);
    expect(retried.json<Job>().id).toBe(again.id);
  });

  it('makes a new job from an edited spec: the hash differs only by what changed', async () => {
    const spec = { ...cellsSpec({ name: 'to edit', params: { sleep: 0.01 } }) };
    const first = (await t.app.inject({ method: 'POST', url: '/api/jobs', payload: spec })).json<Job>();
    await waitForState(t.app, first.id, ['succeeded']);
    // what "Edit and run" sends: the recorded spec (from the provenance) with a new name
    const recorded = (await provenance(first.id)).spec as Record<string, unknown>;
    const edited = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: { ...recorded, name: 'edited' } });
    expect(edited.statusCode).toBe(201);
    const job = edited.json<Job>();
    expect(job.id).not.toBe(first.id);
    expect(job.name).toBe('edited');
    await waitForState(t.app, job.id, ['succeeded']);
    const renamed = await provenance(job.id);
    expect(renamed.specSha256).not.toBe((await provenance(first.id)).specSha256);
    expect({ ...(renamed.spec as object), name: 'to edit' }).toEqual(recorded);
  });
});
