/**
 * Pure functions for "Run pipeline in batch": whether a file is a pipeline,
 * the override rows and lists the dialog's fields describe, the plan request,
 * the job spec and the plan's lines. Nothing here touches the DOM or the
 * network.
 */
import { parse as parseYaml } from 'yaml';

import { formatCoreHours, formatCount } from './catalog';
import {
  dialogResources,
  isDaskBackend,
  IWorkerValues,
  validateValues
} from './spec';
import { Batch } from './tokens';
import { loadTrans, TranslationBundle } from './translation';

/** A pipeline YAML has a top-level `tasks:` section. */
export function isPipelineYaml(text: string): boolean {
  return /^tasks\s*:/m.test(text);
}

/** Whether a file name is YAML: a pipeline or a BPS submit file. */
export function isYamlFile(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** A config override file is Python that sets `config.field = value`. */
export function isConfigOverrideFile(path: string, text: string): boolean {
  return /\.py$/i.test(path) && /^config\.[A-Za-z_]\w*(\.\w+)*\s*=/m.test(text);
}

/** A BPS submit YAML names its pipeline and payload at the top level. */
export function isBpsSubmitYaml(text: string): boolean {
  return /^(pipelineYaml|payload)\s*:/m.test(text);
}

/** What a file can start a pipeline run from, or null. */
export type PipelineFileKind = 'pipeline' | 'bps' | 'config';

export function pipelineFileKind(
  path: string,
  text: string
): PipelineFileKind | null {
  if (isYamlFile(path)) {
    return isPipelineYaml(text)
      ? 'pipeline'
      : isBpsSubmitYaml(text)
        ? 'bps'
        : null;
  }
  return isConfigOverrideFile(path, text) ? 'config' : null;
}

/** A path relative to a file's folder, as a path relative to the Jupyter root; null if it leaves the root. */
function besideFile(file: string, relative: string): string | null {
  const parts = file.split('/').slice(0, -1);
  for (const part of relative.split('/')) {
    if (part === '..') {
      if (!parts.length) {
        return null;
      }
      parts.pop();
    } else if (part !== '.' && part !== '') {
      parts.push(part);
    }
  }
  return parts.join('/');
}

/**
 * The dialog's fields from a BPS submit YAML (pipelineYaml, payload's butlerConfig, inCollection,
 * dataQuery and output, requestCpus, requestMemory), and a sentence for each value that cannot
 * be used as it is. Paths are relative to the file's folder, as `bps submit` run there reads them.
 */
export function valuesFromBpsYaml(
  path: string,
  text: string,
  trans: TranslationBundle = loadTrans()
): { values: Partial<IPipelineValues>; notes: string[] } {
  const values: Partial<IPipelineValues> = {};
  const notes: string[] = [];
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (reason) {
    notes.push(
      trans.__(
        '%1 is not valid YAML (%2): fill in the fields yourself.',
        path,
        reason instanceof Error ? reason.message.split('\n')[0] : String(reason)
      )
    );
    return { values, notes };
  }
  const top = (doc ?? {}) as Record<string, unknown>;
  const payload = (top.payload ?? {}) as Record<string, unknown>;
  const text_ = (value: unknown) =>
    typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  const local = (value: unknown, field: string): string => {
    const raw = text_(value).trim();
    if (!raw) {
      return '';
    }
    if (raw.includes('${') || raw.startsWith('/') || raw.includes('://')) {
      notes.push(
        trans.__(
          '%1 is %2 in the BPS file: give it relative to your Jupyter folder.',
          field,
          raw
        )
      );
      return '';
    }
    const resolved = besideFile(path, raw.replace(/#.*$/, ''));
    if (resolved === null) {
      notes.push(
        trans.__(
          '%1 is %2 in the BPS file, outside your Jupyter folder.',
          field,
          raw
        )
      );
      return '';
    }
    const labels = raw.includes('#') ? raw.slice(raw.indexOf('#') + 1) : '';
    if (labels) {
      values.labels = labels;
    }
    return resolved;
  };
  const pipelineFile = local(top.pipelineYaml, 'pipelineYaml');
  if (pipelineFile) {
    values.pipelineFile = pipelineFile;
    values.standard = '';
  }
  const repo = local(payload.butlerConfig, 'payload.butlerConfig');
  if (repo) {
    values.butlerRepo = repo.replace(/\/butler\.yaml$/, '');
  }
  const inputs = text_(payload.inCollection);
  if (inputs) {
    values.inputCollections = splitList(inputs).join(', ');
  }
  const query = text_(payload.dataQuery);
  if (query) {
    values.dataQuery = query;
  }
  const output = text_(payload.output);
  if (output && !output.includes('{')) {
    values.outputCollection = output;
  }
  const cpus = Number(top.requestCpus);
  if (Number.isInteger(cpus) && cpus >= 1) {
    values.cpus = cpus;
  }
  const memory = Number(top.requestMemory);
  if (Number.isInteger(memory) && memory >= 1) {
    values.memoryMiB = memory; // BPS says MB; close enough to ask the same of the batch system
  }
  return { values, notes };
}

/** The dialog's fields from a config override file: a row for it, labelled by its file name. */
export function valuesFromConfigFile(path: string): Partial<IPipelineValues> {
  const stem = (path.split('/').pop() ?? '').replace(/\.py$/i, '');
  const label = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(stem) ? stem : 'label';
  return { configFiles: `${label}:${path}` };
}

/** What the pipeline dialog edits, as typed. */
export interface IPipelineValues extends IWorkerValues {
  name: string;
  /** A standard pipeline of the site by name; '' runs `pipelineFile`. */
  standard: string;
  /** The pipeline YAML, relative to the Jupyter root. */
  pipelineFile: string;
  butlerRepo: string;
  /** Collection names separated by commas or spaces. */
  inputCollections: string;
  /** '' for the proxy's default, "u/{user}/{name}". */
  outputCollection: string;
  dataQuery: string;
  /** Task labels or subsets separated by commas or spaces; '' runs all. */
  labels: string;
  /** One `label:field=value` a line. */
  overrides: string;
  /** One `label:path/to/overrides.py` a line. */
  configFiles: string;
  cpus: number;
  memoryMiB: number;
  walltimeMinutes: number;
  backend: string;
  account: string;
}

/** What a pipeline run is built from besides the dialog's values. */
export interface IPipelineJobSource {
  /** The file the dialog was opened on (the pipeline YAML). */
  path: string;
}

const LABEL = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const OVERRIDE =
  /^([A-Za-z_][A-Za-z0-9_-]*)\s*:\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*=\s*(.*\S)\s*$/;
const CONFIG_FILE = /^([A-Za-z_][A-Za-z0-9_-]*)\s*:\s*(\S.*?)\s*$/;

/** The non-empty lines of a text area that are not `#` comments, with their line numbers. */
function rows(text: string): { line: number; text: string }[] {
  return text
    .split(/\r?\n/)
    .map((raw, index) => ({ line: index + 1, text: raw.trim() }))
    .filter(row => row.text !== '' && !row.text.startsWith('#'));
}

/** A list typed with commas or spaces between its entries. */
export function splitList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map(part => part.trim())
    .filter(Boolean);
}

/** The config override rows, `label:field=value`, or a sentence per bad line. */
export function parseOverrides(
  text: string,
  trans: TranslationBundle = loadTrans()
): { overrides: Batch.IConfigOverride[]; errors: string[] } {
  const overrides: Batch.IConfigOverride[] = [];
  const errors: string[] = [];
  for (const row of rows(text)) {
    const match = OVERRIDE.exec(row.text);
    if (!match) {
      errors.push(
        trans.__(
          'Config override line %1 ("%2") must read label:field=value, e.g. addA:addend=100.',
          row.line,
          row.text
        )
      );
      continue;
    }
    overrides.push({ label: match[1], field: match[2], value: match[3] });
  }
  return { overrides, errors };
}

/** The config override files, `label:path`, or a sentence per bad line. */
export function parseConfigFiles(
  text: string,
  trans: TranslationBundle = loadTrans()
): { files: Batch.IConfigFile[]; errors: string[] } {
  const files: Batch.IConfigFile[] = [];
  const errors: string[] = [];
  for (const row of rows(text)) {
    const match = CONFIG_FILE.exec(row.text);
    if (!match || match[2].split('/').includes('..')) {
      errors.push(
        trans.__(
          'Config file line %1 ("%2") must read label:path, e.g. addA:configs/addA.py (a path inside your Jupyter folder).',
          row.line,
          row.text
        )
      );
      continue;
    }
    files.push({ label: match[1], path: match[2] });
  }
  return { files, errors };
}

/** The labels to run, without the "#" of a pipeline URI; a sentence per bad one. */
export function parseLabels(
  text: string,
  trans: TranslationBundle = loadTrans()
): { labels: string[]; errors: string[] } {
  const labels = splitList(text.replace(/^\s*#/, ''));
  const errors = labels
    .filter(label => !LABEL.test(label))
    .map(label =>
      trans.__(
        '"%1" is not a task label or subset name (letters, digits, _ and -).',
        label
      )
    );
  return { labels, errors };
}

/**
 * The pipeline, repo, collections, query, labels and overrides the fields
 * describe, or the sentences saying what to fix first.
 */
export function pipelineDefinition(
  values: IPipelineValues,
  trans: TranslationBundle = loadTrans()
): { definition?: Batch.IPipelineDefinition; errors: string[] } {
  const errors: string[] = [];
  const standard = values.standard.trim();
  const file = values.pipelineFile.trim();
  if (!standard && !file) {
    errors.push(
      trans.__('Choose a standard pipeline or give a pipeline YAML file.')
    );
  }
  const butlerRepo = values.butlerRepo.trim();
  if (!butlerRepo) {
    errors.push(trans.__('Give the butler repository, e.g. butler-repo.'));
  }
  const inputCollections = splitList(values.inputCollections);
  if (!inputCollections.length) {
    errors.push(trans.__('Give at least one input collection, e.g. demo/raw.'));
  }
  const labels = parseLabels(values.labels, trans);
  const overrides = parseOverrides(values.overrides, trans);
  const files = parseConfigFiles(values.configFiles, trans);
  errors.push(...labels.errors, ...overrides.errors, ...files.errors);
  if (errors.length) {
    return { errors };
  }
  const definition: Batch.IPipelineDefinition = standard
    ? { standard, butlerRepo, inputCollections }
    : { file, butlerRepo, inputCollections };
  const output = values.outputCollection.trim();
  if (output) {
    definition.outputCollection = output;
  }
  const query = values.dataQuery.trim();
  if (query) {
    definition.dataQuery = query;
  }
  if (labels.labels.length) {
    definition.labels = labels.labels;
  }
  if (overrides.overrides.length) {
    definition.configOverrides = overrides.overrides;
  }
  if (files.files.length) {
    definition.configFiles = files.files;
  }
  return { definition, errors };
}

/** The body of POST /api/pipelines/plan for the fields, or what to fix first. */
export function pipelinePlanRequest(
  values: IPipelineValues,
  backendType?: Batch.BackendType,
  trans: TranslationBundle = loadTrans()
): { request?: Batch.IPipelinePlanRequest; errors: string[] } {
  const { definition, errors } = pipelineDefinition(values, trans);
  const name = values.name.trim();
  if (!name) {
    errors.push(trans.__('Give the job a name.'));
  }
  if (!definition || errors.length) {
    return { errors };
  }
  const request: Batch.IPipelinePlanRequest = { name, pipeline: definition };
  if (values.backend) {
    request.backend = values.backend;
  }
  if (values.account) {
    request.account = values.account;
  }
  if (
    Number.isInteger(values.cpus) &&
    values.cpus >= 1 &&
    Number.isInteger(values.memoryMiB) &&
    values.memoryMiB >= 1 &&
    values.walltimeMinutes > 0
  ) {
    request.resources = dialogResources(values, isDaskBackend(backendType));
  }
  return { request, errors };
}

/**
 * The pipeline job spec; with `planId` the graph that plan built is the one
 * that runs. Throws an Error listing every problem, a sentence a line.
 */
export function buildPipelineSpec(
  source: IPipelineJobSource,
  values: IPipelineValues,
  idempotencyKey: string,
  planId: string | null,
  backendType?: Batch.BackendType,
  trans: TranslationBundle = loadTrans()
): Batch.IJobSpec {
  const problems = validateValues({
    ...values,
    setup: 'none',
    chosenSetupIds: [],
    parameters: ''
  });
  const { definition, errors } = pipelineDefinition(values, trans);
  problems.push(...errors);
  if (problems.length || !definition) {
    throw new Error(problems.join('\n'));
  }
  if (planId) {
    definition.planId = planId;
  }
  return {
    name: values.name.trim(),
    kind: 'pipeline',
    source: {
      // what the job is "about" in lists: the pipeline file, or the standard pipeline's name
      notebookPath: definition.file ?? (source.path || definition.standard!),
      pipeline: definition
    },
    resources: dialogResources(values, isDaskBackend(backendType)),
    backend: values.backend,
    account: values.account,
    idempotencyKey
  };
}

/** A job name for a pipeline file: its name without the folder and ".yaml". */
export function defaultPipelineJobName(path: string): string {
  const base = (path.split('/').pop() ?? path).replace(/\.ya?ml$/i, '');
  return (base || 'pipeline').slice(0, 200);
}

/**
 * The plan in one line: "20 quanta: addA 10, addB 10 · est. 0.002
 * core-hours" (%1 is the plural's count, %2 the same with separators).
 */
export function pipelinePlanLine(
  plan: Batch.IPipelinePlan,
  trans: TranslationBundle = loadTrans()
): string {
  const labels = plan.plan.labels
    .map(l => `${l.label} ${formatCount(l.quanta)}`)
    .join(', ');
  return [
    trans._n(
      '%2 quantum: %3',
      '%2 quanta: %3',
      plan.plan.totalQuanta,
      formatCount(plan.plan.totalQuanta),
      labels
    ),
    trans.__('est. %1 core-hours', formatCoreHours(plan.estimate.coreHours))
  ].join(' · ');
}

/** Where the run writes: "Writes u/alice/add/20261202T130405Z (in u/alice/add)". */
export function pipelineOutputLine(
  plan: Batch.IPipelinePlan,
  trans: TranslationBundle = loadTrans()
): string {
  return trans.__(
    'Writes run %1 (in collection %2)',
    plan.plan.outputRun,
    plan.plan.outputCollection
  );
}
