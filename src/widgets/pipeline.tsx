/**
 * The "Run pipeline in batch" dialog: the pipeline (a file or a standard
 * one of the site), the butler repository and collections, the data query,
 * labels and config overrides, resources, and a plan panel showing the
 * quantum graph the proxy built — quanta per task label, the output run and
 * the estimate against the quota. The graph shown is the one that runs.
 */
import * as React from 'react';

import {
  buildPipelineSpec,
  IPipelineJobSource,
  IPipelineValues,
  pipelineOutputLine,
  pipelinePlanLine,
  pipelinePlanRequest
} from '../pipeline';
import { pipelinePlanKey } from '../services/pipelinePlanner';
import { isDaskBackend } from '../spec';
import {
  Batch,
  IBatchModel,
  IPipelinePlanner,
  PipelinePlanState
} from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import {
  BackendAccountFields,
  backendType,
  ResourceFields,
  useDefaultBackendAndAccount
} from './dialog/fields';
import {
  IJobFormProps,
  JobDialog,
  JobDialogBody,
  useFormValues
} from './dialog/jobDialog';
import { useSignalValue } from './useSignal';

/**
 * Why Submit is disabled for these values and this plan; null when it may be
 * pressed. Only a current plan that fits may be submitted: the graph it built
 * is the one that runs.
 */
export function pipelinePlanBlocksSubmit(
  state: PipelinePlanState,
  currentKey: string | null,
  trans: TranslationBundle = loadTrans()
): string | null {
  switch (state.status) {
    case 'ok':
      if (state.key !== currentKey) {
        return trans.__(
          'The fields changed since the graph was built: press "Build graph" again.'
        );
      }
      return state.plan.quota.fits
        ? null
        : trans.__('Submit is disabled: %1', state.plan.quota.message);
    case 'loading':
      return trans.__('Building the quantum graph…');
    case 'error':
      return trans.__(
        'Submit is disabled until the graph can be built: fix the fields above.'
      );
    case 'incomplete':
      return state.message;
  }
}

/** The plan panel: the graph's quanta per label, the output run and the quota, or the proxy's sentence. */
export function PipelinePlanPanel(props: {
  state: PipelinePlanState;
  currentKey: string | null;
  onBuild: () => void;
  trans?: TranslationBundle;
}): JSX.Element {
  const { state, currentKey, onBuild } = props;
  const trans = props.trans ?? loadTrans();
  const button = (
    <button
      className="jp-mod-styled jp-Batch-BuildGraph"
      type="button"
      disabled={state.status === 'loading'}
      onClick={onBuild}
    >
      {trans.__('Build graph')}
    </button>
  );
  switch (state.status) {
    case 'loading':
      return (
        <div className="jp-Batch-Plan jp-Batch-Muted" data-status="loading">
          {trans.__('Building the quantum graph…')}
        </div>
      );
    case 'incomplete':
    case 'error':
      return (
        <div className="jp-Batch-Plan -mod-warn" data-status={state.status}>
          <div className="jp-Batch-PlanMessage">{state.message}</div>
          {state.status === 'error' && button}
        </div>
      );
    case 'ok': {
      const { plan } = state;
      const stale = state.key !== currentKey;
      return (
        <div
          className={`jp-Batch-Plan${plan.quota.fits && !stale ? '' : ' -mod-warn'}`}
          data-status={stale ? 'stale' : 'ok'}
          data-fits={String(plan.quota.fits)}
        >
          <div className="jp-Batch-PlanLine">
            {pipelinePlanLine(plan, trans)}
          </div>
          <table className="jp-Batch-PipelineLabels">
            <thead>
              <tr>
                <th>{trans.__('Task label')}</th>
                <th>{trans.__('Quanta')}</th>
              </tr>
            </thead>
            <tbody>
              {plan.plan.labels.map(l => (
                <tr key={l.label} data-label={l.label}>
                  <td title={l.taskClass}>{l.label}</td>
                  <td className="-mod-number">{l.quanta}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="jp-Batch-PlanOutput">
            {pipelineOutputLine(plan, trans)}
          </div>
          <div className="jp-Batch-PlanQuota">{plan.quota.message}</div>
          {stale && (
            <div className="jp-Batch-PlanStale">
              {trans.__('The fields changed since this graph was built.')}{' '}
              {button}
            </div>
          )}
        </div>
      );
    }
  }
}

export interface IPipelineFormProps extends IJobFormProps<IPipelineValues> {
  model: IBatchModel;
  source: IPipelineJobSource;
  preferredBackend: string;
  planner: IPipelinePlanner;
  /** The site's standard pipelines. */
  standard: ReadonlyArray<Batch.IStandardPipeline>;
  /** Build the graph of these values now. */
  onBuild: (values: IPipelineValues) => void;
  trans: TranslationBundle;
}

function TextField(props: {
  name: keyof IPipelineValues;
  label: string;
  value: string;
  placeholder?: string;
  update: (value: string) => void;
}): JSX.Element {
  return (
    <label className="jp-Batch-Field">
      <span>{props.label}</span>
      <input
        className="jp-mod-styled"
        name={props.name}
        type="text"
        placeholder={props.placeholder}
        value={props.value}
        onChange={e => props.update(e.target.value)}
      />
    </label>
  );
}

function AreaField(props: {
  name: keyof IPipelineValues;
  label: string;
  value: string;
  placeholder: string;
  update: (value: string) => void;
}): JSX.Element {
  return (
    <label className="jp-Batch-Field">
      <span>{props.label}</span>
      <textarea
        className="jp-mod-styled"
        name={props.name}
        rows={2}
        placeholder={props.placeholder}
        value={props.value}
        onChange={e => props.update(e.target.value)}
      />
    </label>
  );
}

/** How the chosen backend runs a pipeline, in one sentence. */
function engineHint(
  type: Batch.BackendType | undefined,
  trans: TranslationBundle
): string {
  switch (type) {
    case 'htcondor':
      return trans.__(
        'Runs through BPS on the HTCondor pool: one pool job per quantum, charged to the account, then a final job that puts the outputs in the butler.'
      );
    case 'dask-gateway':
      return trans.__(
        'Dask Gateway does not run pipelines: choose this server or an HTCondor pool.'
      );
    default:
      return trans.__(
        'Runs with pipetask on this server, one quantum after another.'
      );
  }
}

export function PipelineForm(props: IPipelineFormProps): JSX.Element {
  const { model, error, busy, trans, standard } = props;
  const [values, update] = useFormValues<IPipelineValues>(props);
  useDefaultBackendAndAccount(model, values, props.preferredBackend, update);
  const state = useSignalValue(
    props.planner.changed,
    () => props.planner.state
  );
  const type = backendType(model, values.backend);
  const { request } = pipelinePlanRequest(values, type, trans);
  const currentKey = request ? pipelinePlanKey(request) : null;
  const chooseStandard = (name: string) => {
    const chosen = standard.find(p => p.name === name);
    const patch: Partial<IPipelineValues> = { standard: name };
    if (chosen?.inputCollections?.length) {
      patch.inputCollections = chosen.inputCollections.join(', ');
    }
    if (chosen?.dataQuery) {
      patch.dataQuery = chosen.dataQuery;
    }
    update(patch);
  };
  const chosen = standard.find(p => p.name === values.standard);
  const user = model.quota?.user ?? 'you';

  return (
    <div className="jp-Batch-SubmitDialog jp-Batch-PipelineDialog">
      <TextField
        name="name"
        label={trans.__('Name')}
        value={values.name}
        update={name => update({ name })}
      />
      <label className="jp-Batch-Field">
        <span>{trans.__('Pipeline')}</span>
        <select
          className="jp-mod-styled"
          name="standard"
          value={values.standard}
          onChange={e => chooseStandard(e.target.value)}
        >
          <option value="">{trans.__('A pipeline file')}</option>
          {standard.map(p => (
            <option key={p.name} value={p.name}>
              {trans.__('Standard: %1', p.name)}
            </option>
          ))}
        </select>
      </label>
      {!values.standard && (
        <TextField
          name="pipelineFile"
          label={trans.__('Pipeline file')}
          placeholder={trans.__(
            'a pipeline YAML in your Jupyter folder, e.g. pipelines/add.yaml'
          )}
          value={values.pipelineFile}
          update={pipelineFile => update({ pipelineFile })}
        />
      )}
      {chosen?.description && (
        <div className="jp-Batch-Hint">{chosen.description}</div>
      )}
      <TextField
        name="butlerRepo"
        label={trans.__('Butler repository')}
        placeholder={trans.__('a butler repo folder, e.g. butler-repo')}
        value={values.butlerRepo}
        update={butlerRepo => update({ butlerRepo })}
      />
      <TextField
        name="inputCollections"
        label={trans.__('Input collections')}
        placeholder={trans.__('comma-separated, e.g. demo/raw')}
        value={values.inputCollections}
        update={inputCollections => update({ inputCollections })}
      />
      <TextField
        name="outputCollection"
        label={trans.__('Output collection')}
        placeholder={trans.__(
          'default: u/%1/%2',
          user,
          values.name.trim() || 'pipeline'
        )}
        value={values.outputCollection}
        update={outputCollection => update({ outputCollection })}
      />
      <TextField
        name="dataQuery"
        label={trans.__('Data query')}
        placeholder={trans.__(
          "all data; or e.g. instrument='DEMO' AND detector IN (0, 1)"
        )}
        value={values.dataQuery}
        update={dataQuery => update({ dataQuery })}
      />
      <TextField
        name="labels"
        label={trans.__('Task labels or subsets')}
        placeholder={trans.__('all; or e.g. addA, addB')}
        value={values.labels}
        update={labels => update({ labels })}
      />
      <AreaField
        name="overrides"
        label={trans.__('Config overrides')}
        placeholder={trans.__(
          'one a line: label:field=value, e.g. addA:addend=100'
        )}
        value={values.overrides}
        update={overrides => update({ overrides })}
      />
      <AreaField
        name="configFiles"
        label={trans.__('Config override files')}
        placeholder={trans.__(
          'one a line: label:path, e.g. addA:configs/addA.py'
        )}
        value={values.configFiles}
        update={configFiles => update({ configFiles })}
      />
      <ResourceFields
        initial={props.initial}
        update={update}
        dask={isDaskBackend(type)}
        trans={trans}
      />
      <BackendAccountFields
        model={model}
        values={values}
        update={update}
        trans={trans}
      />
      <div className="jp-Batch-Hint jp-Batch-PipelineEngine">
        {engineHint(type, trans)}
      </div>
      <PipelinePlanPanel
        state={state}
        currentKey={currentKey}
        onBuild={() => props.onBuild(values)}
        trans={trans}
      />
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
 * "Run pipeline in batch": the graph is built when the dialog opens and when
 * "Build graph" is pressed; Submit sends that plan's id, so the graph that
 * was estimated is the one that runs.
 */
export class PipelineDialog extends JobDialog<IPipelineValues> {
  constructor(options: PipelineDialog.IOptions) {
    const { model, source, preferredBackend } = options;
    const trans = options.trans ?? loadTrans();
    const planner = model.createPipelinePlanner();
    const standard = options.standard ?? [];
    let latest = options.initial;
    // The body reports changes from the first render on, before `this` exists.
    const self: { dialog?: PipelineDialog } = {};
    const build = (values: IPipelineValues) => {
      const { request, errors } = pipelinePlanRequest(
        values,
        backendType(model, values.backend),
        trans
      );
      planner.plan(request ?? null, errors);
    };
    super({
      title: options.title ?? trans.__('Run pipeline in batch'),
      body: new JobDialogBody<IPipelineValues>({
        model,
        initial: options.initial,
        renderForm: props => (
          <PipelineForm
            {...props}
            model={model}
            source={source}
            preferredBackend={preferredBackend}
            planner={planner}
            standard={standard}
            onBuild={build}
            trans={trans}
          />
        ),
        onChange: values => {
          latest = values;
          self.dialog?._onChange(values);
        }
      }),
      model,
      idempotencyKey: options.idempotencyKey,
      trans
    });
    self.dialog = this;
    this._planner = planner;
    this._trans = trans;
    this._source = source;
    this._batchModel = model;
    this._values = () => latest;
    planner.changed.connect(() => this._onChange(latest), this);
    build(options.initial);
  }

  dispose(): void {
    this._planner.dispose();
    super.dispose();
  }

  protected buildSpec(
    values: IPipelineValues,
    idempotencyKey: string
  ): Batch.IJobSpec {
    const state = this._planner.state;
    return buildPipelineSpec(
      this._source,
      values,
      idempotencyKey,
      state.status === 'ok' ? state.plan.planId : null,
      backendType(this._batchModel, values.backend),
      this._trans
    );
  }

  protected submitBlocked(): boolean {
    return this._blockedBy(this._values()) !== null;
  }

  private _blockedBy(values: IPipelineValues): string | null {
    const { request } = pipelinePlanRequest(
      values,
      backendType(this._batchModel, values.backend),
      this._trans
    );
    return pipelinePlanBlocksSubmit(
      this._planner.state,
      request ? pipelinePlanKey(request) : null,
      this._trans
    );
  }

  private _onChange(values: IPipelineValues): void {
    const reason = this._blockedBy(values);
    this.setSubmitEnabled(reason === null, reason ?? '');
  }

  private _planner: IPipelinePlanner;
  private _trans: TranslationBundle;
  private _source: IPipelineJobSource;
  private _batchModel: IBatchModel;
  private _values: () => IPipelineValues;
}

export namespace PipelineDialog {
  export interface IOptions {
    model: IBatchModel;
    source: IPipelineJobSource;
    initial: IPipelineValues;
    preferredBackend: string;
    /** The site's standard pipelines, offered besides the file. */
    standard?: ReadonlyArray<Batch.IStandardPipeline>;
    idempotencyKey?: string;
    /** Default: "Run pipeline in batch". */
    title?: string;
    /** The extension's strings; default: as written. */
    trans?: TranslationBundle;
  }
}
