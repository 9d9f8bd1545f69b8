/**
 * The parts of the job details only a pipeline run has: quanta per task
 * label (succeeded, failed, blocked, of total), each failed quantum's data ID
 * and exception with the end of its log, and once it ended the datasets it
 * wrote into its output run.
 */
import * as React from 'react';

import { Batch, IPipelineRun } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import { useSignalValue } from './useSignal';

/** A data ID as the butler writes it: "instrument: DEMO, detector: 1". */
export function formatDataId(
  dataId: Readonly<Record<string, string | number>>
): string {
  return Object.entries(dataId)
    .map(([key, value]) => `${key}: ${value}`)
    .join(', ');
}

export function PipelineLabels(props: {
  status: Batch.IPipelineStatus;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { status, trans } = props;
  const rows =
    status.progress?.labels ??
    status.plan?.labels.map(l => ({
      label: l.label,
      quanta: l.quanta,
      succeeded: 0,
      failed: 0,
      blocked: 0
    })) ??
    [];
  if (!rows.length) {
    return null;
  }
  return (
    <table className="jp-Batch-PipelineProgress">
      <thead>
        <tr>
          <th>{trans.__('Task label')}</th>
          <th>{trans.__('Done')}</th>
          <th>{trans.__('Failed')}</th>
          <th>{trans.__('Blocked')}</th>
          <th>{trans.__('Total')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(row => (
          <tr key={row.label} data-label={row.label}>
            <td>{row.label}</td>
            <td className="-mod-number" data-count="succeeded">
              {row.succeeded}
            </td>
            <td
              className={`-mod-number${row.failed ? ' -mod-error' : ''}`}
              data-count="failed"
            >
              {row.failed}
            </td>
            <td
              className={`-mod-number${row.blocked ? ' -mod-warn' : ''}`}
              data-count="blocked"
            >
              {row.blocked}
            </td>
            <td className="-mod-number" data-count="quanta">
              {row.quanta}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function FailedQuanta(props: {
  failures: ReadonlyArray<Batch.IFailedQuantum>;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { failures, trans } = props;
  if (!failures.length) {
    return null;
  }
  return (
    <div className="jp-Batch-FailedQuanta">
      <div className="jp-Batch-SectionTitle">{trans.__('Failed quanta')}</div>
      {failures.map((f, index) => (
        <details
          key={index}
          className="jp-Batch-Error jp-Batch-FailedQuantum"
          data-label={f.label}
          data-data-id={formatDataId(f.dataId)}
        >
          <summary className="jp-Batch-ErrorTitle">
            {f.label} ({formatDataId(f.dataId)}): <strong>{f.exception}</strong>
            {f.message ? `: ${f.message}` : ''}
          </summary>
          {f.log && <pre className="jp-Batch-Traceback">{f.log}</pre>}
        </details>
      ))}
    </div>
  );
}

/** The output run's datasets per dataset type. */
export function PipelineOutputs(props: {
  status: Batch.IPipelineStatus;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { status, trans } = props;
  if (!status.outputs) {
    return null;
  }
  const run = status.plan?.outputRun;
  return (
    <div className="jp-Batch-PipelineOutputs">
      <div className="jp-Batch-SectionTitle">{trans.__('Output datasets')}</div>
      {run && (
        <div className="jp-Batch-Muted">
          {trans.__(
            'In run %1 of collection %2',
            run,
            status.plan?.outputCollection ?? ''
          )}
        </div>
      )}
      {status.outputs.length === 0 ? (
        <div className="jp-Batch-Muted">
          {trans.__('The run wrote no datasets.')}
        </div>
      ) : (
        <ul className="jp-Batch-DatasetCounts">
          {status.outputs.map(o => (
            <li key={o.datasetType} data-dataset-type={o.datasetType}>
              {trans._n(
                '%2: %1 dataset',
                '%2: %1 datasets',
                o.count,
                o.datasetType
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A pipeline run's labels, failed quanta and outputs, as the model's follower last read them. */
export function PipelineRun(props: {
  job: Batch.IJob;
  run: IPipelineRun;
  trans?: TranslationBundle;
}): JSX.Element {
  const { job, run } = props;
  const trans = props.trans ?? loadTrans();
  const state = useSignalValue(run.changed, () => run.state);
  const mine = state?.jobId === job.id ? state : null;
  const status = mine?.status ?? null;
  return (
    <div className="jp-Batch-PipelineRun">
      {status === null ? (
        <div className="jp-Batch-Muted">
          {mine?.error
            ? trans.__("The run's progress cannot be read: %1", mine.error)
            : trans.__('Loading…')}
        </div>
      ) : (
        <>
          <PipelineLabels status={status} trans={trans} />
          <FailedQuanta
            failures={status.progress?.failures ?? []}
            trans={trans}
          />
          <PipelineOutputs status={status} trans={trans} />
        </>
      )}
    </div>
  );
}
