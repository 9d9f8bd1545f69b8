/**
 * Pure functions that turn a notebook and the submit dialog's values into a
 * JobSpec. Nothing here touches the DOM or the network.
 */
import { UUID } from '@lumino/coreutils';

import { Batch } from './tokens';

/**
 * A fresh idempotency key. `crypto.randomUUID` exists only in secure
 * contexts (HTTPS or localhost); a hub served over plain HTTP falls back to
 * Lumino's UUID, built on `crypto.getRandomValues`.
 */
export function newIdempotencyKey(): string {
  return typeof crypto !== 'undefined' &&
    typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : UUID.uuid4();
}

/**
 * What the spec builder needs to know of a cell.
 */
export interface ICellInfo {
  id: string;
  type: string;
  source: string;
  tags: string[];
}

/** The tag that marks the cells "Run in batch" picks by default. */
export const BATCH_TAG = 'batch';

export type SetupMode = 'none' | 'above' | 'chosen';

/**
 * The cells a "Run in batch" runs: the selected code cells, or the code
 * cells tagged `batch` when the selection is a single untagged cell and
 * tagged cells exist.
 */
export function selectMainCells(
  cells: ReadonlyArray<ICellInfo>,
  selected: ReadonlyArray<number>
): { cells: ICellInfo[]; fromTags: boolean } {
  const tagged = cells.filter(
    cell => cell.type === 'code' && cell.tags.includes(BATCH_TAG)
  );
  if (
    selected.length === 1 &&
    !cells[selected[0]]?.tags.includes(BATCH_TAG) &&
    tagged.length > 0
  ) {
    return { cells: tagged, fromTags: true };
  }
  const picked = [...new Set(selected)]
    .sort((a, b) => a - b)
    .map(index => cells[index])
    .filter(cell => cell !== undefined && cell.type === 'code');
  return { cells: picked, fromTags: false };
}

/**
 * The code cells that may serve as setup: those above the first main cell
 * that are not main cells themselves.
 */
export function setupCandidates(
  cells: ReadonlyArray<ICellInfo>,
  main: ReadonlyArray<ICellInfo>
): ICellInfo[] {
  const mainIds = new Set(main.map(cell => cell.id));
  const first = cells.findIndex(cell => mainIds.has(cell.id));
  if (first < 0) {
    return [];
  }
  return cells
    .slice(0, first)
    .filter(cell => cell.type === 'code' && !mainIds.has(cell.id));
}

/**
 * The setup cells for a mode: none, every candidate, or the chosen ones (in
 * notebook order).
 */
export function selectSetupCells(
  candidates: ReadonlyArray<ICellInfo>,
  mode: SetupMode,
  chosenIds: ReadonlyArray<string>
): ICellInfo[] {
  switch (mode) {
    case 'none':
      return [];
    case 'above':
      return candidates.slice();
    case 'chosen': {
      const chosen = new Set(chosenIds);
      return candidates.filter(cell => chosen.has(cell.id));
    }
  }
}

/**
 * The first non-blank line of a cell, for labels.
 */
export function firstLine(source: string, max = 60): string {
  const line = source
    .split('\n')
    .map(l => l.trim())
    .find(l => l.length > 0);
  if (!line) {
    return '(empty cell)';
  }
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * A default job name: the notebook's name and what runs.
 */
export function defaultJobName(
  notebookPath: string,
  kind: Batch.JobKind,
  main: ReadonlyArray<ICellInfo> = []
): string {
  const base = (notebookPath.split('/').pop() ?? notebookPath).replace(
    /\.(ipynb|py)$/,
    ''
  );
  let name: string;
  if (kind === 'notebook' || kind === 'script' || main.length === 0) {
    name = base || 'notebook';
  } else {
    const more =
      main.length > 1
        ? ` (+${main.length - 1} cell${main.length > 2 ? 's' : ''})`
        : '';
    name = `${base}: ${firstLine(main[0].source, 60)}${more}`;
  }
  return name.slice(0, 200);
}

/**
 * A problem with one line of the parameters text.
 */
export interface IParameterError {
  line: number;
  message: string;
}

export interface IParsedParameters {
  parameters: Record<string, Batch.ParameterValue>;
  errors: IParameterError[];
  /** The line each parameter was set on, so later checks can name it. */
  lines: Record<string, number>;
}

const PYTHON_KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del ' +
    'elif else except finally for from global if import in is lambda nonlocal ' +
    'not or pass raise return try while with yield'
  ).split(' ')
);

/**
 * Parse the parameters textarea: one `name = value` a line. Values are
 * Python or JSON literals (numbers, True/False/None, quoted strings, lists,
 * dicts); anything else is taken as a bare string. Blank lines and `#`
 * comment lines are skipped.
 */
export function parseParameters(text: string): IParsedParameters {
  const parameters: Record<string, Batch.ParameterValue> = {};
  const errors: IParameterError[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#')) {
      return;
    }
    const eq = trimmed.indexOf('=');
    if (eq < 0) {
      errors.push({ line, message: 'expected "name = value"' });
      return;
    }
    const name = trimmed.slice(0, eq).trim();
    const valueText = trimmed.slice(eq + 1).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      errors.push({
        line,
        message: `"${name}" is not a Python name (letters, digits and _, not starting with a digit)`
      });
      return;
    }
    if (PYTHON_KEYWORDS.has(name)) {
      errors.push({
        line,
        message: `"${name}" is a Python keyword and cannot be a parameter`
      });
      return;
    }
    if (seen.has(name)) {
      errors.push({
        line,
        message: `"${name}" is already set on line ${seen.get(name)}`
      });
      return;
    }
    if (!valueText) {
      errors.push({ line, message: `"${name}" has no value` });
      return;
    }
    try {
      parameters[name] = parseValue(valueText);
      seen.set(name, line);
    } catch (reason) {
      errors.push({
        line,
        message: `the value of "${name}" cannot be read: ${
          reason instanceof Error ? reason.message : String(reason)
        }`
      });
    }
  });
  return { parameters, errors, lines: Object.fromEntries(seen) };
}

/**
 * Format parameter errors as one message, a line each; `field` names the
 * textarea the lines belong to.
 */
export function formatParameterErrors(
  errors: IParameterError[],
  field = 'Parameters'
): string {
  return errors.map(e => `${field}, line ${e.line}: ${e.message}.`).join('\n');
}

/** The most runs one sweep may have (the proxy's limit: one HTCondor cluster). */
export const MAX_SWEEP_ITEMS = 100000;

export interface IParsedSweep {
  /** One parameter set per run, the cartesian product in line order. */
  items: Record<string, Batch.ParameterValue>[];
  /** How many runs the lines make, even when over the limit. */
  count: number;
  /** One sentence per problem, ready to show. */
  errors: string[];
}

/**
 * Parse the sweep textarea: the parameters syntax, where every value is a
 * non-empty list of the values to try. The runs are every combination, the
 * first line varying slowest (like Python's itertools.product). Without
 * `withItems` only the count and the errors are worked out.
 */
export function parseSweep(text: string, withItems = true): IParsedSweep {
  const parsed = parseParameters(text);
  const problems = parsed.errors.slice();
  const names = Object.keys(parsed.parameters);
  for (const name of names) {
    const value = parsed.parameters[name];
    const example = `e.g. ${name} = ["g", "r"]`;
    if (!Array.isArray(value)) {
      problems.push({
        line: parsed.lines[name],
        message: `the value of "${name}" must be a list of values, ${example}`
      });
    } else if (value.length === 0) {
      problems.push({
        line: parsed.lines[name],
        message: `the list of "${name}" is empty; give at least one value, ${example}`
      });
    }
  }
  if (problems.length) {
    problems.sort((a, b) => a.line - b.line);
    return {
      items: [],
      count: 0,
      errors: problems.map(p => formatParameterErrors([p], 'Sweep'))
    };
  }
  const lists = names.map(name => parsed.parameters[name] as unknown[]);
  const count = lists.reduce(
    (n, list) => n * list.length,
    names.length ? 1 : 0
  );
  if (count > MAX_SWEEP_ITEMS) {
    const sizes = lists.map(list => list.length).join(' × ');
    return {
      items: [],
      count,
      errors: [
        `Sweep: ${sizes} = ${count.toLocaleString('en-US')} runs; one sweep may have at most ${MAX_SWEEP_ITEMS.toLocaleString('en-US')}. Use fewer values or split the sweep.`
      ]
    };
  }
  // The live count in the dialog skips building up to 100,000 objects a keystroke.
  const items = withItems ? cartesianProduct(names, lists) : [];
  return { items, count, errors: [] };
}

/**
 * Every combination of one value per name; the last name varies fastest.
 */
function cartesianProduct(
  names: string[],
  lists: unknown[][]
): Record<string, Batch.ParameterValue>[] {
  let items: Record<string, Batch.ParameterValue>[] = names.length ? [{}] : [];
  names.forEach((name, index) => {
    const next: Record<string, Batch.ParameterValue>[] = [];
    for (const item of items) {
      for (const value of lists[index]) {
        next.push({ ...item, [name]: value as Batch.ParameterValue });
      }
    }
    items = next;
  });
  return items;
}

/**
 * Parse one value: a literal, or a bare word taken as a string.
 */
export function parseValue(text: string): Batch.ParameterValue {
  const first = text[0];
  const literalStart =
    first === '"' ||
    first === "'" ||
    first === '[' ||
    first === '{' ||
    first === '(' ||
    /^[+-]?(\d|\.\d)/.test(text);
  try {
    return new LiteralParser(text).parseAll();
  } catch (reason) {
    if (literalStart) {
      throw reason;
    }
    return text; // a bare word or phrase
  }
}

/**
 * A small parser for Python/JSON literals.
 */
class LiteralParser {
  constructor(private readonly text: string) {}

  parseAll(): Batch.ParameterValue {
    const value = this.value();
    this.space();
    if (this.pos < this.text.length) {
      throw new Error(`unexpected "${this.text.slice(this.pos)}"`);
    }
    return value;
  }

  private value(): Batch.ParameterValue {
    this.space();
    const c = this.text[this.pos];
    if (c === undefined) {
      throw new Error('a value is missing');
    }
    if (c === '"' || c === "'") {
      return this.string();
    }
    if (c === '[') {
      return this.sequence('[', ']');
    }
    if (c === '(') {
      return this.sequence('(', ')');
    }
    if (c === '{') {
      return this.dict();
    }
    const number = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(
      this.text.slice(this.pos)
    );
    if (number) {
      this.pos += number[0].length;
      return Number(number[0]);
    }
    const word = /^[A-Za-z_]+/.exec(this.text.slice(this.pos));
    if (word) {
      const constants: Record<string, Batch.ParameterValue> = {
        True: true,
        true: true,
        False: false,
        false: false,
        None: null,
        null: null
      };
      if (word[0] in constants) {
        this.pos += word[0].length;
        return constants[word[0]];
      }
    }
    throw new Error(`unexpected "${this.text.slice(this.pos)}"`);
  }

  private string(): string {
    const quote = this.text[this.pos++];
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++];
      if (c === quote) {
        return out;
      }
      if (c === '\\') {
        const e = this.text[this.pos++];
        const escapes: Record<string, string> = {
          n: '\n',
          t: '\t',
          r: '\r',
          '\\': '\\',
          "'": "'",
          '"': '"',
          '0': '\0'
        };
        if (e === 'u') {
          const hex = this.text.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            throw new Error('a \\u escape needs four hex digits');
          }
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
        } else if (e !== undefined && e in escapes) {
          out += escapes[e];
        } else {
          out += '\\' + (e ?? '');
        }
      } else {
        out += c;
      }
    }
    throw new Error(`the string has no closing ${quote}`);
  }

  private sequence(open: string, close: string): Batch.ParameterValue[] {
    this.pos++; // open
    const items: Batch.ParameterValue[] = [];
    for (;;) {
      this.space();
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.space();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
      } else if (c === close) {
        this.pos++;
        return items;
      } else {
        throw new Error(
          `expected "," or "${close}" after an item of ${open}…${close}`
        );
      }
    }
  }

  private dict(): { [key: string]: Batch.ParameterValue } {
    this.pos++; // {
    const out: { [key: string]: Batch.ParameterValue } = {};
    for (;;) {
      this.space();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return out;
      }
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number') {
        throw new Error('dictionary keys must be strings or numbers');
      }
      this.space();
      if (this.text[this.pos] !== ':') {
        throw new Error('expected ":" after a dictionary key');
      }
      this.pos++;
      out[String(key)] = this.value();
      this.space();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
      } else if (c === '}') {
        this.pos++;
        return out;
      } else {
        throw new Error('expected "," or "}" in a dictionary');
      }
    }
  }

  private space(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) {
      this.pos++;
    }
  }

  private pos = 0;
}

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
}

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
export function validateWorkers(values: IWorkerValues): string[] {
  const whole = (n: number | undefined, min: number) =>
    n !== undefined && Number.isInteger(n) && n >= min;
  if ((values.workersMode ?? 'fixed') === 'fixed') {
    return whole(values.workers ?? 1, 1)
      ? []
      : ['Workers must be a whole number of at least 1.'];
  }
  const problems: string[] = [];
  if (!whole(values.minWorkers, 0)) {
    problems.push('Minimum workers must be a whole number of at least 0.');
  }
  if (!whole(values.maxWorkers, 1)) {
    problems.push('Maximum workers must be a whole number of at least 1.');
  }
  if (!problems.length && values.minWorkers! > values.maxWorkers!) {
    problems.push(
      'Minimum workers is more than the maximum: lower the minimum or raise the maximum.'
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

/**
 * Check the dialog's values; returns one sentence per problem.
 */
export function validateValues(values: ISubmitValues): string[] {
  const problems: string[] = [];
  const name = values.name.trim();
  if (!name) {
    problems.push('Give the job a name.');
  } else if (name.length > 200) {
    problems.push('The name is longer than 200 characters.');
  }
  if (!Number.isInteger(values.cpus) || values.cpus < 1) {
    problems.push('CPUs must be a whole number of at least 1.');
  }
  if (!Number.isInteger(values.memoryMiB) || values.memoryMiB < 1) {
    problems.push('Memory must be a whole number of MiB, at least 1.');
  }
  if (!(values.walltimeMinutes > 0)) {
    problems.push('Walltime must be more than 0 minutes.');
  }
  if (!values.backend) {
    problems.push('Choose a backend.');
  }
  if (!values.account) {
    problems.push('Choose the account to charge.');
  }
  return problems;
}

/**
 * What a job is built from, besides the dialog's values.
 */
export interface IJobSource {
  kind: Batch.JobKind;
  notebookPath: string;
  kernelName?: string;
  /** Kind `cells`: the main cells. */
  main?: ReadonlyArray<ICellInfo>;
  /** Kind `cells`: the candidates for setup, in notebook order. */
  setupCandidates?: ReadonlyArray<ICellInfo>;
  /** Kind `notebook`: the nbformat JSON. */
  notebook?: Record<string, unknown>;
  /** Kind `script`: the Python file's text as the editor has it. */
  script?: { content: string; args?: string[] };
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
  source: IJobSource,
  values: ISubmitValues & IWorkerValues,
  idempotencyKey: string,
  backendType?: Batch.BackendType
): Batch.IJobSpec {
  const dask = isDaskBackend(backendType);
  const problems = validateValues(values);
  if (dask) {
    problems.push(...validateWorkers(values));
  }
  const parsed = parseParameters(values.parameters);
  if (parsed.errors.length) {
    problems.push(formatParameterErrors(parsed.errors));
  }
  const sweep = hasSweep(values) ? parseSweep(values.sweep ?? '') : null;
  if (sweep?.errors.length) {
    problems.push(...sweep.errors);
  }
  if (source.kind === 'cells' && !(source.main && source.main.length)) {
    problems.push('Select at least one code cell to run.');
  }
  if (source.kind === 'script' && source.script === undefined) {
    problems.push('The script could not be read: open the file and try again.');
  }
  if (problems.length) {
    throw new Error(problems.join('\n'));
  }
  const spec: Batch.IJobSpec = {
    name: values.name.trim(),
    kind: source.kind,
    source: { notebookPath: source.notebookPath },
    parameters: parsed.parameters,
    resources: {
      cpus: values.cpus,
      memoryMiB: values.memoryMiB,
      walltimeSeconds: Math.round(values.walltimeMinutes * 60),
      // Only a Dask backend reads these; another would refuse them.
      ...(dask ? workerResources(values) : {})
    },
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
  if (source.kind === 'cells') {
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
  } else if (source.kind === 'script') {
    spec.source.script = { ...source.script! };
  } else {
    spec.source.notebook = source.notebook;
  }
  return spec;
}

/**
 * Whether the sweep textarea has anything but blanks and comments: only then
 * is the job a sweep.
 */
export function hasSweep(values: Pick<ISubmitValues, 'sweep'>): boolean {
  return (values.sweep ?? '')
    .split(/\r?\n/)
    .some(line => line.trim() !== '' && !line.trim().startsWith('#'));
}

/**
 * Estimated cost of a job in core-hours: cpus × walltime hours.
 */
export function estimateCoreHours(
  cpus: number,
  walltimeMinutes: number
): number {
  return (cpus * walltimeMinutes) / 60;
}

/**
 * One line saying what the job would take of the quota, and whether it fits.
 */
export function quotaSummary(
  quota: Batch.IQuotaStatus,
  request: {
    cpus: number;
    memoryMiB: number;
    walltimeMinutes: number;
    /** A sweep's number of runs; 1 (the default) for a single run. */
    runs?: number;
    /** Whether the backend runs a sweep's items all at once. */
    parallel?: boolean;
    /**
     * Dask Gateway: the most workers the job's cluster may have (fixed, or
     * the adaptive maximum); cpus are per worker. Absent on other backends.
     */
    workers?: number;
  }
): { text: string; fits: boolean } {
  const { limits, usage } = quota;
  const runs = request.runs ?? 1;
  // The proxy counts a cluster's cores as cpus × workers, its largest size.
  const jobCpus = request.cpus * (request.workers ?? 1);
  // Every run costs its core-hours; only runs side by side add cores.
  const cost = runs * estimateCoreHours(jobCpus, request.walltimeMinutes);
  const left = Math.max(0, limits.coreHours - usage.coreHours);
  const jobs = usage.concurrentJobs + 1;
  const cores = usage.concurrentCores + jobCpus * (request.parallel ? runs : 1);
  const parts = [
    `Uses ${jobs} of ${limits.concurrentJobs} concurrent jobs`,
    `${cores} of ${limits.concurrentCores} cores`,
    `est. ${cost.toFixed(1)} core-hours of ${left.toFixed(1)} left`
  ];
  const over: string[] = [];
  if (jobs > limits.concurrentJobs) {
    over.push('concurrent jobs');
  }
  if (cores > limits.concurrentCores) {
    over.push('cores');
  }
  if (cost > left) {
    over.push('core-hours');
  }
  if (request.memoryMiB > limits.memoryPerJobMiB) {
    over.push(`memory (at most ${limits.memoryPerJobMiB} MiB a job)`);
  }
  const perCluster = limits.daskWorkersPerCluster;
  if (
    request.workers !== undefined &&
    perCluster !== undefined &&
    request.workers > perCluster
  ) {
    over.push(
      `Dask workers (at most ${perCluster} worker${perCluster === 1 ? '' : 's'} per cluster)`
    );
  }
  let text = parts.join(', ');
  if (over.length) {
    text += ` — over the limit for ${over.join(', ')}`;
  }
  return { text, fits: over.length === 0 };
}

/**
 * The live line under the sweep textarea: how many runs, and how they run
 * on the chosen backend; or what is wrong with the text. Null without a sweep.
 */
export function sweepSummary(
  text: string,
  cpus: number,
  parallel: boolean
): { text: string; ok: boolean } | null {
  if (!hasSweep({ sweep: text })) {
    return null;
  }
  const sweep = parseSweep(text, false);
  if (sweep.errors.length) {
    return { text: sweep.errors.join('\n'), ok: false };
  }
  const runs = `→ ${sweep.count} run${sweep.count === 1 ? '' : 's'}`;
  if (!parallel) {
    return { text: `${runs}, one after another`, ok: true };
  }
  const cpuText = `${cpus} CPU${cpus === 1 ? '' : 's'}`;
  return {
    text: `${runs}, all at once: ${sweep.count} × ${cpuText} = ${sweep.count * cpus} cores`,
    ok: true
  };
}
