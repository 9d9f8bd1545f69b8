/**
 * "Run in batch", "Run notebook in batch" and "Run script in batch": the
 * form and its dialog (the shared body and Submit: ./dialog/jobDialog.tsx).
 */
import * as React from 'react';

import { takesSetupCells, unhandledKind } from '../kinds';
import {
  buildJobSpec,
  CellsFrom,
  IJobSource,
  isDaskBackend,
  ISubmitValues,
  withCellsFrom
} from '../spec';
import { Batch, IBatchModel, IBatchSettings } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import {
  BackendAccountFields,
  backendType,
  ResourceFields,
  SetupFields,
  useDefaultBackendAndAccount
} from './dialog/fields';
import {
  IJobFormProps,
  JobDialog,
  JobDialogBody,
  useFormValues
} from './dialog/jobDialog';
import { QuotaLine, SweepLine } from './dialog/lines';

export interface ISubmitFormProps extends IJobFormProps<ISubmitValues> {
  model: IBatchModel;
  source: IJobSource;
  /** Default backend from the settings, used when the list names it. */
  preferredBackend: string;
  trans: TranslationBundle;
}

export function SubmitForm(props: ISubmitFormProps): JSX.Element {
  const { model, error, busy, trans } = props;
  const [values, update] = useFormValues<ISubmitValues>(props);
  const source = withCellsFrom(props.source, values.cellsFrom);
  useDefaultBackendAndAccount(model, values, props.preferredBackend, update);

  return (
    <div className="jp-Batch-SubmitDialog">
      <label className="jp-Batch-Field">
        <span>{trans.__('Name')}</span>
        <input
          className="jp-mod-styled"
          name="name"
          type="text"
          maxLength={200}
          value={values.name}
          onChange={e => update({ name: e.target.value })}
        />
      </label>
      <div className="jp-Batch-What">
        {whatRuns(source, values.cellsFrom, trans)}
      </div>
      <CellsFromField
        source={props.source}
        cellsFrom={values.cellsFrom}
        update={update}
        trans={trans}
      />
      {takesSetupCells(source.kind) && (
        <SetupFields
          candidates={source.setupCandidates ?? []}
          setup={values.setup}
          chosenSetupIds={values.chosenSetupIds}
          update={update}
          trans={trans}
        />
      )}
      <label className="jp-Batch-Field">
        <span>{trans.__('Parameters')}</span>
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
        <span>{trans.__('Sweep')}</span>
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
        {trans.__(
          "Optional: a list of values a line; one run per combination. A name also in Parameters takes the sweep's values."
        )}
      </div>
      <SweepLine model={model} values={values} trans={trans} />
      <ResourceFields
        initial={props.initial}
        update={update}
        dask={isDaskBackend(backendType(model, values.backend))}
        trans={trans}
      />
      <BackendAccountFields
        model={model}
        values={values}
        update={update}
        trans={trans}
      />
      <QuotaLine model={model} values={values} trans={trans} />
      {busy && (
        <div className="jp-Batch-Muted jp-Batch-Busy">
          {props.busyText ?? trans.__('Submitting…')}
        </div>
      )}
      {error && <div className="jp-Batch-SubmitError">{error}</div>}
    </div>
  );
}

/** Selected or tagged cells: offered when the notebook has both. */
function CellsFromField(props: {
  source: IJobSource;
  cellsFrom: CellsFrom | undefined;
  update: (patch: Partial<ISubmitValues>) => void;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { source, cellsFrom, update, trans } = props;
  const { selection, tags } = source.cellChoices ?? {};
  if (!selection || !tags) {
    return null;
  }
  return (
    <label className="jp-Batch-Field">
      <span>{trans.__('Cells')}</span>
      <select
        className="jp-mod-styled"
        name="cellsFrom"
        value={cellsFrom ?? 'selection'}
        onChange={e => update({ cellsFrom: e.target.value as CellsFrom })}
      >
        <option value="selection">
          {trans._n(
            'The selected cell',
            'The %1 selected cells',
            selection.main.length
          )}
        </option>
        <option value="tags">
          {trans._n(
            'The cell tagged "batch"',
            'The %1 cells tagged "batch"',
            tags.main.length
          )}
        </option>
      </select>
    </label>
  );
}

/** The line saying what the job runs, and for cells by which rule. */
function whatRuns(
  source: IJobSource,
  cellsFrom: CellsFrom | undefined,
  trans: TranslationBundle
): string {
  switch (source.kind) {
    case 'cells': {
      const count = source.main?.length ?? 0;
      if (cellsFrom === 'tags') {
        return source.cellChoices?.selection
          ? trans._n(
              'Runs the %1 cell tagged "batch" in %2',
              'Runs the %1 cells tagged "batch" in %2',
              count,
              source.notebookPath
            )
          : trans._n(
              'No code cell is selected: runs the %1 cell tagged "batch" in %2',
              'No code cell is selected: runs the %1 cells tagged "batch" in %2',
              count,
              source.notebookPath
            );
      }
      return trans._n(
        'Runs the selected cell of %2',
        'Runs the %1 selected cells of %2',
        count,
        source.notebookPath
      );
    }
    case 'notebook':
      return trans.__('Runs the whole notebook %1', source.notebookPath);
    case 'script':
      return trans.__('Runs the Python script %1', source.notebookPath);
    default:
      return unhandledKind(source.kind);
  }
}

/**
 * "Run in batch", "Run notebook in batch" and "Run script in batch".
 */
export class SubmitDialog extends JobDialog<ISubmitValues> {
  constructor(options: SubmitDialog.IOptions) {
    const { model, source, preferredBackend } = options;
    const trans = options.trans ?? loadTrans();
    super({
      title: options.title,
      body: new JobDialogBody<ISubmitValues>({
        model,
        initial: options.initial,
        renderForm: props => (
          <SubmitForm
            {...props}
            model={model}
            source={source}
            preferredBackend={preferredBackend}
            trans={trans}
          />
        )
      }),
      model,
      idempotencyKey: options.idempotencyKey,
      trans
    });
    this._source = source;
    this._batchModel = model;
    this._trans = trans;
  }

  protected buildSpec(
    values: ISubmitValues,
    idempotencyKey: string
  ): Batch.IJobSpec {
    return buildJobSpec(
      this._source,
      values,
      idempotencyKey,
      backendType(this._batchModel, values.backend),
      this._trans
    );
  }

  private _source: IJobSource;
  private _batchModel: IBatchModel;
  private _trans: TranslationBundle;
}

export namespace SubmitDialog {
  export interface IOptions {
    title: string;
    model: IBatchModel;
    source: IJobSource;
    initial: ISubmitValues;
    preferredBackend: string;
    idempotencyKey?: string;
    /** The extension's strings; default: as written. */
    trans?: TranslationBundle;
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
