import type { AddressInfo } from 'node:net';
import type { Job } from '@user-batch/contract';
import { cellsSpec, makeApp, openStream, type Received, type TestApp, waitFor } from './helpers';

describe('live events', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await makeApp({ USER_BATCH_AUTH: 'trusted-header', USER_BATCH_SECRET: 'x' });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t.app.close();
  });

  it("pushes the user's job changes within a second, and nothing of other users'", async () => {
    const alice = { 'x-user-batch-secret': 'x', 'x-auth-request-user': 'alice' };
    const bob = { 'x-user-batch-secret': 'x', 'x-auth-request-user': 'bob' };
    const aliceStream = await openStream(`${base}/api/events`, alice);
    const bobStream = await openStream(`${base}/api/events`, bob);
    try {
      const res = await fetch(`${base}/api/jobs`, {
        method: 'POST',
        headers: { ...alice, 'content-type': 'application/json' },
        body: JSON.stringify(cellsSpec({ params: { sleep: 0.3 } })),
      });
      const job = (await res.json()) as Job;
      const deadline = Date.now() + 10_000;
      const succeeded = (): Received | undefined =>
        aliceStream.events.find(e => e.event === 'job' && (e.data as Job).id === job.id && (e.data as Job).state === 'succeeded');
      while (!succeeded() && Date.now() < deadline) await new Promise(r => setTimeout(r, 20));
      const pushed = succeeded();
      expect(pushed).toBeDefined();
      const changedAt = Date.parse(t.app.store.events(job.id).find(e => e.state === 'succeeded')!.at);
      expect(pushed!.at - changedAt).toBeLessThan(1000);

      const states = aliceStream.events.filter(e => e.event === 'job').map(e => (e.data as Job).state);
      expect(states[0]).toBe('pending');
      expect(states).toContain('running');
      expect(aliceStream.events.some(e => e.event === 'quota')).toBe(true);
      expect(bobStream.events.filter(e => e.event === 'job')).toEqual([]);
    } finally {
      aliceStream.close();
      bobStream.close();
    }
    await waitFor(() => t.app.hub.connections === 0, 'closed streams to be dropped', 2000);
  });

  it('needs the secret for the stream too', async () => {
    const res = await fetch(`${base}/api/events`, { headers: { 'x-auth-request-user': 'alice' } });
    expect(res.status).toBe(401);
  });
});
