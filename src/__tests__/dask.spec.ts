/**
 * Dask workers: what the dialogs send on a Dask Gateway backend, and how the
 * quota line counts a cluster's cores.
 */
import { buildCatalogSpec, EMPTY_REGION } from '../catalog';
import {
  buildJobSpec,
  clusterWorkers,
  IJobSource,
  ISubmitValues,
  quotaSummary,
  validateWorkers
} from '../spec';
import { Batch, DEFAULT_SETTINGS } from '../tokens';
import { initialValues } from '../widgets/submit';

const source: IJobSource = {
  kind: 'notebook',
  notebookPath: 'work/a.ipynb',
  notebook: { cells: [], nbformat: 4, nbformat_minor: 5, metadata: {} }
};

const values = (patch: Partial<ISubmitValues> = {}): ISubmitValues => ({
  ...initialValues('dask job', DEFAULT_SETTINGS),
  cpus: 2,
  memoryMiB: 4096,
  walltimeMinutes: 30,
  backend: 'dask',
  account: 'alice',
  ...patch
});

describe('buildJobSpec on a Dask Gateway backend', () => {
  it('puts a fixed number of workers into the resources', () => {
    const spec = buildJobSpec(
      source,
      values({ workersMode: 'fixed', workers: 3 }),
      'k',
      'dask-gateway'
    );
    expect(spec.resources).toEqual({
      cpus: 2,
      memoryMiB: 4096,
      walltimeSeconds: 1800,
      workers: 3
    });
  });

  it('puts adaptive bounds into the resources, and no fixed count', () => {
    const spec = buildJobSpec(
      source,
      values({ workersMode: 'adaptive', minWorkers: 0, maxWorkers: 4 }),
      'k',
      'dask-gateway'
    );
    expect(spec.resources).toEqual({
      cpus: 2,
      memoryMiB: 4096,
      walltimeSeconds: 1800,
      adaptiveWorkers: { minimum: 0, maximum: 4 }
    });
  });

  it('leaves workers out on other backends, even when the fields are set', () => {
    for (const type of ['local', 'htcondor', undefined] as const) {
      const spec = buildJobSpec(
        source,
        values({ backend: 'local', workers: 5 }),
        'k',
        type
      );
      expect(spec.resources).toEqual({
        cpus: 2,
        memoryMiB: 4096,
        walltimeSeconds: 1800
      });
    }
  });

  it('refuses bad worker counts with what to fix', () => {
    expect(() =>
      buildJobSpec(source, values({ workers: 0 }), 'k', 'dask-gateway')
    ).toThrow('Workers must be a whole number of at least 1.');
    expect(() =>
      buildJobSpec(
        source,
        values({ workersMode: 'adaptive', minWorkers: 5, maxWorkers: 2 }),
        'k',
        'dask-gateway'
      )
    ).toThrow(
      'Minimum workers is more than the maximum: lower the minimum or raise the maximum.'
    );
    expect(
      validateWorkers({
        workersMode: 'adaptive',
        minWorkers: -1,
        maxWorkers: 0
      })
    ).toEqual([
      'Minimum workers must be a whole number of at least 0.',
      'Maximum workers must be a whole number of at least 1.'
    ]);
    // Off a Dask backend the worker fields are hidden and never block Submit.
    expect(() =>
      buildJobSpec(source, values({ workers: NaN }), 'k', 'local')
    ).not.toThrow();
  });

  it('counts the cluster by its largest size', () => {
    expect(clusterWorkers({ workersMode: 'fixed', workers: 3 })).toBe(3);
    expect(
      clusterWorkers({ workersMode: 'adaptive', minWorkers: 1, maxWorkers: 6 })
    ).toBe(6);
    expect(clusterWorkers({ workersMode: 'fixed', workers: NaN })).toBe(0);
    expect(clusterWorkers({})).toBe(1);
  });
});

describe('buildCatalogSpec on a Dask Gateway backend', () => {
  const catalogSource = {
    notebookPath: 'work/a.ipynb',
    cell: {
      id: 'fn',
      type: 'code',
      source: 'def process(df):\n    return df',
      tags: []
    },
    setupCandidates: []
  };
  const catalogValues = {
    ...values({ workersMode: 'adaptive' as const, maxWorkers: 3 }),
    functionName: 'process',
    catalogPath: 'catalogs/synthetic',
    region: EMPTY_REGION,
    columns: ''
  };

  it('sends the workers of the shared fields with the catalog run', () => {
    const spec = buildCatalogSpec(
      catalogSource,
      catalogValues,
      'k',
      'dask-gateway'
    );
    expect(spec.resources.adaptiveWorkers).toEqual({ minimum: 1, maximum: 3 });
    expect(spec.resources.workers).toBeUndefined();
  });

  it('sends no workers to another backend', () => {
    const spec = buildCatalogSpec(catalogSource, catalogValues, 'k', 'local');
    expect(spec.resources).toEqual({
      cpus: 2,
      memoryMiB: 4096,
      walltimeSeconds: 1800
    });
  });
});

describe('quotaSummary with Dask workers', () => {
  const quota = (daskWorkersPerCluster?: number): Batch.IQuotaStatus => ({
    user: 'alice',
    accounts: ['alice'],
    windowHours: 24,
    limits: {
      concurrentJobs: 4,
      concurrentCores: 16,
      coreHours: 20,
      memoryPerJobMiB: 8192,
      ...(daskWorkersPerCluster === undefined ? {} : { daskWorkersPerCluster })
    },
    usage: { concurrentJobs: 0, concurrentCores: 2, coreHours: 0 }
  });
  const request = { cpus: 2, memoryMiB: 2048, walltimeMinutes: 60 };

  it('counts cores and core-hours as cpus × workers', () => {
    expect(quotaSummary(quota(4), { ...request, workers: 3 })).toEqual({
      text: 'Uses 1 of 4 concurrent jobs, 8 of 16 cores, est. 6 core-hours of 20 left',
      fits: true
    });
  });

  it('says when the cluster asks for more workers than allowed', () => {
    const over = quotaSummary(quota(4), { ...request, workers: 6 });
    expect(over.fits).toBe(false);
    expect(over.text).toBe(
      'Uses 1 of 4 concurrent jobs, 14 of 16 cores, est. 12 core-hours of 20 left — over the limit for Dask workers (at most 4 workers per cluster)'
    );
    expect(quotaSummary(quota(1), { ...request, workers: 2 }).text).toMatch(
      /at most 1 worker per cluster\)$/
    );
  });

  it('counts workers without a cap when an older proxy sends none', () => {
    const summary = quotaSummary(quota(), { ...request, workers: 6 });
    expect(summary.fits).toBe(true);
    expect(summary.text).toContain('14 of 16 cores');
  });

  it('counts one cluster per run side by side for a parallel sweep', () => {
    const summary = quotaSummary(quota(4), {
      ...request,
      workers: 2,
      runs: 3,
      parallel: true
    });
    expect(summary.text).toContain('14 of 16 cores, est. 12 core-hours');
  });
});
