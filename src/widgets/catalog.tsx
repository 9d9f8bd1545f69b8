/**
 * The "Run over catalog" dialog: the function, the catalog, the region and
 * columns, setup and resources, and a plan panel that asks the proxy what
 * the run would touch and cost before anything runs.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { isDaskBackend } from '../spec';
import {
  buildCatalogSpec,
  definedFunctions,
  ICatalogJobSource,
  ICatalogValues,
  IRegionFields,
  parseColumns,
  planLine,
  planRequest,
  RegionType
} from '../catalog';
import { Batch, IBatchModel } from '../tokens';
import {
  BackendAccountFields,
  IJobDialogBody,
  JobDialog,
  backendType,
  ResourceFields,
  SetupFields,
  useDefaultBackendAndAccount
} from './submit';

/** Wait this long after the last keystroke before asking for a plan. */
export const PLAN_DEBOUNCE_MS = 400;

/**
 * Where the plan stands: nothing to ask yet (with what to fix), asking, or
 * the proxy's plan or sentence.
 */
export type PlanState =
  | { status: 'incomplete'; message: string }
  | { status: 'loading' }
  | { status: 'ok'; plan: Batch.ICatalogPlan }
  | { status: 'error'; message: string };

/**
 * Why Submit is disabled for a plan state; null when it may be pressed.
 */
export function planBlocksSubmit(state: PlanState): string | null {
  switch (state.status) {
    case 'ok':
      return state.plan.quota.fits
        ? null
        : `Submit is disabled: ${state.plan.quota.message}`;
    case 'error':
      return 'Submit is disabled until the catalog can be planned: fix the fields above.';
    case 'incomplete':
      return state.message;
    case 'loading':
      return null;
  }
}

/**
 * The plan panel: the plan line and the quota message, or the planner's
 * sentence.
 */
export function PlanPanel(props: { state: PlanState }): JSX.Element {
  const { state } = props;
  switch (state.status) {
    case 'loading':
      return (
        <div className="jp-Batch-Plan jp-Batch-Muted" data-status="loading">
          Planning…
        </div>
      );
    case 'incomplete':
    case 'error':
      return (
        <div className="jp-Batch-Plan -mod-warn" data-status={state.status}>
          {state.message}
        </div>
      );
    case 'ok': {
      const { plan } = state;
      return (
        <div
          className={`jp-Batch-Plan${plan.quota.fits ? '' : ' -mod-warn'}`}
          data-status="ok"
          data-fits={String(plan.quota.fits)}
        >
          <div className="jp-Batch-PlanLine">{planLine(plan)}</div>
          <div className="jp-Batch-PlanQuota">{plan.quota.message}</div>
        </div>
      );
    }
  }
}

/**
 * Ask for a plan whenever the request changes, after a pause in typing;
 * an answer to an older request is dropped.
 */
function usePlan(
  model: IBatchModel,
  values: ICatalogValues,
  onPlan: (state: PlanState) => void
): PlanState {
  const { request, errors } = planRequest(values);
  const key = request ? JSON.stringify(request) : errors.join('\n');
  const [state, setState] = React.useState<PlanState>({ status: 'loading' });
  const report = (next: PlanState) => {
    setState(next);
    onPlan(next);
  };
  React.useEffect(() => {
    if (!request) {
      report({ status: 'incomplete', message: errors.join('\n') });
      return;
    }
    let current = true;
    report({ status: 'loading' });
    const timer = setTimeout(() => {
      model
        .planCatalog(request)
        .then(plan => current && report({ status: 'ok', plan }))
        .catch(
          reason =>
            current &&
            report({
              status: 'error',
              message: reason instanceof Error ? reason.message : String(reason)
            })
        );
    }, PLAN_DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [key]);
  return state;
}

const REGION_LABELS: [RegionType, string][] = [
  ['none', 'Whole sky'],
  ['cone', 'Cone'],
  ['box', 'Box'],
  ['polygon', 'Polygon']
];

/** The numeric inputs of each region type: field, label, placeholder. */
const REGION_INPUTS: Record<
  'cone' | 'box',
  [keyof IRegionFields, string, string][]
> = {
  cone: [
    ['ra', 'RA (deg)', '40'],
    ['dec', 'Dec (deg)', '10'],
    ['radiusArcsec', 'Radius (arcsec)', '3600']
  ],
  box: [
    ['raMin', 'RA min', '30'],
    ['raMax', 'RA max', '50'],
    ['decMin', 'Dec min', '0'],
    ['decMax', 'Dec max', '20']
  ]
};

function RegionFields(props: {
  region: IRegionFields;
  update: (patch: Partial<IRegionFields>) => void;
}): JSX.Element {
  const { region, update } = props;
  const inputs =
    region.type === 'cone' || region.type === 'box'
      ? REGION_INPUTS[region.type]
      : [];
  return (
    <>
      <div className="jp-Batch-Resources jp-Batch-Region">
        <label className="jp-Batch-Field">
          <span>Region</span>
          <select
            className="jp-mod-styled"
            name="regionType"
            value={region.type}
            onChange={e => update({ type: e.target.value as RegionType })}
          >
            {REGION_LABELS.map(([type, label]) => (
              <option key={type} value={type}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {inputs.map(([field, label, placeholder]) => (
          <label className="jp-Batch-Field" key={field}>
            <span>{label}</span>
            <input
              className="jp-mod-styled"
              name={field}
              type="text"
              inputMode="decimal"
              placeholder={placeholder}
              value={region[field]}
              onChange={e => update({ [field]: e.target.value })}
            />
          </label>
        ))}
      </div>
      {region.type === 'box' && (
        <div className="jp-Batch-Hint">
          RA min larger than RA max wraps through 0°.
        </div>
      )}
      {region.type === 'polygon' && (
        <label className="jp-Batch-Field">
          <span>Vertices</span>
          <textarea
            className="jp-mod-styled"
            name="vertices"
            rows={4}
            placeholder={'ra, dec a line, e.g.\n38, 8\n42, 8\n42, 12\n38, 12'}
            value={region.vertices}
            onChange={e => update({ vertices: e.target.value })}
          />
        </label>
      )}
    </>
  );
}

/**
 * The columns text, and once a plan names the catalog's columns a checkbox
 * each that adds or removes the name from the text.
 */
function ColumnFields(props: {
  text: string;
  available: ReadonlyArray<{ name: string; type: string }>;
  update: (text: string) => void;
}): JSX.Element {
  const { text, available, update } = props;
  const chosen = parseColumns(text);
  const toggle = (name: string, on: boolean) => {
    const next = on
      ? [...chosen, name]
      : chosen.filter(column => column !== name);
    update(next.join(', '));
  };
  return (
    <>
      <label className="jp-Batch-Field">
        <span>Columns</span>
        <input
          className="jp-mod-styled"
          name="columns"
          type="text"
          placeholder="all columns; or e.g. id, ra, dec, mag"
          value={text}
          onChange={e => update(e.target.value)}
        />
      </label>
      {available.length > 0 && (
        <div className="jp-Batch-Columns">
          {available.map(column => (
            <label
              className="jp-Batch-Column"
              key={column.name}
              title={column.type}
            >
              <input
                type="checkbox"
                data-column={column.name}
                checked={chosen.includes(column.name)}
                onChange={e => toggle(column.name, e.target.checked)}
              />
              {column.name}
            </label>
          ))}
        </div>
      )}
    </>
  );
}

export interface ICatalogFormProps {
  model: IBatchModel;
  source: ICatalogJobSource;
  initial: ICatalogValues;
  preferredBackend: string;
  error: string | null;
  busy: boolean;
  onChange: (values: ICatalogValues) => void;
  onPlan: (state: PlanState) => void;
}

export function CatalogForm(props: ICatalogFormProps): JSX.Element {
  const { model, source, error, busy } = props;
  const [values, setValues] = React.useState<ICatalogValues>(props.initial);
  const update = (patch: Partial<ICatalogValues>) => {
    setValues(previous => {
      const next = { ...previous, ...patch };
      props.onChange(next);
      return next;
    });
  };
  useDefaultBackendAndAccount(model, values, props.preferredBackend, update);
  const plan = usePlan(model, values, props.onPlan);
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
        <label className="jp-Batch-Field">
          <span>Function</span>
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
        Called once per partition with a DataFrame (and optionally the
        partition's pixel); it returns a DataFrame keeping the ra/dec columns.
      </div>
      <label className="jp-Batch-Field">
        <span>Catalog</span>
        <input
          className="jp-mod-styled"
          name="catalogPath"
          type="text"
          placeholder="a HATS catalog folder, e.g. catalogs/synthetic"
          value={values.catalogPath}
          onChange={e => update({ catalogPath: e.target.value })}
        />
      </label>
      <RegionFields
        region={values.region}
        update={patch => update({ region: { ...values.region, ...patch } })}
      />
      <ColumnFields
        text={values.columns}
        available={columns}
        update={text => update({ columns: text })}
      />
      <SetupFields
        candidates={source.setupCandidates}
        setup={values.setup}
        chosenSetupIds={values.chosenSetupIds}
        update={update}
      />
      <ResourceFields
        initial={props.initial}
        update={update}
        dask={isDaskBackend(backendType(model, values.backend))}
      />
      <BackendAccountFields model={model} values={values} update={update} />
      <PlanPanel state={plan} />
      {busy && <div className="jp-Batch-Muted">Submitting…</div>}
      {error && <div className="jp-Batch-SubmitError">{error}</div>}
    </div>
  );
}

/**
 * The dialog body: holds the latest values and plan for the dialog.
 */
export class CatalogBody extends ReactWidget implements IJobDialogBody {
  constructor(options: CatalogBody.IOptions) {
    super();
    this._options = options;
    this._values = options.initial;
    this.addClass('jp-Batch-SubmitBody');
    options.model.backendsChanged.connect(() => this.update(), this);
    options.model.quotaChanged.connect(() => this.update(), this);
  }

  getValue(): ICatalogValues {
    return this._values;
  }

  /** The latest plan state, for the dialog to decide on Submit. */
  get plan(): PlanState {
    return this._plan;
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
      <CatalogForm
        model={this._options.model}
        source={this._options.source}
        initial={this._options.initial}
        preferredBackend={this._options.preferredBackend}
        error={this._error}
        busy={this._busy}
        onChange={values => {
          this._values = values;
        }}
        onPlan={state => {
          this._plan = state;
          this._options.onPlan?.(state);
        }}
      />
    );
  }

  private _options: CatalogBody.IOptions;
  private _values: ICatalogValues;
  private _plan: PlanState = { status: 'loading' };
  private _error: string | null = null;
  private _busy = false;
}

export namespace CatalogBody {
  export interface IOptions {
    model: IBatchModel;
    source: ICatalogJobSource;
    initial: ICatalogValues;
    preferredBackend: string;
    onPlan?: (state: PlanState) => void;
  }
}

/**
 * "Run over catalog": Submit is disabled while the plan does not fit or
 * cannot be made; the proxy plans again on submit and may still refuse.
 */
export class CatalogDialog extends JobDialog<ICatalogValues> {
  constructor(options: CatalogDialog.IOptions) {
    let dialog: CatalogDialog | null = null;
    const body = new CatalogBody({
      ...options,
      onPlan: state => dialog?._onPlan(state)
    });
    super({
      title: 'Run over catalog',
      body,
      model: options.model,
      idempotencyKey: options.idempotencyKey
    });
    dialog = this;
    this._catalogBody = body;
    this._source = options.source;
    this._batchModel = options.model;
  }

  protected buildSpec(idempotencyKey: string): Batch.IJobSpec {
    const values = this._catalogBody.getValue();
    return buildCatalogSpec(
      this._source,
      values,
      idempotencyKey,
      backendType(this._batchModel, values.backend)
    );
  }

  protected submitBlocked(): boolean {
    return planBlocksSubmit(this._catalogBody.plan) !== null;
  }

  private _onPlan(state: PlanState): void {
    const reason = planBlocksSubmit(state);
    this.setSubmitEnabled(reason === null);
    const accept = this.node.querySelector<HTMLButtonElement>(
      '.jp-Dialog-button.jp-mod-accept'
    );
    if (accept) {
      accept.title = reason ?? '';
    }
  }

  private _catalogBody: CatalogBody;
  private _source: ICatalogJobSource;
  private _batchModel: IBatchModel;
}

export namespace CatalogDialog {
  export interface IOptions extends CatalogBody.IOptions {
    idempotencyKey?: string;
  }
}
