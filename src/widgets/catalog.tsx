/**
 * The "Run over catalog" dialog: the function, the catalog, the region and
 * columns, setup and resources, and a plan panel that shows what the proxy
 * says the run would touch and cost before anything runs.
 */
import * as React from 'react';

import {
  buildCatalogSpec,
  definedFunctions,
  ICatalogJobSource,
  ICatalogValues,
  planRequest
} from '../catalog';
import { isDaskBackend } from '../spec';
import { Batch, IBatchModel, ICatalogPlanner } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import { ColumnFields, RegionFields } from './catalogFields';
import { PlanPanel, planBlocksSubmit } from './catalogPlan';
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
import { useSignalValue } from './useSignal';

export { PLAN_DEBOUNCE_MS } from '../services/catalogPlanner';
export { PlanPanel, planBlocksSubmit, PlanState } from './catalogPlan';

export interface ICatalogFormProps extends IJobFormProps<ICatalogValues> {
  model: IBatchModel;
  source: ICatalogJobSource;
  preferredBackend: string;
  /** The dialog's planner: the form shows its plan and the catalog's columns. */
  planner: ICatalogPlanner;
  trans: TranslationBundle;
}

export function CatalogForm(props: ICatalogFormProps): JSX.Element {
  const { model, source, error, busy, trans } = props;
  const [values, update] = useFormValues<ICatalogValues>(props);
  useDefaultBackendAndAccount(model, values, props.preferredBackend, update);
  const plan = useSignalValue(props.planner.changed, () => props.planner.state);
  // Keep the last known columns while a new plan loads, so the boxes stay put.
  const [columns, setColumns] = React.useState<
    Batch.ICatalogPlan['catalog']['columns']
  >([]);
  React.useEffect(() => {
    if (plan.status === 'ok') {
      setColumns(plan.plan.catalog.columns);
    }
  }, [plan]);
  const functions = definedFunctions(source.cell.source);

  return (
    <div className="jp-Batch-SubmitDialog jp-Batch-CatalogDialog">
      <div className="jp-Batch-Resources">
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
        <label className="jp-Batch-Field">
          <span>{trans.__('Function')}</span>
          <select
            className="jp-mod-styled"
            name="function"
            value={values.functionName}
            onChange={e => update({ functionName: e.target.value })}
          >
            {functions.map(name => (
              <option key={name} value={name}>
                {name}(df)
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="jp-Batch-Hint">
        {trans.__(
          "Called once per partition with a DataFrame (and optionally the partition's pixel); it returns a DataFrame keeping the ra/dec columns."
        )}
      </div>
      <label className="jp-Batch-Field">
        <span>{trans.__('Catalog')}</span>
        <input
          className="jp-mod-styled"
          name="catalogPath"
          type="text"
          placeholder={trans.__(
            'a HATS catalog folder, e.g. catalogs/synthetic'
          )}
          value={values.catalogPath}
          onChange={e => update({ catalogPath: e.target.value })}
        />
      </label>
      <RegionFields
        region={values.region}
        update={patch => update({ region: { ...values.region, ...patch } })}
        trans={trans}
      />
      <ColumnFields
        text={values.columns}
        available={columns}
        update={text => update({ columns: text })}
        trans={trans}
      />
      <SetupFields
        candidates={source.setupCandidates}
        setup={values.setup}
        chosenSetupIds={values.chosenSetupIds}
        update={update}
        trans={trans}
      />
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
      <PlanPanel state={plan} trans={trans} />
      {busy && (
        <div className="jp-Batch-Muted jp-Batch-Busy">
          {props.busyText ?? trans.__('Submitting…')}
        </div>
      )}
      {error && <div className="jp-Batch-SubmitError">{error}</div>}
    </div>
  );
}

/**
 * "Run over catalog": Submit is disabled while the plan does not fit or
 * cannot be made; the proxy plans again on submit and may still refuse.
 */
export class CatalogDialog extends JobDialog<ICatalogValues> {
  constructor(options: CatalogDialog.IOptions) {
    const { model, source, preferredBackend } = options;
    const trans = options.trans ?? loadTrans();
    const planner = model.createCatalogPlanner();
    const ask = (values: ICatalogValues) => {
      const { request, errors } = planRequest(values, trans);
      planner.request(request ?? null, errors);
    };
    super({
      title: options.title ?? trans.__('Run over catalog'),
      body: new JobDialogBody<ICatalogValues>({
        model,
        initial: options.initial,
        renderForm: props => (
          <CatalogForm
            {...props}
            model={model}
            source={source}
            preferredBackend={preferredBackend}
            planner={planner}
            trans={trans}
          />
        ),
        onChange: ask
      }),
      model,
      idempotencyKey: options.idempotencyKey,
      trans
    });
    this._planner = planner;
    this._trans = trans;
    this._source = source;
    this._batchModel = model;
    planner.changed.connect(this._onPlan, this);
    ask(options.initial);
  }

  dispose(): void {
    this._planner.dispose();
    super.dispose();
  }

  protected buildSpec(
    values: ICatalogValues,
    idempotencyKey: string
  ): Batch.IJobSpec {
    return buildCatalogSpec(
      this._source,
      values,
      idempotencyKey,
      backendType(this._batchModel, values.backend),
      this._trans
    );
  }

  protected submitBlocked(): boolean {
    return planBlocksSubmit(this._planner.state, this._trans) !== null;
  }

  private _onPlan(): void {
    const reason = planBlocksSubmit(this._planner.state, this._trans);
    this.setSubmitEnabled(reason === null, reason ?? '');
  }

  private _planner: ICatalogPlanner;
  private _trans: TranslationBundle;
  private _source: ICatalogJobSource;
  private _batchModel: IBatchModel;
}

export namespace CatalogDialog {
  export interface IOptions {
    model: IBatchModel;
    source: ICatalogJobSource;
    initial: ICatalogValues;
    preferredBackend: string;
    idempotencyKey?: string;
    /** Default: "Run over catalog". */
    title?: string;
    /** The extension's strings; default: as written. */
    trans?: TranslationBundle;
  }
}
