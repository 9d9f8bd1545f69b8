import { formatCoreHours, jobCost, planQuota, quotaRefusal, quotaSummary, type QuotaView } from '../src';

/**
 * The cases the dialog (src/spec.ts quotaSummary), the plan route and the ledger computed apart
 * before they shared this module; the same numbers and sentences they asserted.
 */
const quota = (limits: Partial<QuotaView['limits']>, usage: Partial<QuotaView['usage']> = {}): QuotaView => ({
  windowHours: 24,
  limits: { concurrentJobs: 4, concurrentCores: 4, coreHours: 20, memoryPerJobMiB: 8192, daskWorkersPerCluster: 4, ...limits },
  usage: { concurrentJobs: 0, concurrentCores: 0, coreHours: 0, ...usage },
});

describe('jobCost: cores held at once and core-hours reserved', () => {
  it.each([
    ['one run', { cpus: 2, memoryMiB: 1024, walltimeSeconds: 3600 }, 2, 2],
    ['a local sweep: one item at a time, every item reserved', { cpus: 2, memoryMiB: 1024, walltimeSeconds: 3600, runs: 3 }, 2, 6],
    ['an HTCondor sweep: every item at once', { cpus: 2, memoryMiB: 1024, walltimeSeconds: 3600, runs: 6, sweepsInParallel: true }, 12, 12],
    ['a Dask cluster: cpus per worker', { cpus: 2, memoryMiB: 1024, walltimeSeconds: 1800, workers: 3 }, 6, 3],
    ['rounded to 0.001 core-hour', { cpus: 1, memoryMiB: 1024, walltimeSeconds: 1 }, 1, 0],
  ])('%s', (_what, req, cores, coreHours) => {
    expect(jobCost(req)).toEqual({ cores, coreHours });
  });
});

describe("quotaRefusal: the ledger's first broken limit and its sentence", () => {
  it.each([
    ['fits', quota({}), { cpus: 1, memoryMiB: 2048, walltimeSeconds: 3600 }, null],
    [
      'memory',
      quota({}),
      { cpus: 1, memoryMiB: 100_000, walltimeSeconds: 60 },
      'Memory per job limit is 8192 MiB; you asked for 100000 MiB. Ask for at most 8192 MiB.',
    ],
    [
      'concurrent jobs',
      quota({ concurrentJobs: 3 }, { concurrentJobs: 3 }),
      { cpus: 1, memoryMiB: 2048, walltimeSeconds: 60 },
      'Concurrent jobs limit is 3; you have 3 not yet finished. Wait for a job to finish or cancel one.',
    ],
    [
      'cores',
      quota({ concurrentCores: 4, coreHours: 10 }, { concurrentJobs: 1, concurrentCores: 3, coreHours: 3 }),
      { cpus: 2, memoryMiB: 2048, walltimeSeconds: 60 },
      'Concurrent cores limit is 4; you are using 3 and asked for 2. Ask for at most 1 core or wait for a job to finish.',
    ],
    [
      'cores of a parallel sweep',
      quota({ concurrentCores: 8 }),
      { cpus: 2, memoryMiB: 2048, walltimeSeconds: 60, runs: 6, sweepsInParallel: true },
      'Concurrent cores limit is 8; you are using 0 and asked for 12 (6 sweep items × 2 cores). A sweep running all at once needs items × cores; use at most 4 items of 2 cores, or the local backend (one item at a time), or wait for a job to finish.',
    ],
    [
      'core-hours of a local sweep',
      quota({ concurrentCores: 2, coreHours: 10 }),
      { cpus: 2, memoryMiB: 2048, walltimeSeconds: 3600, runs: 6 },
      'Core-hours limit is 10 per 24 hours; you have used 0 and this job reserves 12 (6 sweep items × 2 cores × walltime). Ask for at most 10 core-hours (fewer cores or a shorter walltime) or wait for older jobs to leave the 24-hour window.',
    ],
    [
      'Dask workers',
      quota({ daskWorkersPerCluster: 2 }),
      { cpus: 1, memoryMiB: 2048, walltimeSeconds: 60, workers: 3 },
      'Dask workers per cluster limit is 2; you asked for 3. Ask for at most 2 workers.',
    ],
  ])('%s', (_what, q, req, message) => {
    expect(quotaRefusal(q, req)?.message ?? null).toBe(message);
  });

  it('gives the limit, its value, the usage and the request for the error details', () => {
    const refusal = quotaRefusal(quota({ concurrentJobs: 3 }, { concurrentJobs: 3 }), { cpus: 1, memoryMiB: 2048, walltimeSeconds: 60 });
    expect(refusal).toMatchObject({ limit: 'concurrentJobs', limitValue: 3, usage: 3, request: 1 });
  });

  it('refuses a catalog run whose planned estimate does not fit the core-hours left', () => {
    const refusal = quotaRefusal(
      quota({ coreHours: 1 }, { coreHours: 0.5 }),
      { cpus: 1, memoryMiB: 2048, walltimeSeconds: 60 },
      { coreHours: 0.75, of: 'this catalog run (3 partitions, 1000 rows)' },
    );
    expect(refusal?.message).toBe(
      'Core-hours limit is 1 per 24 hours and 0.5 are left; this catalog run (3 partitions, 1000 rows) is estimated at 0.75 core-hours. Choose a smaller region or fewer columns, or wait for older jobs to leave the window.',
    );
  });
});

describe("planQuota: the plan route's line", () => {
  it.each([
    [
      'fits',
      quota({ coreHours: 20 }, { coreHours: 2 }),
      0.0123,
      { coreHoursLeft: 18, fits: true, message: 'Estimated 0.01 core-hours of the 18 you have left.' },
    ],
    [
      'does not fit',
      quota({ coreHours: 1 }, { coreHours: 0.5 }),
      2,
      {
        coreHoursLeft: 0.5,
        fits: false,
        message: 'Estimated 2 core-hours, but only 0.5 are left in your 24-hour window: choose a smaller region or fewer columns, or wait.',
      },
    ],
  ])('%s', (_what, q, estimate, answer) => {
    expect(planQuota(q, estimate)).toEqual(answer);
  });
});

describe("quotaSummary: the submit dialog's line", () => {
  const noDaskCap = (q: QuotaView) => ({ ...q, limits: { ...q.limits, daskWorkersPerCluster: undefined } });
  it.each([
    [
      'one run that fits',
      quota({}),
      { cpus: 1, memoryMiB: 2048, walltimeMinutes: 60 },
      { text: 'Uses 1 of 4 concurrent jobs, 1 of 4 cores, est. 1 core-hours of 20 left', fits: true },
    ],
    [
      'over three limits',
      quota({}, { concurrentJobs: 4, concurrentCores: 2, coreHours: 19.5 }),
      { cpus: 1, memoryMiB: 9000, walltimeMinutes: 60 },
      {
        text: 'Uses 5 of 4 concurrent jobs, 3 of 4 cores, est. 1 core-hours of 0.5 left — over the limit for concurrent jobs, core-hours, memory (at most 8192 MiB a job)',
        fits: false,
      },
    ],
    [
      'a parallel sweep',
      quota({ concurrentCores: 16 }),
      { cpus: 2, memoryMiB: 2048, walltimeMinutes: 60, runs: 6, parallel: true },
      { text: 'Uses 1 of 4 concurrent jobs, 12 of 16 cores, est. 12 core-hours of 20 left', fits: true },
    ],
    [
      'a sweep in turn',
      quota({ concurrentCores: 16 }),
      { cpus: 2, memoryMiB: 2048, walltimeMinutes: 60, runs: 11, parallel: false },
      {
        text: 'Uses 1 of 4 concurrent jobs, 2 of 16 cores, est. 22 core-hours of 20 left — over the limit for core-hours',
        fits: false,
      },
    ],
    [
      'too many Dask workers',
      quota({ daskWorkersPerCluster: 1 }),
      { cpus: 1, memoryMiB: 2048, walltimeMinutes: 60, workers: 2 },
      {
        text: 'Uses 1 of 4 concurrent jobs, 2 of 4 cores, est. 2 core-hours of 20 left — over the limit for Dask workers (at most 1 worker per cluster)',
        fits: false,
      },
    ],
  ])('%s', (_what, q, req, line) => {
    expect(quotaSummary(q, req)).toEqual(line);
  });

  it('accepts a quota from an older proxy that sends no Dask worker cap', () => {
    expect(quotaSummary(noDaskCap(quota({ concurrentCores: 64 })), { cpus: 1, memoryMiB: 2048, walltimeMinutes: 6, workers: 9 })).toEqual({
      text: 'Uses 1 of 4 concurrent jobs, 9 of 64 cores, est. 0.9 core-hours of 20 left',
      fits: true,
    });
  });
});

describe('formatCoreHours: one way to write core-hours everywhere', () => {
  it('writes the numbers a user saw three ways the same way', () => {
    // seen before: "est. 0.00008", "of the 23.978", "used 0.025984"
    expect([0.00008, 23.978, 0.025984].map(formatCoreHours)).toEqual(['<0.01', '24', '0.03']);
    expect([0, 1, 2.5, 12.04, 150.6].map(formatCoreHours)).toEqual(['0', '1', '2.5', '12', '151']);
  });
});
