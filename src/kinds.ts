/**
 * Job kinds as the extension handles them. Every branch on a kind is a
 * `switch` ending in `unhandledKind`, so a new kind fails to compile wherever
 * it is not handled yet.
 */
import { Batch } from './tokens';

/** The kinds the submit dialog builds; a catalog run and a pipeline run have their own dialogs. */
export type SubmitKind = Exclude<Batch.JobKind, 'catalog' | 'pipeline'>;

/** The `default` of a switch on a kind: unreachable while every kind is handled. */
export function unhandledKind(kind: never): never {
  throw new Error(`User Batch does not handle jobs of kind "${String(kind)}"`);
}

/** Whether a kind runs a whole file (a notebook, a script) rather than chosen cells or a function. */
export function runsWholeFile(kind: Batch.JobKind): boolean {
  switch (kind) {
    case 'notebook':
    case 'script':
      return true;
    case 'cells':
    case 'catalog':
    case 'pipeline':
      return false;
    default:
      return unhandledKind(kind);
  }
}

/** Whether the submit dialog offers setup cells: only cells have cells above them. */
export function takesSetupCells(kind: SubmitKind): boolean {
  switch (kind) {
    case 'cells':
      return true;
    case 'notebook':
    case 'script':
      return false;
    default:
      return unhandledKind(kind);
  }
}

/** Whether a job has a catalog run's partitions and preview to show: the contract's rule. */
export { runsOverPartitions as hasCatalogRun } from '@user-batch/contract/lib/traits';
