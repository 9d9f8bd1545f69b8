/**
 * Pure functions for "Run over catalog": the functions a cell defines, the
 * region and columns the dialog's fields describe, the job spec and the
 * plan line. Nothing here touches the DOM or the network.
 */
import { formatCoreHours } from '@user-batch/contract/lib/quota-cost';
import {
  ICellInfo,
  isDaskBackend,
  IWorkerValues,
  selectSetupCells,
  SetupMode,
  validateValues,
  validateWorkers,
  dialogResources
} from './spec';
import { formatBytes } from './widgets/format';
import { Batch } from './tokens';
import { loadTrans, TranslationBundle } from './translation';

/**
 * The top-level functions a cell defines, in order: `def name(` at the start
 * of a line. Indented defs are methods or helpers and cannot be mapped.
 */
export function definedFunctions(source: string): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(
    /^(?:async\s+)?def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(/gm
  )) {
    if (!names.includes(match[1])) {
      names.push(match[1]);
    }
  }
  return names;
}

export type RegionType = 'none' | 'cone' | 'box' | 'polygon';

/**
 * The region fields as typed: text, so a half-typed number is kept as is.
 */
export interface IRegionFields {
  type: RegionType;
  ra: string;
  dec: string;
  radiusArcsec: string;
  raMin: string;
  raMax: string;
  decMin: string;
  decMax: string;
  /** One "ra, dec" vertex a line. */
  vertices: string;
}

export const EMPTY_REGION: IRegionFields = {
  type: 'none',
  ra: '',
  dec: '',
  radiusArcsec: '',
  raMin: '',
  raMax: '',
  decMin: '',
  decMax: '',
  vertices: ''
};

/**
 * A region from the fields, or one sentence per problem. Ranges are the
 * planner's to check (it names the limits); here only what is not a number.
 */
export function parseRegion(
  fields: IRegionFields,
  trans: TranslationBundle = loadTrans()
): {
  region?: Batch.Region;
  errors: string[];
} {
  const errors: string[] = [];
  const num = (text: string, label: string): number => {
    const value = text.trim() === '' ? NaN : Number(text);
    if (!Number.isFinite(value)) {
      errors.push(trans.__('%1 must be a number, e.g. 40.5.', label));
    }
    return value;
  };
  switch (fields.type) {
    case 'none':
      return { errors };
    case 'cone': {
      const region: Batch.Region = {
        type: 'cone',
        ra: num(fields.ra, trans.__('Cone RA (degrees)')),
        dec: num(fields.dec, trans.__('Cone Dec (degrees)')),
        radiusArcsec: num(fields.radiusArcsec, trans.__('Cone radius (arcsec)'))
      };
      if (region.radiusArcsec <= 0) {
        errors.push(trans.__('Cone radius (arcsec) must be more than 0.'));
      }
      return errors.length ? { errors } : { region, errors };
    }
    case 'box': {
      const region: Batch.Region = {
        type: 'box',
        ra: [
          num(fields.raMin, trans.__('Box RA min')),
          num(fields.raMax, trans.__('Box RA max'))
        ],
        dec: [
          num(fields.decMin, trans.__('Box Dec min')),
          num(fields.decMax, trans.__('Box Dec max'))
        ]
      };
      return errors.length ? { errors } : { region, errors };
    }
    case 'polygon':
      return parsePolygon(fields.vertices, trans);
  }
}

function parsePolygon(
  text: string,
  trans: TranslationBundle
): {
  region?: Batch.Region;
  errors: string[];
} {
  const errors: string[] = [];
  const vertices: [number, number][] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line) {
      return;
    }
    const parts = line.split(/[\s,]+/).map(Number);
    if (parts.length !== 2 || !parts.every(Number.isFinite)) {
      errors.push(
        trans.__(
          'Polygon, line %1: expected "ra, dec" in degrees, e.g. "40, 10".',
          index + 1
        )
      );
      return;
    }
    vertices.push([parts[0], parts[1]]);
  });
  if (!errors.length && vertices.length < 3) {
    errors.push(
      trans.__('A polygon needs at least 3 vertices, one "ra, dec" a line.')
    );
  }
  return errors.length
    ? { errors }
    : { region: { type: 'polygon', vertices }, errors };
}

/**
 * The columns text ("id, ra, dec") as names; empty reads every column.
 */
export function parseColumns(text: string): string[] {
  const names = text
    .split(/[\s,]+/)
    .map(name => name.trim())
    .filter(Boolean);
  return [...new Set(names)];
}

/**
 * The values of the "Run over catalog" dialog.
 */
export interface ICatalogValues extends IWorkerValues {
  name: string;
  functionName: string;
  catalogPath: string;
  region: IRegionFields;
  columns: string;
  setup: SetupMode;
  chosenSetupIds: string[];
  cpus: number;
  memoryMiB: number;
  walltimeMinutes: number;
  backend: string;
  account: string;
}

/**
 * What a catalog run is built from, besides the dialog's values.
 */
export interface ICatalogJobSource {
  notebookPath: string;
  kernelName?: string;
  /** The cell that defines the function. */
  cell: ICellInfo;
  /** The code cells above it, which may serve as setup. */
  setupCandidates: ReadonlyArray<ICellInfo>;
}

/**
 * The plan request for the dialog's values, or the sentences saying what to
 * fix before a plan can be asked for.
 */
export function planRequest(
  values: ICatalogValues,
  trans: TranslationBundle = loadTrans()
): {
  request?: Batch.IPlanRequest;
  errors: string[];
} {
  const errors: string[] = [];
  const path = values.catalogPath.trim();
  if (!path) {
    errors.push(
      trans.__(
        'Give the catalog folder (a HATS catalog), e.g. catalogs/synthetic.'
      )
    );
  }
  const { region, errors: regionErrors } = parseRegion(values.region, trans);
  errors.push(...regionErrors);
  if (errors.length) {
    return { errors };
  }
  const request: Batch.IPlanRequest = { path };
  if (region) {
    request.region = region;
  }
  const columns = parseColumns(values.columns);
  if (columns.length) {
    request.columns = columns;
  }
  if (Number.isInteger(values.cpus) && values.cpus >= 1) {
    request.cpus = values.cpus;
  }
  return { request, errors };
}

/**
 * Build the catalog job spec, or throw an Error whose message lists every
 * problem, a sentence each.
 */
export function buildCatalogSpec(
  source: ICatalogJobSource,
  values: ICatalogValues,
  idempotencyKey: string,
  backendType?: Batch.BackendType,
  trans: TranslationBundle = loadTrans()
): Batch.IJobSpec {
  const dask = isDaskBackend(backendType);
  const problems = validateValues({ ...values, parameters: '' }, trans);
  if (dask) {
    problems.push(...validateWorkers(values, trans));
  }
  const functions = definedFunctions(source.cell.source);
  if (!values.functionName) {
    problems.push(
      trans.__(
        'The cell defines no function: write "def process(df): ..." and return a DataFrame.'
      )
    );
  } else if (!functions.includes(values.functionName)) {
    problems.push(
      trans.__(
        'The cell does not define "%1"; choose one of: %2.',
        values.functionName,
        functions.join(', ') || trans.__('none')
      )
    );
  }
  const plan = planRequest(values, trans);
  problems.push(...plan.errors);
  if (problems.length) {
    throw new Error(problems.join('\n'));
  }
  const setup = selectSetupCells(
    source.setupCandidates,
    values.setup,
    values.chosenSetupIds
  );
  const catalog: Batch.ICatalogSource = {
    path: plan.request!.path,
    function: { name: values.functionName, source: source.cell.source }
  };
  if (plan.request!.region) {
    catalog.region = plan.request!.region;
  }
  if (plan.request!.columns) {
    catalog.columns = plan.request!.columns;
  }
  if (setup.length) {
    catalog.setupSource = setup.map(cell => cell.source).join('\n\n');
  }
  const spec: Batch.IJobSpec = {
    name: values.name.trim(),
    kind: 'catalog',
    source: { notebookPath: source.notebookPath, catalog },
    resources: dialogResources(values, dask),
    backend: values.backend,
    account: values.account,
    idempotencyKey
  };
  if (source.kernelName) {
    spec.source.kernelName = source.kernelName;
  }
  return spec;
}

/** Core-hours as every message shows them (the contract's rule). */
export { formatCoreHours };

/** Counts with thousands separators, the same in every locale. */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/**
 * The plan in one line, e.g. "4 of 10 partitions · 1,234 rows · 56.0 KiB ·
 * est. 0.002 core-hours".
 */
export function planLine(
  plan: Batch.ICatalogPlan,
  trans: TranslationBundle = loadTrans()
): string {
  const { totals, catalog, estimate } = plan;
  // English has always said "partitions" and "rows" whatever the count; the
  // plural forms let other languages agree with it. Counts keep separators.
  return [
    trans._n(
      '%2 of %3 partitions',
      '%2 of %3 partitions',
      catalog.totalPartitions,
      formatCount(totals.partitions),
      formatCount(catalog.totalPartitions)
    ),
    trans._n(
      '%2 rows in those partitions',
      '%2 rows in those partitions',
      totals.rows,
      formatCount(totals.rows)
    ),
    formatBytes(totals.bytes),
    trans.__('est. %1 core-hours', formatCoreHours(estimate.coreHours))
  ].join(' · ');
}

/**
 * A job name for a catalog run: the function and the catalog's folder name.
 */
export function defaultCatalogJobName(
  functionName: string,
  catalogPath: string,
  trans: TranslationBundle = loadTrans()
): string {
  const folder =
    catalogPath.replace(/\/+$/, '').split('/').pop() || trans.__('catalog');
  return trans
    .__('%1 over %2', functionName || trans.__('run'), folder)
    .slice(0, 200);
}
