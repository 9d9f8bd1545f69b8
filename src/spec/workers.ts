/**
 * Dask Gateway workers: the dialogs' worker fields, their checks, and the
 * resources entry they become.
 */
import { Batch } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';

/** How a Dask cluster is sized: a fixed number of workers, or adaptive. */
export type WorkersMode = 'fixed' | 'adaptive';

/**
 * The dialogs' Dask worker fields; used only on a `dask-gateway` backend.
 * Missing values mean one fixed worker.
 */
export interface IWorkerValues {
  workersMode?: WorkersMode;
  workers?: number;
  minWorkers?: number;
  maxWorkers?: number;
}

/** Whether a backend type gives each job a Dask cluster to size. */
export function isDaskBackend(type: Batch.BackendType | undefined): boolean {
  return type === 'dask-gateway';
}

/**
 * Check the worker fields; one sentence per problem.
 */
export function validateWorkers(
  values: IWorkerValues,
  trans: TranslationBundle = loadTrans()
): string[] {
  const whole = (n: number | undefined, min: number) =>
    n !== undefined && Number.isInteger(n) && n >= min;
  if ((values.workersMode ?? 'fixed') === 'fixed') {
    return whole(values.workers ?? 1, 1)
      ? []
      : [trans.__('Workers must be a whole number of at least 1.')];
  }
  const problems: string[] = [];
  if (!whole(values.minWorkers, 0)) {
    problems.push(
      trans.__('Minimum workers must be a whole number of at least 0.')
    );
  }
  if (!whole(values.maxWorkers, 1)) {
    problems.push(
      trans.__('Maximum workers must be a whole number of at least 1.')
    );
  }
  if (!problems.length && values.minWorkers! > values.maxWorkers!) {
    problems.push(
      trans.__(
        'Minimum workers is more than the maximum: lower the minimum or raise the maximum.'
      )
    );
  }
  return problems;
}

/** The resources entry for the worker fields (validated before). */
export function workerResources(
  values: IWorkerValues
): Pick<Batch.IResources, 'workers' | 'adaptiveWorkers'> {
  if ((values.workersMode ?? 'fixed') === 'fixed') {
    return { workers: values.workers ?? 1 };
  }
  return {
    adaptiveWorkers: {
      minimum: values.minWorkers ?? 0,
      maximum: values.maxWorkers ?? 1
    }
  };
}

/**
 * The spec's resources from a dialog's fields; the worker fields only on a
 * Dask backend (another would refuse them).
 */
export function dialogResources(
  values: IWorkerValues & {
    cpus: number;
    memoryMiB: number;
    walltimeMinutes: number;
  },
  dask: boolean
): Batch.IResources {
  return {
    cpus: values.cpus,
    memoryMiB: values.memoryMiB,
    walltimeSeconds: Math.round(values.walltimeMinutes * 60),
    ...(dask ? workerResources(values) : {})
  };
}

/**
 * The most workers the cluster may have: what the quota counts cores by
 * (0 while a field does not parse, so the line shows no made-up number).
 */
export function clusterWorkers(values: IWorkerValues): number {
  const n =
    (values.workersMode ?? 'fixed') === 'fixed'
      ? (values.workers ?? 1)
      : values.maxWorkers;
  return n !== undefined && Number.isFinite(n) ? n : 0;
}
