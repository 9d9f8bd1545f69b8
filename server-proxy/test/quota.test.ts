import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { limitsFor, loadQuotaPolicy } from '../src/quota';
import type { Job, QuotaStatus } from '@user-batch/contract';
import { cellsSpec, makeApp, tempDir, type TestApp, waitForState, writtenState } from './helpers';

function quotaFile(yaml: string): string {
  const file = join(tempDir(), 'quota.yaml');
  writeFileSync(file, yaml);
  return file;
}

describe('quota policy', () => {
  it('adds group grants to the default and lets per-user overrides replace the result', () => {
    const policy = loadQuotaPolicy(
      quotaFile(`
windowHours: 12
default: { concurrentJobs: 4, concurrentCores: 4, coreHours: 20, memoryPerJobMiB: 8192 }
groups: { g_dp02: { concurrentJobs: 2, coreHours: 100 }, g_other: { concurrentCores: 8 } }
users: { alice: { concurrentJobs: 10 } }
`),
    );
    expect(policy.windowHours).toBe(12);
    expect(limitsFor(policy, 'bob', ['g_dp02', 'g_other'])).toEqual({
      concurrentJobs: 6,
      concurrentCores: 12,
      coreHours: 120,
      memoryPerJobMiB: 8192,
      daskWorkersPerCluster: 4,
    });
    expect(limitsFor(policy, 'alice', ['g_dp02'])).toEqual({
      concurrentJobs: 10,
      concurrentCores: 4,
      coreHours: 120,
      memoryPerJobMiB: 8192,
      daskWorkersPerCluster: 4,
    });
    expect(limitsFor(policy, 'carol', [])).toEqual({
      concurrentJobs: 4,
      concurrentCores: 4,
      coreHours: 20,
      memoryPerJobMiB: 8192,
      daskWorkersPerCluster: 4,
    });
  });

  it('names the bad key when the quota file is wrong', () => {
    expect(() => loadQuotaPolicy(quotaFile('default: { concurentJobs: 3 }\n'))).toThrow(/concurentJobs/);
  });
});

describe('quota enforcement', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.app.close();
  });

  it('accepts exactly the limit out of 20 parallel submissions and refuses the rest with a clear message', async () => {
    t = await makeApp({
      USER_BATCH_GROUPS: '',
      USER_BATCH_QUOTA_FILE: quotaFile('default: { concurrentJobs: 3, concurrentCores: 100, coreHours: 1000 }\n'),
    });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec({ name: `race ${i}`, params: { sleep: 2 } }) }),
      ),
    );
    const accepted = results.filter(r => r.statusCode === 201);
    const refused = results.filter(r => r.statusCode === 422);
    expect(accepted).toHaveLength(3);
    expect(refused).toHaveLength(17);
    expect(refused[0].json()).toEqual({
      error: 'Concurrent jobs limit is 3; you have 3 not yet finished. Wait for a job to finish or cancel one.',
      code: 'quota_exceeded',
      details: { limit: 'concurrentJobs', limitValue: 3, usage: 3, request: 1 },
    });
    expect(writtenState(t.app, t.dir)).toEqual({ rows: 3, jobDirs: 3, outputDirs: 3 });
    const quota = (await t.app.inject({ method: 'GET', url: '/api/quota' })).json<QuotaStatus>();
    expect(quota.usage.concurrentJobs).toBe(3);
    for (const r of accepted) await t.app.inject({ method: 'POST', url: `/api/jobs/${r.json<Job>().id}/cancel` });
    const after = (await t.app.inject({ method: 'GET', url: '/api/quota' })).json<QuotaStatus>();
    expect(after.usage.concurrentJobs).toBe(0);
  });

  it('a local sweep runs one item at a time: it holds its cores once and reserves core-hours for every item', async () => {
    t = await makeApp({ USER_BATCH_GROUPS: '', USER_BATCH_QUOTA_FILE: quotaFile('default: { concurrentCores: 2, coreHours: 10 }\n') });
    const sweep = { ...cellsSpec({ cpus: 2, walltimeSeconds: 3600 }), sweep: [{ threshold: 1 }, { threshold: 2 }, { threshold: 3 }] };
    const ok = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: sweep });
    expect(ok.statusCode).toBe(201);
    expect(ok.json<Job>().cost.reservedCoreHours).toBe(6); // 3 items × 2 cores × 1 hour
    const quota = (await t.app.inject({ method: 'GET', url: '/api/quota' })).json<QuotaStatus>();
    expect(quota.usage).toMatchObject({ concurrentJobs: 1, concurrentCores: 2, coreHours: 6 });
    const tooLong = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: { ...sweep, sweep: [{}, {}] } });
    expect(tooLong.statusCode).toBe(422);
    expect(tooLong.json().error).toContain('Concurrent cores limit is 2; you are using 2 and asked for 2.');
    await t.app.inject({ method: 'POST', url: `/api/jobs/${ok.json<Job>().id}/cancel` });
    const longer = await t.app.inject({
      method: 'POST',
      url: '/api/jobs',
      payload: { ...sweep, sweep: Array.from({ length: 6 }, () => ({})) },
    });
    expect(longer.statusCode).toBe(422);
    expect(longer.json().error).toContain('this job reserves 12 (6 sweep items × 2 cores × walltime)');
  });

  it('says how many cores would fit, and settles the cost to what the job used', async () => {
    t = await makeApp({ USER_BATCH_GROUPS: '', USER_BATCH_QUOTA_FILE: quotaFile('default: { concurrentCores: 4, coreHours: 10 }\n') });
    const first = await t.app.inject({
      method: 'POST',
      url: '/api/jobs',
      payload: cellsSpec({ cpus: 3, walltimeSeconds: 3600, params: { sleep: 1 } }),
    });
    expect(first.statusCode).toBe(201);
    expect(first.json<Job>().cost).toEqual({ reservedCoreHours: 3, usedCoreHours: null });
    const tooMany = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec({ cpus: 2 }) });
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json().error).toBe(
      'Concurrent cores limit is 4; you are using 3 and asked for 2. Ask for at most 1 core or wait for a job to finish.',
    );
    const tooLong = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec({ cpus: 1, walltimeSeconds: 8 * 3600 }) });
    expect(tooLong.statusCode).toBe(422);
    expect(tooLong.json().error).toContain('Core-hours limit is 10 per 24 hours; you have used 3 and this job reserves 8');
    expect(tooLong.json().error).toContain('Ask for at most 7 core-hours');

    const done = await waitForState(t.app, first.json<Job>().id, ['succeeded']);
    expect(done.cost.reservedCoreHours).toBe(3);
    expect(done.cost.usedCoreHours).toBeGreaterThan(0);
    expect(done.cost.usedCoreHours).toBeLessThan(0.01); // 3 cores × about a second
    const quota = (await t.app.inject({ method: 'GET', url: '/api/quota' })).json<QuotaStatus>();
    expect(quota.usage).toEqual({ concurrentJobs: 0, concurrentCores: 0, coreHours: done.cost.usedCoreHours });
    const nowFits = await t.app.inject({ method: 'POST', url: '/api/jobs', payload: cellsSpec({ cpus: 4, walltimeSeconds: 3600 }) });
    expect(nowFits.statusCode).toBe(201);
  });
});
