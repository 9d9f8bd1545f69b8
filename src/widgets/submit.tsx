/**
 * The submit dialog: its body (a form) and a Dialog whose Submit button
 * resolves only once the proxy has accepted the job, so a refusal leaves the
 * person's input in place with the proxy's sentence below it.
 */
import { Dialog, ReactWidget, UseSignal } from '@jupyterlab/apputils';
import * as React from 'react';

import {
  buildJobSpec,
  clusterWorkers,
  firstLine,
  hasSweep,
  ICellInfo,
  IJobSource,
  isDaskBackend,
  ISubmitValues,
  IWorkerValues,
  newIdempotencyKey,
  parseSweep,
  quotaSummary,
  SetupMode,
  sweepSummary,
  WorkersMode
} from '../spec';
import { Batch, IBatchModel, IBatchSettings } from '../tokens';

export interface ISubmitFormProps {
  model: IBatchModel;
  source: IJobSource;
  initial: ISubmitValues;
  /** Default backend from the settings, used when the list names it. */
  preferredBackend: string;
  error: string | null;
  busy: boolean;
  onChange: (values: ISubmitValues) => void;
}

/** The resource inputs, in the order shown; no HTML min/step: our own checks explain bad values. */
const RESOURCE_FIELDS = [
  ['cpus', 'CPUs'],
  ['memoryMiB', 'Memory (MiB)'],
  ['walltimeMinutes', 'Walltime (min)']
] as const;

/** On a Dask backend CPUs and memory size each worker, so the labels say so. */
const DASK_LABELS: Record<string, string> = {
  cpus: 'CPUs per worker',
  memoryMiB: 'Memory per worker (MiB)'
};

/** The numeric worker inputs of each mode: field and label. */
const WORKER_INPUTS: Record<
  WorkersMode,
  [keyof Omit<IWorkerValues, 'workersMode'>, string][]
> = {
  fixed: [['workers', 'Workers']],
  adaptive: [
    ['minWorkers', 'Minimum'],
    ['maxWorkers', 'Maximum']
  ]
};

function numberValue(text: string): number {
  return text.trim() === '' ? NaN : Number(text);
}

function chooseBackend(
  backends: ReadonlyArray<Batch.IBackend>,
  preferred: string
): string {
  if (backends.some(b => b.name === preferred)) {
    return preferred;
  }
  return (backends.find(b => b.default) ?? backends[0])?.name ?? preferred;
}

/** The values the shared fields edit: resources (with Dask workers), backend and account. */
export type ResourceValues = Pick<
  ISubmitValues,
  'cpus' | 'memoryMiB' | 'walltimeMinutes' | 'backend' | 'account'
> &
  IWorkerValues;

/** The chosen backend's type, when the proxy names it. */
export function backendType(
  model: IBatchModel,
  backend: string
): Batch.BackendType | undefined {
  return model.backends.find(b => b.name === backend)?.type;
}

/**
 * Fill the backend and account once the lists arrive, unless chosen. Called
 * on every render of a form that shows `BackendAccountFields`.
 */
export function useDefaultBackendAndAccount(
  model: IBatchModel,
  values: ResourceValues,
  preferredBackend: string,
  update: (patch: Partial<ResourceValues>) => void
): void {
  const backends = model.backends;
  const quota = model.quota;
  React.useEffect(() => {
    const patch: Partial<ResourceValues> = {};
    if (!values.backend && backends.length) {
      patch.backend = chooseBackend(backends, preferredBackend);
    }
    if (!values.account && quota) {
      patch.account = quota.accounts.includes(quota.user)
        ? quota.user
        : (quota.accounts[0] ?? '');
    }
    if (Object.keys(patch).length) {
      update(patch);
    }
  });
}

type NumberField =
  | 'cpus'
  | 'memoryMiB'
  | 'walltimeMinutes'
  | 'workers'
  | 'minWorkers'
  | 'maxWorkers';

/**
 * CPUs, memory and walltime, and on a Dask backend (`dask`) the workers:
 * fixed or adaptive. The inputs keep the text as typed, so a half-typed
 * number is not replaced; the values get NaN until it parses.
 */
export function ResourceFields(props: {
  initial: ResourceValues;
  update: (patch: Partial<ResourceValues>) => void;
  /** Whether the chosen backend gives the job a Dask cluster. */
  dask?: boolean;
}): JSX.Element {
  const { initial, update, dask } = props;
  const [numbers, setNumbers] = React.useState<Record<NumberField, string>>({
    cpus: String(initial.cpus),
    memoryMiB: String(initial.memoryMiB),
    walltimeMinutes: String(initial.walltimeMinutes),
    workers: String(initial.workers ?? 1),
    minWorkers: String(initial.minWorkers ?? 1),
    maxWorkers: String(initial.maxWorkers ?? 2)
  });
  const [mode, setMode] = React.useState<WorkersMode>(
    initial.workersMode ?? 'fixed'
  );
  const setNumber =
    (field: NumberField) => (event: React.ChangeEvent<HTMLInputElement>) => {
      const text = event.target.value;
      setNumbers(previous => ({ ...previous, [field]: text }));
      update({ [field]: numberValue(text) });
    };
  const numberInput = (field: NumberField, label: string) => (
    <label className="jp-Batch-Field" key={field}>
      <span>{label}</span>
      <input
        className="jp-mod-styled"
        name={field}
        type="number"
        step="any"
        value={numbers[field]}
        onChange={setNumber(field)}
      />
    </label>
  );
  const chooseMode = (next: WorkersMode) => {
    setMode(next);
    // The other mode's fields keep their text; send what this mode shows.
    update({
      workersMode: next,
      workers: numberValue(numbers.workers),
      minWorkers: numberValue(numbers.minWorkers),
      maxWorkers: numberValue(numbers.maxWorkers)
    });
  };
  return (
    <>
      <div className="jp-Batch-Resources">
        {RESOURCE_FIELDS.map(([field, label]) =>
          numberInput(field, (dask && DASK_LABELS[field]) || label)
        )}
      </div>
      {dask && (
        <div className="jp-Batch-Resources jp-Batch-Workers">
          <label className="jp-Batch-Field">
            <span>Workers</span>
            <select
              className="jp-mod-styled"
              name="workersMode"
              value={mode}
              onChange={e => chooseMode(e.target.value as WorkersMode)}
            >
              <option value="fixed">Fixed</option>
              <option value="adaptive">Adaptive</option>
            </select>
          </label>
          {WORKER_INPUTS[mode].map(([field, label]) =>
            numberInput(field, mode === 'fixed' ? 'Count' : label)
          )}
        </div>
      )}
    </>
  );
}

/** The backend and the account to charge. */
export function BackendAccountFields(props: {
  model: IBatchModel;
  values: ResourceValues;
  update: (patch: Partial<ResourceValues>) => void;
}): JSX.Element {
  const { model, values, update } = props;
  const quota = model.quota;
  const backendOptions: Batch.IBackend[] = model.backends.length
    ? model.backends.slice()
    : values.backend
      ? [{ name: values.backend, label: values.backend, default: true }]
      : [];
  return (
    <div className="jp-Batch-Resources">
      <label className="jp-Batch-Field">
        <span>Backend</span>
        <select
          className="jp-mod-styled"
          name="backend"
          value={values.backend}
          onChange={e => update({ backend: e.target.value })}
        >
          {backendOptions.map(b => (
            <option key={b.name} value={b.name}>
              {b.label || b.name}
            </option>
          ))}
        </select>
      </label>
      <label className="jp-Batch-Field">
        <span>Account</span>
        <select
          className="jp-mod-styled"
          name="account"
          value={values.account}
          onChange={e => update({ account: e.target.value })}
        >
          {(quota?.accounts ?? (values.account ? [values.account] : [])).map(
            account => (
              <option key={account} value={account}>
                {account}
              </option>
            )
          )}
        </select>
      </label>
    </div>
  );
}

/** The setup choice and, for "Chosen cells", a checkbox per candidate. */
export function SetupFields(props: {
  candidates: ReadonlyArray<ICellInfo>;
  setup: SetupMode;
  chosenSetupIds: ReadonlyArray<string>;
  update: (patch: { setup?: SetupMode; chosenSetupIds?: string[] }) => void;
}): JSX.Element {
  const { candidates, setup, update } = props;
  const chosen = new Set(props.chosenSetupIds);
  const toggle = (cell: ICellInfo, on: boolean) => {
    const ids = candidates
      .filter(c => (c.id === cell.id ? on : chosen.has(c.id)))
      .map(c => c.id);
    update({ chosenSetupIds: ids });
  };
  return (
    <>
      <label className="jp-Batch-Field">
        <span>Setup</span>
        <select
          className="jp-mod-styled"
          name="setup"
          value={setup}
          onChange={e => update({ setup: e.target.value as SetupMode })}
        >
          <option value="none">None</option>
          <option value="above">All code cells above</option>
          <option value="chosen">Chosen cells</option>
        </select>
      </label>
      {setup === 'chosen' && (
        <div className="jp-Batch-SetupCells">
          {candidates.length === 0 && (
            <div className="jp-Batch-Muted">No code cells above.</div>
          )}
          {candidates.map(cell => (
            <label className="jp-Batch-SetupCell" key={cell.id}>
              <input
                type="checkbox"
                data-cell-id={cell.id}
                checked={chosen.has(cell.id)}
                onChange={e => toggle(cell, e.target.checked)}
              />
              <code>{firstLine(cell.source)}</code>
            </label>
          ))}
        </div>
      )}
    </>
  );
}

export function SubmitForm(props: ISubmitFormProps): JSX.Element {
  const { model, source, error, busy } = props;
  const [values, setValues] = React.useState<ISubmitValues>(props.initial);

  const update = (patch: Partial<ISubmitValues>) => {
    setValues(previous => {
      const next = { ...previous, ...patch };
      props.onChange(next);
      return next;
    });
  };
  useDefaultBackendAndAccount(model, values, props.preferredBackend, update);

  return (
    <div className="jp-Batch-SubmitDialog">
      <label className="jp-Batch-Field">
        <span>Name</span>
        <input
          className="jp-mod-styled"
          name="name"
          type="text"
          maxLength={200}
          value={values.name}
          onChange={e => update({ name: e.target.value })}
        />
      </label>
      {source.kind === 'cells' && (
        <div className="jp-Batch-What">
          Runs {source.main?.length ?? 0} cell
          {(source.main?.length ?? 0) === 1 ? '' : 's'} of {source.notebookPath}
        </div>
      )}
      {source.kind === 'notebook' && (
        <div className="jp-Batch-What">
          Runs the whole notebook {source.notebookPath}
        </div>
      )}
      {source.kind === 'script' && (
        <div className="jp-Batch-What">
          Runs the Python script {source.notebookPath}
        </div>
      )}
      {source.kind === 'cells' && (
        <SetupFields
          candidates={source.setupCandidates ?? []}
          setup={values.setup}
          chosenSetupIds={values.chosenSetupIds}
          update={update}
        />
      )}
      <label className="jp-Batch-Field">
        <span>Parameters</span>
        <textarea
          className="jp-mod-styled"
          name="parameters"
          rows={3}
          placeholder={'threshold = 0.5\nband = "r"'}
          value={values.parameters}
          onChange={e => update({ parameters: e.target.value })}
        />
      </label>
      <label className="jp-Batch-Field">
        <span>Sweep</span>
        <textarea
          className="jp-mod-styled"
          name="sweep"
          rows={2}
          placeholder={'band = ["g", "r", "i"]\nthreshold = [0.1, 0.5]'}
          value={values.sweep ?? ''}
          onChange={e => update({ sweep: e.target.value })}
        />
      </label>
      <div className="jp-Batch-Hint">
        Optional: a list of values a line; one run per combination. A name also
        in Parameters takes the sweep's values.
      </div>
      <SweepLine model={model} values={values} />
      <ResourceFields
        initial={props.initial}
        update={update}
        dask={isDaskBackend(backendType(model, values.backend))}
      />
      <BackendAccountFields model={model} values={values} update={update} />
      <QuotaLine model={model} values={values} />
      {busy && <div className="jp-Batch-Muted">Submitting…</div>}
      {error && <div className="jp-Batch-SubmitError">{error}</div>}
    </div>
  );
}

/** Whether the chosen backend runs a sweep's items all at once. */
function sweepsInParallel(model: IBatchModel, backend: string): boolean {
  return (
    model.backends.find(b => b.name === backend)?.sweepsInParallel ?? false
  );
}

/**
 * The live line under the sweep: how many runs and how they would run, or
 * what to fix in the text.
 */
function SweepLine(props: {
  model: IBatchModel;
  values: ISubmitValues;
}): JSX.Element | null {
  const { model, values } = props;
  const cpus = Number.isFinite(values.cpus) ? values.cpus : 0;
  const summary = sweepSummary(
    values.sweep ?? '',
    cpus,
    sweepsInParallel(model, values.backend)
  );
  if (!summary) {
    return null;
  }
  return (
    <div className={`jp-Batch-SweepSummary${summary.ok ? '' : ' -mod-warn'}`}>
      {summary.text}
    </div>
  );
}

/** How many runs the sweep text makes; 1 without a sweep or while it is wrong. */
function sweepRuns(values: ISubmitValues): number {
  if (!hasSweep(values)) {
    return 1;
  }
  const sweep = parseSweep(values.sweep ?? '', false);
  return sweep.errors.length ? 1 : sweep.count;
}

function QuotaLine(props: {
  model: IBatchModel;
  values: ISubmitValues;
}): JSX.Element {
  const { model, values } = props;
  return (
    <UseSignal signal={model.quotaChanged} initialArgs={model.quota}>
      {(_, quota) => {
        if (!quota) {
          const unreachable = model.connection === 'unreachable';
          return (
            <div
              className={`jp-Batch-QuotaSummary${unreachable ? ' -mod-warn' : ' jp-Batch-Muted'}`}
            >
              {unreachable
                ? `Your quota cannot be read: ${model.connectionError?.message ?? 'the User Batch service is not reachable.'}`
                : 'Reading your quota…'}
            </div>
          );
        }
        const summary = quotaSummary(quota, {
          cpus: Number.isFinite(values.cpus) ? values.cpus : 0,
          memoryMiB: Number.isFinite(values.memoryMiB) ? values.memoryMiB : 0,
          walltimeMinutes: Number.isFinite(values.walltimeMinutes)
            ? values.walltimeMinutes
            : 0,
          runs: sweepRuns(values),
          parallel: sweepsInParallel(model, values.backend),
          workers: isDaskBackend(backendType(model, values.backend))
            ? clusterWorkers(values)
            : undefined
        });
        return (
          <div
            className={`jp-Batch-QuotaSummary${summary.fits ? '' : ' -mod-warn'}`}
          >
            {summary.text}
          </div>
        );
      }}
    </UseSignal>
  );
}

/**
 * The dialog body: holds the latest values for `getValue`.
 */
export class SubmitBody extends ReactWidget {
  constructor(options: SubmitBody.IOptions) {
    super();
    this._options = options;
    this._values = options.initial;
    this.addClass('jp-Batch-SubmitBody');
    options.model.backendsChanged.connect(() => this.update(), this);
    options.model.quotaChanged.connect(() => this.update(), this);
    options.model.connectionChanged.connect(() => this.update(), this);
  }

  getValue(): ISubmitValues {
    return this._values;
  }

  setError(error: string | null): void {
    this._error = error;
    this.update();
  }

  setBusy(busy: boolean): void {
    this._busy = busy;
    this.update();
  }

  protected render(): JSX.Element {
    return (
      <SubmitForm
        model={this._options.model}
        source={this._options.source}
        initial={this._options.initial}
        preferredBackend={this._options.preferredBackend}
        error={this._error}
        busy={this._busy}
        onChange={values => {
          this._values = values;
        }}
      />
    );
  }

  private _options: SubmitBody.IOptions;
  private _values: ISubmitValues;
  private _error: string | null = null;
  private _busy = false;
}

export namespace SubmitBody {
  export interface IOptions {
    model: IBatchModel;
    source: IJobSource;
    initial: ISubmitValues;
    preferredBackend: string;
  }
}

/**
 * What a job dialog needs of its body: the error and busy lines.
 */
export interface IJobDialogBody {
  setError(error: string | null): void;
  setBusy(busy: boolean): void;
}

/**
 * A Dialog whose Submit builds a spec, submits it and closes only once the
 * proxy accepted it; a refusal stays in the body, with the input.
 */
export abstract class JobDialog<T> extends Dialog<T> {
  constructor(options: {
    title: string;
    body: ReactWidget & IJobDialogBody & Dialog.IBodyWidget<T>;
    model: IBatchModel;
    idempotencyKey?: string;
  }) {
    super({
      title: options.title,
      body: options.body,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Submit' })],
      focusNodeSelector: 'input[name="name"]'
    });
    this.addClass('jp-Batch-Dialog');
    this._form = options.body;
    this._model = options.model;
    // One key per dialog: a retried click never makes a second job.
    this._idempotencyKey = options.idempotencyKey ?? newIdempotencyKey();
  }

  /** The job the proxy accepted, once the dialog resolved with Submit. */
  get job(): Batch.IJob | null {
    return this._job;
  }

  resolve(index?: number): void {
    const acceptIndex = 1;
    if (index !== undefined && index !== acceptIndex) {
      super.resolve(index);
      return;
    }
    if (this._busy || this.submitBlocked()) {
      return;
    }
    void this._submit(acceptIndex);
  }

  /** Build the spec from the body's values; throws with the sentences to show. */
  protected abstract buildSpec(idempotencyKey: string): Batch.IJobSpec;

  /** Whether Submit is disabled for now (e.g. the plan does not fit). */
  protected submitBlocked(): boolean {
    return false;
  }

  /** Enable or disable the Submit button. */
  protected setSubmitEnabled(enabled: boolean): void {
    const accept = this.node.querySelector<HTMLButtonElement>(
      '.jp-Dialog-button.jp-mod-accept'
    );
    if (accept) {
      accept.disabled = !enabled;
    }
  }

  private async _submit(acceptIndex: number): Promise<void> {
    let spec: Batch.IJobSpec;
    try {
      spec = this.buildSpec(this._idempotencyKey);
    } catch (reason) {
      this._form.setError(
        reason instanceof Error ? reason.message : String(reason)
      );
      return;
    }
    this._setBusy(true);
    this._form.setError(null);
    try {
      this._job = await this._model.submit(spec);
    } catch (reason) {
      this._setBusy(false);
      this._form.setError(
        reason instanceof Error ? reason.message : String(reason)
      );
      return;
    }
    this._setBusy(false);
    super.resolve(acceptIndex);
  }

  private _setBusy(busy: boolean): void {
    this._busy = busy;
    this._form.setBusy(busy);
    this.setSubmitEnabled(!busy && !this.submitBlocked());
  }

  private _form: IJobDialogBody;
  private _model: IBatchModel;
  private _idempotencyKey: string;
  private _busy = false;
  private _job: Batch.IJob | null = null;
}

/**
 * "Run in batch", "Run notebook in batch" and "Run script in batch".
 */
export class SubmitDialog extends JobDialog<ISubmitValues> {
  constructor(options: SubmitDialog.IOptions) {
    const body = new SubmitBody(options);
    super({
      title: options.title,
      body,
      model: options.model,
      idempotencyKey: options.idempotencyKey
    });
    this._submitBody = body;
    this._source = options.source;
    this._batchModel = options.model;
  }

  protected buildSpec(idempotencyKey: string): Batch.IJobSpec {
    const values = this._submitBody.getValue();
    return buildJobSpec(
      this._source,
      values,
      idempotencyKey,
      backendType(this._batchModel, values.backend)
    );
  }

  private _submitBody: SubmitBody;
  private _source: IJobSource;
  private _batchModel: IBatchModel;
}

export namespace SubmitDialog {
  export interface IOptions extends SubmitBody.IOptions {
    title: string;
    idempotencyKey?: string;
  }
}

/**
 * The values a dialog starts with.
 */
export function initialValues(
  name: string,
  settings: IBatchSettings
): ISubmitValues {
  return {
    name,
    setup: 'none',
    chosenSetupIds: [],
    parameters: '',
    sweep: '',
    cpus: settings.defaultResources.cpus,
    memoryMiB: settings.defaultResources.memoryMiB,
    walltimeMinutes: settings.defaultResources.walltimeMinutes,
    backend: '',
    account: '',
    workersMode: 'fixed',
    workers: 1,
    minWorkers: 1,
    maxWorkers: 2
  };
}
