/**
 * The fields every job dialog shares: resources (with Dask workers), the
 * backend and account, and the setup cells.
 */
import * as React from 'react';

import {
  firstLine,
  ICellInfo,
  ISubmitValues,
  IWorkerValues,
  SetupMode,
  WorkersMode
} from '../../spec';
import { Batch, IBatchModel } from '../../tokens';
import { TranslationBundle } from '../../translation';

/**
 * The resource inputs, in the order shown; no HTML min/step: our own checks
 * explain bad values. On a Dask backend CPUs and memory size each worker, so
 * the labels say so.
 */
function resourceFields(
  trans: TranslationBundle,
  dask: boolean
): ['cpus' | 'memoryMiB' | 'walltimeMinutes', string][] {
  return [
    ['cpus', dask ? trans.__('CPUs per worker') : trans.__('CPUs')],
    [
      'memoryMiB',
      dask ? trans.__('Memory per worker (MiB)') : trans.__('Memory (MiB)')
    ],
    ['walltimeMinutes', trans.__('Walltime (min)')]
  ];
}

/** The numeric worker inputs of each mode: field and label. */
function workerInputs(
  trans: TranslationBundle,
  mode: WorkersMode
): [keyof Omit<IWorkerValues, 'workersMode'>, string][] {
  switch (mode) {
    case 'fixed':
      return [['workers', trans.__('Count')]];
    case 'adaptive':
      return [
        ['minWorkers', trans.__('Minimum')],
        ['maxWorkers', trans.__('Maximum')]
      ];
  }
}

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
  trans: TranslationBundle;
}): JSX.Element {
  const { initial, update, dask, trans } = props;
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
        {resourceFields(trans, !!dask).map(([field, label]) =>
          numberInput(field, label)
        )}
      </div>
      {dask && (
        <div className="jp-Batch-Resources jp-Batch-Workers">
          <label className="jp-Batch-Field">
            <span>{trans.__('Workers')}</span>
            <select
              className="jp-mod-styled"
              name="workersMode"
              value={mode}
              onChange={e => chooseMode(e.target.value as WorkersMode)}
            >
              <option value="fixed">{trans.__('Fixed')}</option>
              <option value="adaptive">{trans.__('Adaptive')}</option>
            </select>
          </label>
          {workerInputs(trans, mode).map(([field, label]) =>
            numberInput(field, label)
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
  trans: TranslationBundle;
}): JSX.Element {
  const { model, values, update, trans } = props;
  const quota = model.quota;
  const backendOptions: Batch.IBackend[] = model.backends.length
    ? model.backends.slice()
    : values.backend
      ? [{ name: values.backend, label: values.backend, default: true }]
      : [];
  return (
    <div className="jp-Batch-Resources">
      <label className="jp-Batch-Field">
        <span>{trans.__('Backend')}</span>
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
        <span>{trans.__('Account')}</span>
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
  trans: TranslationBundle;
}): JSX.Element {
  const { candidates, setup, update, trans } = props;
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
        <span>{trans.__('Setup')}</span>
        <select
          className="jp-mod-styled"
          name="setup"
          value={setup}
          onChange={e => update({ setup: e.target.value as SetupMode })}
        >
          <option value="none">{trans.__('None')}</option>
          <option value="above">{trans.__('All code cells above')}</option>
          <option value="chosen">{trans.__('Chosen cells')}</option>
        </select>
      </label>
      {setup === 'chosen' && (
        <div className="jp-Batch-SetupCells">
          {candidates.length === 0 && (
            <div className="jp-Batch-Muted">
              {trans.__('No code cells above.')}
            </div>
          )}
          {candidates.map(cell => (
            <label className="jp-Batch-SetupCell" key={cell.id}>
              <input
                type="checkbox"
                data-cell-id={cell.id}
                checked={chosen.has(cell.id)}
                onChange={e => toggle(cell, e.target.checked)}
              />
              <code>{firstLine(cell.source, undefined, trans)}</code>
            </label>
          ))}
        </div>
      )}
    </>
  );
}
