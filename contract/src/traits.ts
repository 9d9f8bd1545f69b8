import type { JobKind } from './spec';

/**
 * What a kind is like, for code on either side (no zod here: the extension's bundle imports this
 * module at run time, the kind list only as a type).
 */

/** Whether a job of this kind runs over a catalog's partitions (has a plan, partitions and a preview). */
export function runsOverPartitions(kind: JobKind): boolean {
  switch (kind) {
    case 'catalog':
      return true;
    case 'cells':
    case 'notebook':
    case 'script':
    case 'pipeline':
      return false;
    default: {
      const exhaustive: never = kind;
      return exhaustive;
    }
  }
}
