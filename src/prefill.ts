/**
 * "Edit and run": a job's recorded spec back into the values and source of
 * the dialog that made it (cells, notebook, script, catalog run, pipeline
 * run). Submitted unchanged, the dialog builds the same spec again (a new
 * idempotency key; a pipeline run a new plan).
 */
import { ICatalogValues, EMPTY_REGION, IRegionFields } from './catalog';
import { IPipelineValues } from './pipeline';
import { ICellInfo, IJobSource, ISubmitValues, IWorkerValues } from './spec';
import { Batch } from './tokens';
import { loadTrans, TranslationBundle } from './translation';

/** Parameters as the Parameters box takes them: `name = value` a line (JSON literals). */
export function formatParameters(
  parameters: Record<string, Batch.ParameterValue> | undefined
): string {
  return Object.entries(parameters ?? {})
    .map(([name, value]) => `${name} = ${JSON.stringify(value)}`)
    .join('\n');
}

/**
 * A sweep's runs as the Sweep box takes them: a list of values a line.
 * Null when the runs are not every combination of per-name lists in the
 * dialog's order (a spec sent to the API by hand): the box cannot say them.
 */
export function formatSweep(
  items: ReadonlyArray<Record<string, Batch.ParameterValue>> | undefined
): string | null {
  if (!items || items.length === 0) {
    return '';
  }
  const names = Object.keys(items[0]);
  const sameNames = (item: Record<string, Batch.ParameterValue>) =>
    Object.keys(item).length === names.length &&
    names.every(name => Object.prototype.hasOwnProperty.call(item, name));
  if (!items.every(sameNames)) {
    return null;
  }
  const lists = names.map(name => {
    const seen: Batch.ParameterValue[] = [];
    const keys = new Set<string>();
    for (const item of items) {
      const key = JSON.stringify(item[name]);
      if (!keys.has(key)) {
        keys.add(key);
        seen.push(item[name]);
      }
    }
    return seen;
  });
  // the product of the lists, first name varying slowest: must be the runs
  let product: Record<string, Batch.ParameterValue>[] = [{}];
  names.forEach((name, index) => {
    product = product.flatMap(partial =>
      lists[index].map(value => ({ ...partial, [name]: value }))
    );
  });
  const same =
    product.length === items.length &&
    product.every((run, i) =>
      names.every(
        name => JSON.stringify(run[name]) === JSON.stringify(items[i][name])
      )
    );
  if (!same) {
    return null;
  }
  return names
    .map((name, index) => `${name} = ${JSON.stringify(lists[index])}`)
    .join('\n');
}

/** The worker fields of recorded resources (defaults kept where it has none). */
function workerValues(
  resources: Batch.IResources,
  defaults: IWorkerValues
): IWorkerValues {
  if (resources.adaptiveWorkers) {
    return {
      workersMode: 'adaptive',
      workers: defaults.workers,
      minWorkers: resources.adaptiveWorkers.minimum,
      maxWorkers: resources.adaptiveWorkers.maximum
    };
  }
  return {
    workersMode: 'fixed',
    workers: resources.workers ?? defaults.workers ?? 1,
    minWorkers: defaults.minWorkers,
    maxWorkers: defaults.maxWorkers
  };
}

/** The fields every dialog shares: name, resources, backend, account. */
function commonValues<V extends IWorkerValues>(
  spec: Batch.IJobSpec,
  defaults: V
): V & {
  name: string;
  cpus: number;
  memoryMiB: number;
  walltimeMinutes: number;
  backend: string;
  account: string;
} {
  return {
    ...defaults,
    name: spec.name,
    cpus: spec.resources.cpus,
    memoryMiB: spec.resources.memoryMiB,
    walltimeMinutes: spec.resources.walltimeSeconds / 60,
    backend: spec.backend,
    account: spec.account ?? '',
    ...workerValues(spec.resources, defaults)
  };
}

const codeCell = (id: string, source: string): ICellInfo => ({
  id,
  type: 'code',
  source,
  tags: []
});

/**
 * The submit dialog's source and values for a recorded cells, notebook or
 * script job. The code is the job's own (the cells, notebook or script text
 * it ran), not the file as it is now; its setup cells are offered checked.
 * `notes` says what could not be carried over.
 */
export function submitPrefill(
  spec: Batch.IJobSpec,
  defaults: ISubmitValues,
  trans: TranslationBundle = loadTrans()
): { source: IJobSource; values: ISubmitValues; notes: string[] } {
  const notes: string[] = [];
  const sweep = formatSweep(spec.sweep);
  if (sweep === null) {
    notes.push(
      trans.__(
        'Its sweep is not a set of lists the Sweep box can show; it was left out.'
      )
    );
  }
  const values: ISubmitValues = {
    ...commonValues(spec, defaults),
    setup: 'none',
    chosenSetupIds: [],
    parameters: formatParameters(spec.parameters),
    sweep: sweep ?? '',
    cellsFrom: undefined
  };
  const source: IJobSource = {
    kind: spec.kind as IJobSource['kind'],
    notebookPath: spec.source.notebookPath
  };
  if (spec.source.kernelName) {
    source.kernelName = spec.source.kernelName;
  }
  switch (spec.kind) {
    case 'cells': {
      const cells = spec.source.cells ?? [];
      const setup = cells
        .filter(cell => cell.role === 'setup')
        .map(cell => codeCell(cell.id, cell.source));
      source.main = cells
        .filter(cell => cell.role !== 'setup')
        .map(cell => codeCell(cell.id, cell.source));
      source.setupCandidates = setup;
      if (setup.length) {
        values.setup = 'chosen';
        values.chosenSetupIds = setup.map(cell => cell.id);
      }
      break;
    }
    case 'notebook':
      source.notebook = spec.source.notebook;
      break;
    case 'script':
      source.script = spec.source.script;
      break;
    default:
      throw new Error(`not a submit-dialog kind: ${spec.kind}`);
  }
  return { source, values, notes };
}

/** The region fields of a recorded region. */
function regionFields(region: Batch.Region | undefined): IRegionFields {
  if (!region) {
    return { ...EMPTY_REGION };
  }
  switch (region.type) {
    case 'cone':
      return {
        ...EMPTY_REGION,
        type: 'cone',
        ra: String(region.ra),
        dec: String(region.dec),
        radiusArcsec: String(region.radiusArcsec)
      };
    case 'box':
      return {
        ...EMPTY_REGION,
        type: 'box',
        raMin: String(region.ra[0]),
        raMax: String(region.ra[1]),
        decMin: String(region.dec[0]),
        decMax: String(region.dec[1])
      };
    case 'polygon':
      return {
        ...EMPTY_REGION,
        type: 'polygon',
        vertices: region.vertices.map(([ra, dec]) => `${ra}, ${dec}`).join('\n')
      };
  }
}

/**
 * The catalog dialog's source and values for a recorded catalog run: the
 * function's cell as it ran, its setup code as one checked setup cell.
 */
export function catalogPrefill(
  spec: Batch.IJobSpec,
  defaults: ICatalogValues
): {
  source: {
    notebookPath: string;
    kernelName?: string;
    cell: ICellInfo;
    setupCandidates: ICellInfo[];
  };
  values: ICatalogValues;
} {
  const catalog = spec.source.catalog;
  if (spec.kind !== 'catalog' || !catalog) {
    throw new Error(`not a catalog run: ${spec.kind}`);
  }
  const setup = catalog.setupSource
    ? [codeCell('setup', catalog.setupSource)]
    : [];
  return {
    source: {
      notebookPath: spec.source.notebookPath,
      ...(spec.source.kernelName ? { kernelName: spec.source.kernelName } : {}),
      cell: codeCell('function', catalog.function.source),
      setupCandidates: setup
    },
    values: {
      ...commonValues(spec, defaults),
      functionName: catalog.function.name,
      catalogPath: catalog.path,
      region: regionFields(catalog.region),
      columns: (catalog.columns ?? []).join(', '),
      setup: setup.length ? 'chosen' : 'none',
      chosenSetupIds: setup.map(cell => cell.id)
    }
  };
}

/** The pipeline dialog's values for a recorded pipeline run (its plan is made anew). */
export function pipelinePrefill(
  spec: Batch.IJobSpec,
  defaults: IPipelineValues
): { source: { path: string }; values: IPipelineValues } {
  const pipeline = spec.source.pipeline;
  if (spec.kind !== 'pipeline' || !pipeline) {
    throw new Error(`not a pipeline run: ${spec.kind}`);
  }
  return {
    source: { path: pipeline.file ?? '' },
    values: {
      ...commonValues(spec, defaults),
      standard: pipeline.standard ?? '',
      pipelineFile: pipeline.file ?? '',
      butlerRepo: pipeline.butlerRepo,
      inputCollections: pipeline.inputCollections.join(', '),
      outputCollection: pipeline.outputCollection ?? '',
      dataQuery: pipeline.dataQuery ?? '',
      labels: (pipeline.labels ?? []).join(', '),
      overrides: (pipeline.configOverrides ?? [])
        .map(o => `${o.label}:${o.field}=${o.value}`)
        .join('\n'),
      configFiles: (pipeline.configFiles ?? [])
        .map(f => `${f.label}:${f.path}`)
        .join('\n')
    }
  };
}
