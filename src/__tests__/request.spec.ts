import { BatchError } from '../tokens';
import { FakeProxyFetch, json, makeClient, makeJob } from './fakes';

const BASE = '/user/alice/user-batch/api';

describe('BatchClient', () => {
  it('calls the proxy below the Jupyter base URL and decodes the answer', async () => {
    const fake = new FakeProxyFetch().on(`GET ${BASE}/jobs`, {
      jobs: [makeJob()]
    });
    const client = makeClient(fake);
    const jobs = await client.listJobs();
    expect(jobs.map(j => j.id)).toEqual(['job-1']);
    expect(fake.paths()).toEqual([`GET ${BASE}/jobs`]);
    expect(client.baseUrl).toBe('http://localhost:8888/user/alice/user-batch/');
  });

  it('sends the Jupyter token and the idempotency key with a submission', async () => {
    const fake = new FakeProxyFetch().on(`POST ${BASE}/jobs`, () =>
      json(201, makeJob({ state: 'pending' }))
    );
    const client = makeClient(fake, 'secret-token');
    const spec = {
      name: 'x',
      kind: 'cells' as const,
      source: { notebookPath: 'a.ipynb', cells: [] },
      parameters: {},
      resources: { cpus: 1, memoryMiB: 1, walltimeSeconds: 60 },
      backend: 'local',
      account: 'alice',
      idempotencyKey: 'key-123'
    };
    const job = await client.submitJob(spec);
    expect(job.state).toBe('pending');
    const request = fake.requests[0];
    expect(request.headers.get('Authorization')).toBe('token secret-token');
    expect(request.headers.get('Idempotency-Key')).toBe('key-123');
    expect(await request.json()).toEqual(spec);
  });

  it('asks for the log from an offset, without a cache-busting parameter', async () => {
    const fake = new FakeProxyFetch().on(`GET ${BASE}/jobs/job-1/logs`, {
      text: 'hello\n',
      from: 10,
      next: 16,
      size: 16,
      complete: false
    });
    const chunk = await makeClient(fake).getLogs('job-1', 10);
    expect(chunk.next).toBe(16);
    expect(fake.paths()).toEqual([`GET ${BASE}/jobs/job-1/logs?from=10`]);
  });

  it("asks for one sweep item's log when given an item", async () => {
    const chunk = { text: '', from: 0, next: 0, size: 0, complete: false };
    const fake = new FakeProxyFetch().on(`GET ${BASE}/jobs/job-1/logs`, chunk);
    await makeClient(fake).getLogs('job-1', 0, 37);
    await makeClient(fake).getLogs('job-1', 5, null);
    expect(fake.paths()).toEqual([
      `GET ${BASE}/jobs/job-1/logs?from=0&item=37`,
      `GET ${BASE}/jobs/job-1/logs?from=5`
    ]);
  });

  it('turns a refusal into a response error carrying the proxy sentence', async () => {
    const refusal = {
      error:
        'This job asks for 100000 MiB of memory; your limit is 4096 MiB a job.',
      code: 'quota_exceeded',
      details: { limit: 'memoryPerJobMiB', limitValue: 4096 }
    };
    const fake = new FakeProxyFetch().on(`POST ${BASE}/jobs`, () =>
      json(422, refusal)
    );
    const error = await makeClient(fake)
      .submitJob({} as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchError);
    expect(error).toMatchObject({
      kind: 'response',
      status: 422,
      code: 'quota_exceeded',
      message: refusal.error,
      details: refusal.details
    });
  });

  it('says when something other than the proxy answered', async () => {
    const fake = new FakeProxyFetch(); // every path is a plain 404 page
    const error = await makeClient(fake)
      .getQuota()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      kind: 'response',
      status: 404,
      code: 'http_404'
    });
    expect((error as Error).message).toMatch(
      /answered 404 Not Found\. Is jupyter-server-proxy installed/
    );
  });

  it('tells a network failure apart from an answer', async () => {
    const fake = new FakeProxyFetch();
    fake.offline = true;
    const error = await makeClient(fake)
      .getQuota()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'network', status: null });
    expect((error as Error).message).toMatch(
      /user-batch\/ could not be reached/
    );
  });

  it('puts the token in URLs the browser follows itself', () => {
    const withToken = makeClient(new FakeProxyFetch(), 'abc');
    expect(withToken.browserUrl('api/events')).toBe(
      'http://localhost:8888/user/alice/user-batch/api/events?token=abc'
    );
    const without = makeClient(new FakeProxyFetch(), '');
    expect(without.browserUrl('api/jobs/j/provenance', { download: '1' })).toBe(
      'http://localhost:8888/user/alice/user-batch/api/jobs/j/provenance?download=1'
    );
  });
});
