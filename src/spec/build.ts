/**
 * The submit dialog's values and the job spec built from them for cells,
 * notebooks and scripts (catalog runs: ../catalog.ts).
 */
import { SubmitKind, unhandledKind } from '../kinds';
import { Batch } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import {
  CellsFrom,
  ICellInfo,
  ICellsChoice,
  selectSetupCells,
  SetupMode
} from './cells';
import { formatParameterErrors, parseParameters } from './literals';
import { hasSweep, parseSweep } from './sweeps';
import {
  isDaskBackend,
  IWorkerValues,
  validateWorkers,
  dialogResources
} from './workers';

/**
 * The values of the submit dialog.
 */
export interface ISubmitValues extends IWorkerValues {
  name: string;
  setup: SetupMode;
  chosenSetupIds: string[];
  parameters: string;
  /** The sweep textarea; empty (or missing) for a single run. */
  sweep?: string;
  cpus: number;
  memoryMiB: number;
  walltimeMinutes: number;
  backend: string;
  account: string;
  /** Kind `cells`: run the selected cells or the cells tagged `batch` (when the source offers both). */
  cellsFrom?: CellsFrom;
}

/**
 * Check the dialog's values; returns one sentence per problem.
 */
export function validateValues(
  values: ISubmitValues,
  trans: TranslationBundle = loadTrans()
): string[] {
  const problems: string[] = [];
  const name = values.name.trim();
  if (!name) {
    problems.push(trans.__('Give the job a name.'));
  } else if (name.length > 200) {
    problems.push(trans.__('The name is longer than 200 characters.'));
  }
  if (!Number.isInteger(values.cpus) || values.cpus < 1) {
    problems.push(trans.__('CPUs must be a whole number of at least 1.'));
  }
  if (!Number.isInteger(values.memoryMiB) || values.memoryMiB < 1) {
    problems.push(
      trans.__('Memory must be a whole number of MiB, at least 1.')
    );
  }
  if (!(values.walltimeMinutes > 0)) {
    problems.push(trans.__('Walltime must be more than 0 minutes.'));
  }
  if (!values.backend) {
    problems.push(trans.__('Choose a backend.'));
  }
  if (!values.account) {
    problems.push(trans.__('Choose the account to charge.'));
  }
  return problems;
}

/**
 * What a job is built from, besides the dialog's values.
 */
export interface IJobSource {
  kind: SubmitKind;
  notebookPath: string;
  kernelName?: string;
  /** Kind `cells`: the main cells. */
  main?: ReadonlyArray<ICellInfo>;
  /** Kind `cells`: the candidates for setup, in notebook order. */
  setupCandidates?: ReadonlyArray<ICellInfo>;
  /**
   * Kind `cells`: the selected cells and the tagged ones, when the user may
   * choose (`withCellsFrom` sets main and setupCandidates from the choice).
   */
  cellChoices?: { selection: ICellsChoice | null; tags: ICellsChoice | null };
  /** Kind `notebook`: the nbformat JSON. */
  notebook?: Record<string, unknown>;
  /** Kind `script`: the Python file's text as the editor has it. */
  script?: { content: string; args?: string[] };
}

/** The source with the main and setup cells of the chosen rule (unchanged when it offers no choice). */
export function withCellsFrom(
  source: IJobSource,
  from: CellsFrom | undefined
): IJobSource {
  const chosen =
    from && source.cellChoices?.[from === 'tags' ? 'tags' : 'selection'];
  return chosen
    ? { ...source, main: chosen.main, setupCandidates: chosen.setupCandidates }
    : source;
}

/** Whether a path names a Python file "Run script in batch" can run. */
export function isPythonFile(path: string): boolean {
  return /\.py$/i.test(path);
}

/**
 * The source of a script job: the file's path (relative to the Jupyter
 * root) and its text as the editor has it, saved or not.
 */
export function scriptJobSource(path: string, content: string): IJobSource {
  return { kind: 'script', notebookPath: path, script: { content } };
}

/**
 * Build the JobSpec, or throw an Error whose message lists every problem.
 */
export function buildJobSpec(
  offered: IJobSource,
  values: ISubmitValues & IWorkerValues,
  idempotencyKey: string,
  backendType?: Batch.BackendType,
  trans: TranslationBundle = loadTrans()
): Batch.IJobSpec {
  const source = withCellsFrom(offered, values.cellsFrom);
  const dask = isDaskBackend(backendType);
  const problems = validateValues(values, trans);
  if (dask) {
    problems.push(...validateWorkers(values, trans));
  }
  const parsed = parseParameters(values.parameters, trans);
  if (parsed.errors.length) {
    problems.push(formatParameterErrors(parsed.errors, undefined, trans));
  }
  const sweep = hasSweep(values)
    ? parseSweep(values.sweep ?? '', true, trans)
    : null;
  if (sweep?.errors.length) {
    problems.push(...sweep.errors);
  }
  problems.push(...sourceProblems(source, trans));
  if (problems.length) {
    throw new Error(problems.join('\n'));
  }
  const spec: Batch.IJobSpec = {
    name: values.name.trim(),
    kind: source.kind,
    source: { notebookPath: source.notebookPath },
    parameters: parsed.parameters,
    resources: dialogResources(values, dask),
    backend: values.backend,
    account: values.account,
    idempotencyKey
  };
  if (sweep) {
    spec.sweep = sweep.items;
  }
  if (source.kernelName) {
    spec.source.kernelName = source.kernelName;
  }
  switch (source.kind) {
    case 'cells': {
      const setup = selectSetupCells(
        source.setupCandidates ?? [],
        values.setup,
        values.chosenSetupIds
      );
      spec.source.cells = [
        ...setup.map(cell => ({
          id: cell.id,
          role: 'setup' as const,
          source: cell.source
        })),
        ...(source.main ?? []).map(cell => ({
          id: cell.id,
          role: 'main' as const,
          source: cell.source
        }))
      ];
      break;
    }
    case 'script':
      spec.source.script = { ...source.script! };
      break;
    case 'notebook':
      spec.source.notebook = source.notebook;
      break;
    default:
      return unhandledKind(source.kind);
  }
  return spec;
}

/** What a kind's source lacks to make a job; a sentence each. */
function sourceProblems(
  source: IJobSource,
  trans: TranslationBundle
): string[] {
  switch (source.kind) {
    case 'cells':
      return source.main && source.main.length
        ? []
        : [trans.__('Select at least one code cell to run.')];
    case 'script':
      return source.script === undefined
        ? [
            trans.__(
              'The script could not be read: open the file and try again.'
            )
          ]
        : [];
    case 'notebook':
      return [];
    default:
      return unhandledKind(source.kind);
  }
}
