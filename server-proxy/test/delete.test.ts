import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Job, Provenance, QuotaStatus } from '@user-batch/contract';
import { buildApp } from '../src/app';
import { cellsSpec, makeApp, openStream, type TestApp, testConfig, waitFor, waitForState } from './helpers';

const SECRET = 'x';
const alice = { 'x-user-batch-secret': SECRET, 'x-auth-request-user': 'alice' };
const bob = { 'x-user-batch-secret': SECRET, 'x-auth-request-user': 'bob' };

describe('deleting finished jobs', () => {
  let t: TestApp;
  let base: string;
  /** A job's output folder on disk, as its record names it. */
  const outputDir = (job: Job): string => join(t.dir, 'root', ...job.outputDir.split('/'));
  const jobDir = (id: string): string => join(t.dir, 'data', 'jobs', id);

  const submit = async (params: Record<string, unknown> = {}, name = 'to delete'): Promise<Job> => {
    const res = await t.app.inject({ method: 'POST', url: '/api/jobs', headers: alice, payload: cellsSpec({ name, params }) });
    expect(res.statusCode).toBe(201);
    return res.json<Job>();
  };
  const finished = async (params: Record<string, unknown> = {}): Promise<Job> => {
    const job = await submit({ sleep: 0.05, ...params });
    return reach(job.id, ['succeeded', 'failed']);
  };
  const get = (url: string, headers: Record<string, string> = alice) => t.app.inject({ method: 'GET', url, headers });
  const listed = async (): Promise<string[]> => (await get('/api/jobs')).json<{ jobs: Job[] }>().jobs.map(j => j.id);
  const del = (id: string, query = '', headers: Record<string, string> = alice) =>
    t.app.inject({ method: 'DELETE', url: `/api/jobs/${id}${query}`, headers });
  const delMany = (payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/api/jobs/delete', headers: alice, payload });

  beforeAll(async () => {
    t = await makeApp({ USER_BATCH_AUTH: 'trusted-header', USER_BATCH_SECRET: SECRET, USER_BATCH_GROUPS: '' });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t.app.close();
  });

  /** waitForState as alice (trusted-header mode). */
  const reach = (id: string, states: string[]): Promise<Job> => waitForState(t.app, id, states, 20_000, alice);

  it("removes a finished job's output folder, job folder and record, and it leaves the listing", async () => {
    const job = await finished();
    expect(existsSync(outputDir(job))).toBe(true);
    expect(existsSync(jobDir(job.id))).toBe(true);
    expect(await listed()).toContain(job.id);

    const res = await del(job.id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ deleted: job.id, removed: [job.outputDir] });
    expect(existsSync(outputDir(job))).toBe(false);
    expect(existsSync(jobDir(job.id))).toBe(false);
    expect(await listed()).not.toContain(job.id);
    expect((await get(`/api/jobs/${job.id}`)).statusCode).toBe(404);
    expect((await get(`/api/jobs/${job.id}/provenance`)).statusCode).toBe(404);
    const rows = t.app.db.prepare(
      'SELECT (SELECT COUNT(*) FROM jobs WHERE id = ?) AS jobs, (SELECT COUNT(*) FROM events WHERE job_id = ?) AS events',
    );
    expect(rows.get(job.id, job.id)).toEqual({ jobs: 0, events: 0 });
    // a second delete finds nothing
    expect((await del(job.id)).statusCode).toBe(404);
  });

  it("answers another user's job exactly like a missing one, and leaves it alone", async () => {
    const job = await finished();
    const asBob = await del(job.id, '', bob);
    const missing = await del('no-such-job', '', bob);
    expect(asBob.statusCode).toBe(404);
    expect(asBob.json()).toEqual(missing.json());
    expect(existsSync(outputDir(job))).toBe(true);
    expect(await listed()).toContain(job.id);
  });

  it('refuses a running job with 409 and a sentence saying to cancel it first', async () => {
    const job = await submit({ sleep: 20 });
    await reach(job.id, ['running']);
    const res = await del(job.id);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'job_active' });
    expect(res.json<{ error: string }>().error).toMatch(/still running; cancel it first/);
    expect(existsSync(jobDir(job.id))).toBe(true);
    expect(await listed()).toContain(job.id);
    await t.app.inject({ method: 'POST', url: `/api/jobs/${job.id}/cancel`, headers: alice, payload: {} });
  }, 40_000);

  it('keeps the provenance readable with keepProvenance, while the job leaves the list and its outputs go', async () => {
    const job = await finished();
    const before = (await get(`/api/jobs/${job.id}/provenance`)).json<Provenance>();
    expect(before.outputs.length).toBeGreaterThan(0);

    // as the extension sends it: an empty JSON body
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/api/jobs/${job.id}?keepProvenance=true`,
      headers: { ...alice, 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(res.statusCode).toBe(200);
    expect(existsSync(outputDir(job))).toBe(false);
    expect(existsSync(jobDir(job.id))).toBe(false);
    expect(await listed()).not.toContain(job.id);
    expect((await get(`/api/jobs/${job.id}`)).statusCode).toBe(404);
    expect((await get(`/api/jobs/${job.id}/outputs`)).statusCode).toBe(404);

    const kept = await get(`/api/jobs/${job.id}/provenance`);
    expect(kept.statusCode).toBe(200);
    const provenance = kept.json<Provenance>();
    expect(provenance.job.id).toBe(job.id);
    expect(provenance.specSha256).toBe(before.specSha256);
    expect(provenance.outputs).toEqual(before.outputs);
    expect(provenance.environment).toEqual(before.environment);
    expect(provenance.events.map(e => e.state)).toEqual(before.events.map(e => e.state));
    // the code it ran stays readable too, and only to its owner
    const code = await get(`/api/jobs/${job.id}/code/${provenance.code[0].sha256}`);
    expect(code.statusCode).toBe(200);
    expect((await get(`/api/jobs/${job.id}/provenance`, bob)).statusCode).toBe(404);
    // deleting it again: it is gone already
    expect((await del(job.id)).statusCode).toBe(404);
  });

  it('deletes several at once, listing each one refused with a sentence', async () => {
    const a = await finished();
    const b = await finished({ fail: 'cell' });
    const running = await submit({ sleep: 20 });
    await reach(running.id, ['running']);
    const bobs = (
      await t.app.inject({ method: 'POST', url: '/api/jobs', headers: bob, payload: cellsSpec({ params: { sleep: 0.05 } }) })
    ).json<Job>();

    const res = await delMany({ ids: [a.id, running.id, 'missing', b.id, bobs.id, a.id] });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ deleted: string[]; refused: { id: string; error: string; code: string }[] }>();
    expect(body.deleted).toEqual([a.id, b.id]);
    expect(body.refused.map(r => [r.id, r.code])).toEqual([
      [running.id, 'job_active'],
      ['missing', 'not_found'],
      [bobs.id, 'not_found'],
    ]);
    expect(body.refused[0].error).toMatch(/cancel it first/);
    expect(existsSync(outputDir(a)) || existsSync(outputDir(b))).toBe(false);
    const ids = await listed();
    expect(ids).toContain(running.id);
    expect(ids).not.toContain(a.id);
    expect(ids).not.toContain(b.id);
    await t.app.inject({ method: 'POST', url: `/api/jobs/${running.id}/cancel`, headers: alice, payload: {} });
  }, 40_000);

  it('refuses a bulk request with no ids or more than 1000, with a sentence', async () => {
    const none = await delMany({ ids: [] });
    expect(none.statusCode).toBe(400);
    const many = await delMany({ ids: Array.from({ length: 1001 }, (_, i) => `job-${i}`) });
    expect(many.statusCode).toBe(400);
    expect(many.json<{ error: string }>().error).toMatch(/at most 1000 jobs/);
  });

  it('gives no quota back: the core-hours of a deleted job still count for the period', async () => {
    const job = await finished({ sleep: 0.3 });
    const quota = async (): Promise<QuotaStatus> => (await get('/api/quota')).json<QuotaStatus>();
    await waitFor(async () => (await quota()).usage.concurrentJobs === 0, 'the job to settle');
    const before = await quota();
    expect(before.usage.coreHours).toBeGreaterThan(0);
    expect((await del(job.id)).statusCode).toBe(200);
    expect((await quota()).usage).toEqual(before.usage);
  });

  it('tells open event streams of the owner that the job is gone, and no one else', async () => {
    const job = await finished();
    const aliceStream = await openStream(`${base}/api/events`, alice);
    const bobStream = await openStream(`${base}/api/events`, bob);
    try {
      expect((await del(job.id)).statusCode).toBe(200);
      await waitFor(() => aliceStream.events.find(e => e.event === 'job-deleted'), 'the job-deleted event');
      expect(aliceStream.events.filter(e => e.event === 'job-deleted').map(e => e.data)).toEqual([{ id: job.id }]);
      await new Promise(r => setTimeout(r, 100));
      expect(bobStream.events.filter(e => e.event === 'job-deleted')).toEqual([]);
    } finally {
      aliceStream.close();
      bobStream.close();
    }
  });
});

describe('deleting across a restart', () => {
  it('finishes removing the files of a job marked deleted when the proxy stopped before removing them', async () => {
    const { config, dir } = testConfig({ USER_BATCH_GROUPS: '' });
    let app = await buildApp(config, { logger: false });
    await app.ready();
    const job = (await app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec({ params: { sleep: 0.05 } }) })).json<Job>();
    await waitForState(app, job.id, ['succeeded']);
    const kept = (await app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec({ params: { sleep: 0.05 } }) })).json<Job>();
    await waitForState(app, kept.id, ['succeeded']);
    const provenance = (await app.inject({ method: 'GET', url: `/api/jobs/${kept.id}/provenance` })).json<Provenance>();
    // The crash point: the deletion's first step (the store marks the jobs deleted, in one
    // transaction) has happened, the removal of their files has not. A real kill cannot be timed
    // between the two, so the store's own step is run here and the proxy is stopped.
    app.db.transaction(() => {
      app.store.markDeleted(job.id, new Date().toISOString(), null);
      app.store.markDeleted(kept.id, new Date().toISOString(), JSON.stringify(provenance));
    })();
    expect((await app.inject({ method: 'GET', url: '/api/jobs' })).json<{ jobs: Job[] }>().jobs).toEqual([]);
    await app.close();
    for (const { id, outputDir } of [job, kept]) {
      expect(existsSync(join(dir, 'root', outputDir))).toBe(true);
      expect(existsSync(join(dir, 'data', 'jobs', id))).toBe(true);
    }

    app = await buildApp(config, { logger: false });
    await app.ready();
    try {
      for (const { id, outputDir } of [job, kept]) {
        expect(existsSync(join(dir, 'root', outputDir))).toBe(false);
        expect(existsSync(join(dir, 'data', 'jobs', id))).toBe(false);
      }
      expect(app.db.prepare('SELECT id FROM jobs').all()).toEqual([{ id: kept.id }]);
      expect(app.store.pendingDeletions()).toEqual([]);
      const read = await app.inject({ method: 'GET', url: `/api/jobs/${kept.id}/provenance` });
      expect(read.statusCode).toBe(200);
      expect(read.json<Provenance>().specSha256).toBe(provenance.specSha256);
    } finally {
      await app.close();
    }
  });
});
