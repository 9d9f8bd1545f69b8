import type { AddressInfo } from 'node:net';
import type { Job } from '@user-batch/contract';
import { cellsSpec, makeApp, type TestApp, waitForState } from './helpers';

/**
 * A page reload while a submit is on its way: the browser drops the request. Whatever the proxy
 * got of it, the job it acknowledged is listed, and the extension's re-send (same key) never
 * makes a second job.
 */
describe('a submit cut off by a reload', () => {
  let t: TestApp;
  let base = '';
  beforeAll(async () => {
    t = await makeApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    // fetch keeps its connections alive; the server would wait for them
    t.app.server.closeAllConnections();
    await t.app.close();
  });

  const listed = async (): Promise<Job[]> => ((await (await fetch(`${base}/api/jobs`)).json()) as { jobs: Job[] }).jobs;
  const post = (key: string, spec: Record<string, unknown>, signal?: AbortSignal): Promise<Response> =>
    fetch(`${base}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(spec),
      signal,
    });

  it('lists the job it acknowledged, at once', async () => {
    const res = await post('ack-1', cellsSpec({ name: 'acknowledged', params: { sleep: 0.05 } }));
    expect(res.status).toBe(201);
    const job = (await res.json()) as Job;
    expect((await listed()).map(j => j.id)).toContain(job.id);
    await waitForState(t.app, job.id, ['succeeded']);
  });

  it('answers a re-send with the same key with the same job, whether or not the first one arrived', async () => {
    const spec = cellsSpec({ name: 'cut off', params: { sleep: 0.05 } });
    const before = (await listed()).length;
    // the reload: the browser drops the request as soon as it is sent
    const controller = new AbortController();
    const cut = post('reload-1', spec, controller.signal).catch(() => null);
    setTimeout(() => controller.abort(), 1);
    await cut;
    // the reloaded page sends it again with its key, maybe twice (two tabs)
    const [again, twice] = await Promise.all([post('reload-1', spec), post('reload-1', spec)]);
    expect([again.status, twice.status].sort()).toEqual(expect.arrayContaining([200]));
    const a = (await again.json()) as Job;
    const b = (await twice.json()) as Job;
    expect(a.id).toBe(b.id);
    const after = await listed();
    expect(after.filter(j => j.name === 'cut off').map(j => j.id)).toEqual([a.id]);
    expect(after.length).toBe(before + 1);
    await waitForState(t.app, a.id, ['succeeded']);
  });
});
