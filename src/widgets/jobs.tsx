/**
 * Presentational components of the Batch sidebar: they render props and
 * report clicks, nothing else.
 */
import { launchIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  Batch,
  ConnectionStatus,
  IBatchSystemLog,
  ICatalogRun,
  IPipelineRun,
  IJobDetails,
  ILogTail
} from '../tokens';
import { formatCoreHours } from '../catalog';
import { hasCatalogRun, unhandledKind } from '../kinds';
import { loadTrans, TranslationBundle } from '../translation';
import { BatchSystemLog } from './batchSystemLog';
import { CatalogRun } from './catalogRun';
import { PipelineRun } from './pipelineRun';
import {
  elapsed,
  formatBytes,
  stateLabel,
  summarizeProvenance
} from './format';
import { SweepItems } from './sweepItems';

export { QuotaGauges } from './quotaGauges';
export { MAX_ITEM_SQUARES, SweepItems } from './sweepItems';

export function StateBadge(props: {
  state: Batch.JobState;
  trans?: TranslationBundle;
}): JSX.Element {
  return (
    <span className="jp-Batch-JobState" data-state={props.state}>
      {stateLabel(props.state, props.trans)}
    </span>
  );
}

export function JobList(props: {
  jobs: ReadonlyArray<Batch.IJob>;
  selectedId: string | null;
  now: number;
  onSelect: (id: string) => void;
  trans?: TranslationBundle;
}): JSX.Element {
  const { jobs, selectedId, now, onSelect } = props;
  const trans = props.trans ?? loadTrans();
  if (jobs.length === 0) {
    return (
      <div className="jp-Batch-Empty">
        {trans.__(
          'No batch jobs yet. Use “Run in batch” in a notebook’s toolbar or cell menu.'
        )}
      </div>
    );
  }
  return (
    <ul className="jp-Batch-JobList">
      {jobs.map(job => (
        <li
          key={job.id}
          className={`jp-Batch-JobItem${job.id === selectedId ? ' jp-mod-selected' : ''}`}
          data-job-id={job.id}
          data-state={job.state}
          title={job.stateReason ?? job.name}
          onClick={() => onSelect(job.id)}
          onKeyDown={event => {
            if (event.key === 'Enter' || event.key === ' ') {
              onSelect(job.id);
            }
          }}
          tabIndex={0}
          role="button"
        >
          <span className="jp-Batch-JobName">{job.name}</span>
          <StateBadge state={job.state} trans={trans} />
          {job.progress && job.progress.total > 0 && (
            <span className="jp-Batch-JobProgress">
              {job.progress.done}/{job.progress.total}
            </span>
          )}
          <span className="jp-Batch-JobElapsed">
            {elapsed(job, now, trans)}
          </span>
        </li>
      ))}
    </ul>
  );
}

/**
 * The log tail; keeps to the bottom while the reader is at the bottom.
 */
export function LogView(props: {
  log: ILogTail | null;
  trans?: TranslationBundle;
}): JSX.Element {
  const trans = props.trans ?? loadTrans();
  const ref = React.useRef<HTMLPreElement>(null);
  const atBottom = React.useRef(true);
  const text = props.log?.text ?? '';
  React.useLayoutEffect(() => {
    const node = ref.current;
    if (node && atBottom.current) {
      node.scrollTop = node.scrollHeight;
    }
  }, [text]);
  return (
    <pre
      ref={ref}
      className="jp-Batch-Log"
      onScroll={() => {
        const node = ref.current;
        if (node) {
          atBottom.current =
            node.scrollHeight - node.scrollTop - node.clientHeight < 16;
        }
      }}
    >
      {props.log === null
        ? trans.__('Reading the log…')
        : text || trans.__('(no output yet)')}
    </pre>
  );
}

export function JobDetails(props: {
  job: Batch.IJob;
  log: ILogTail | null;
  details: IJobDetails | null;
  now: number;
  provenanceUrl: string;
  /** A cancel was sent and the backend has not confirmed yet. */
  cancelling?: boolean;
  onCancel: (job: Batch.IJob) => void;
  /** Shown for held jobs: let the backend run the job again. */
  onRelease: (job: Batch.IJob) => void;
  /** Shown for ended jobs: submit the job again from its record. */
  onRerun?: (job: Batch.IJob) => void;
  /** Shown for ended jobs: the submit dialog, filled in from the job's record. */
  onEditRerun?: (job: Batch.IJob) => void;
  /** Shown for ended jobs: ask, then delete the job and its files. */
  onDelete?: (job: Batch.IJob) => void;
  onOpenPath: (path: string) => void;
  onClose: () => void;
  /** The sweep item whose log is shown; defaults to the log's own. */
  selectedItem?: number | null;
  /** Follow a sweep item's log; without it the items are not clickable. */
  onSelectItem?: (item: number) => void;
  /** A catalog run's partitions and preview; without it they are not shown. */
  catalogRun?: ICatalogRun;
  /** A pipeline run's progress per task label, failed quanta and outputs. */
  pipelineRun?: IPipelineRun;
  /** The batch system's own log of jobs on backends that keep one (HTCondor). */
  batchSystemLog?: { log: IBatchSystemLog; title: string };
  /** Shown instead of the narrow log view (the details tab's wide one). */
  logView?: JSX.Element;
  /** Open the job in a main-area tab; without it there is no button. */
  onOpenTab?: (job: Batch.IJob) => void;
  trans?: TranslationBundle;
}): JSX.Element {
  const { job, log, details, now, provenanceUrl, onCancel, onOpenPath } = props;
  const trans = props.trans ?? loadTrans();
  const final = Batch.isFinal(job.state);
  const outputs = orderedOutputs(job, details);
  const items = job.progress?.items;
  const selectedItem = props.selectedItem ?? log?.item ?? null;
  const onSelectItem = props.onSelectItem ?? (() => undefined);
  return (
    <div className="jp-Batch-JobDetails" data-job-id={job.id}>
      <div className="jp-Batch-DetailsHeader">
        <span className="jp-Batch-DetailsTitle">{job.name}</span>
        <StateBadge state={job.state} trans={trans} />
        {props.onOpenTab && (
          <button
            className="jp-Button jp-mod-minimal jp-Batch-OpenTab"
            title={trans.__('Open the job in a tab: a wide log with search')}
            onClick={() => props.onOpenTab?.(job)}
          >
            <launchIcon.react tag="span" />
          </button>
        )}
        <button
          className="jp-Button jp-mod-minimal jp-Batch-CloseDetails"
          title={trans.__('Close the details')}
          onClick={props.onClose}
        >
          ×
        </button>
      </div>
      {job.stateReason && (
        <div className="jp-Batch-StateReason">{job.stateReason}</div>
      )}
      <dl className="jp-Batch-Facts">
        <dt>{trans.__('Elapsed')}</dt>
        <dd>{elapsed(job, now, trans)}</dd>
        {job.progress && (
          <>
            <dt>{progressLabel(job, trans)}</dt>
            <dd className="jp-Batch-Progress">
              {progressLine(job.progress, job.kind, trans)}
            </dd>
          </>
        )}
        <dt>{trans.__('Resources')}</dt>
        <dd>
          {trans.__(
            '%1 CPU, %2 MiB, %3 min',
            job.resources.cpus,
            job.resources.memoryMiB,
            Math.round(job.resources.walltimeSeconds / 60)
          )}
        </dd>
        <dt>{trans.__('Backend')}</dt>
        <dd>{trans.__('%1 (account %2)', job.backend, job.account)}</dd>
        {job.dashboardUrl && (
          <>
            <dt>{trans.__('Dask')}</dt>
            <dd>
              <a
                className="jp-Batch-DashboardLink"
                href={job.dashboardUrl}
                target="_blank"
                rel="noopener noreferrer"
              >
                {trans.__('Dask dashboard')}
              </a>
            </dd>
          </>
        )}
        <dt>{trans.__('Cost')}</dt>
        <dd>
          {job.cost.usedCoreHours !== null
            ? trans.__('%1 core-hours', formatCoreHours(job.cost.usedCoreHours))
            : trans.__(
                '%1 core-hours reserved',
                formatCoreHours(job.cost.reservedCoreHours)
              )}
        </dd>
      </dl>
      {job.state === 'held' && (
        <button
          className="jp-Button jp-mod-styled jp-mod-accept jp-Batch-Release"
          title={trans.__(
            'Ask the backend to run the job again once the cause of the hold is fixed'
          )}
          onClick={() => props.onRelease(job)}
        >
          {trans.__('Release job')}
        </button>
      )}
      {final && props.onRerun && (
        <button
          className="jp-Button jp-mod-styled jp-Batch-Rerun"
          title={
            job.kind === 'pipeline'
              ? trans.__(
                  'Submit this run again as recorded: a new quantum graph into a new output run'
                )
              : trans.__(
                  'Submit this job again as recorded: the same code and settings'
                )
          }
          onClick={() => props.onRerun?.(job)}
        >
          {trans.__('Run again')}
        </button>
      )}
      {final && props.onEditRerun && (
        <button
          className="jp-Button jp-mod-styled jp-Batch-EditRerun"
          title={trans.__(
            "Open the submit dialog filled in from this job's record, to change something and submit it as a new job"
          )}
          onClick={() => props.onEditRerun?.(job)}
        >
          {trans.__('Edit and run')}
        </button>
      )}
      {final && props.onDelete && (
        <button
          className="jp-Button jp-mod-styled jp-mod-warn jp-Batch-Delete"
          title={trans.__(
            'Remove this job, its output folder and its log (asks first)'
          )}
          onClick={() => props.onDelete?.(job)}
        >
          {trans.__('Delete')}
        </button>
      )}
      {!final && (
        <button
          className="jp-Button jp-mod-styled jp-mod-warn jp-Batch-Cancel"
          disabled={props.cancelling}
          onClick={() => onCancel(job)}
        >
          {props.cancelling
            ? trans.__('Cancelling…')
            : job.state === 'held'
              ? trans.__('Remove job')
              : trans.__('Cancel job')}
        </button>
      )}
      {job.error && (
        <div className="jp-Batch-Error">
          <div className="jp-Batch-ErrorTitle">
            <strong>{job.error.ename}</strong>: {job.error.evalue}
          </div>
          {job.error.cellId && (
            <div className="jp-Batch-ErrorCell">
              {trans.__('in cell %1', job.error.cellId)}
            </div>
          )}
          <pre className="jp-Batch-Traceback">{job.error.traceback}</pre>
        </div>
      )}
      {hasCatalogRun(job.kind) && props.catalogRun && (
        <CatalogRun job={job} run={props.catalogRun} trans={trans} />
      )}
      {job.kind === 'pipeline' && props.pipelineRun && (
        <PipelineRun job={job} run={props.pipelineRun} trans={trans} />
      )}
      {items !== undefined && (
        <SweepItems
          items={items}
          selected={selectedItem}
          onSelect={onSelectItem}
          trans={trans}
        />
      )}
      <div className="jp-Batch-SectionTitle jp-Batch-LogTitle">
        {selectedItem !== null
          ? trans.__('Log — item %1', selectedItem)
          : trans.__('Log')}
      </div>
      {props.logView ?? <LogView log={log} trans={trans} />}
      {props.batchSystemLog && (
        <BatchSystemLog
          job={job}
          log={props.batchSystemLog.log}
          title={props.batchSystemLog.title}
          trans={trans}
        />
      )}
      {outputs.length > 0 && (
        <>
          <div className="jp-Batch-SectionTitle">{trans.__('Outputs')}</div>
          <ul className="jp-Batch-Outputs">
            {outputs.map(output => (
              <li key={output.jupyterPath}>
                <a
                  className="jp-Batch-OutputLink"
                  href="#"
                  title={trans.__('Open %1', output.jupyterPath)}
                  onClick={event => {
                    event.preventDefault();
                    onOpenPath(output.jupyterPath);
                  }}
                >
                  {output.path}
                </a>
                {output.size >= 0 && (
                  <span className="jp-Batch-OutputSize">
                    {formatBytes(output.size)}
                  </span>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      {final && (
        <div className="jp-Batch-Provenance">
          <div className="jp-Batch-SectionTitle">{trans.__('Provenance')}</div>
          {details === null ? (
            <div className="jp-Batch-Muted">{trans.__('Loading…')}</div>
          ) : (
            <dl className="jp-Batch-Facts">
              {summarizeProvenance(details.provenance, job, trans).map(
                (row, index) => (
                  <React.Fragment key={index}>
                    <dt>{row.label}</dt>
                    <dd title={row.title}>{row.value}</dd>
                  </React.Fragment>
                )
              )}
            </dl>
          )}
          <a
            className="jp-Batch-ProvenanceDownload"
            href={provenanceUrl}
            download={`${job.id}-provenance.json`}
            target="_blank"
            rel="noopener noreferrer"
          >
            {trans.__('Download JSON')}
          </a>
        </div>
      )}
    </div>
  );
}

function progressLabel(job: Batch.IJob, trans: TranslationBundle): string {
  const sweep = job.progress?.items !== undefined;
  switch (job.kind) {
    case 'catalog':
      return trans.__('Partitions');
    case 'pipeline':
      return trans.__('Quanta');
    case 'cells':
    case 'notebook':
      return sweep ? trans.__('Runs') : trans.__('Cells');
    case 'script':
      // A script runs as a few cells of its executed notebook (argv,
      // parameters, the file): "cells" would puzzle someone who ran a .py file.
      return sweep ? trans.__('Runs') : trans.__('Steps');
    default:
      return unhandledKind(job.kind);
  }
}

/**
 * How far a job is, e.g. "3 of 4 done, 1 failed"; a catalog run counts
 * partitions: "3 of 4 partitions done, 1 failed".
 */
export function progressLine(
  progress: Batch.IProgress,
  kind: Batch.JobKind,
  trans: TranslationBundle = loadTrans()
): string {
  const failed = progress.failed
    ? trans.__(', %1 failed', progress.failed)
    : '';
  return progressCounts(kind, progress, trans) + failed;
}

/** "3 of 4 done", or what a kind's progress counts: "3 of 4 partitions done". */
function progressCounts(
  kind: Batch.JobKind,
  progress: Batch.IProgress,
  trans: TranslationBundle
): string {
  switch (kind) {
    case 'catalog':
      return trans.__(
        '%1 of %2 partitions done',
        progress.done,
        progress.total
      );
    case 'pipeline':
      return trans.__('%1 of %2 quanta done', progress.done, progress.total);
    case 'cells':
    case 'notebook':
    case 'script':
      return trans.__('%1 of %2 done', progress.done, progress.total);
    default:
      return unhandledKind(kind);
  }
}

/**
 * The outputs with the executed notebook first; before the list has loaded,
 * the executed notebook alone (the job names it).
 */
export function orderedOutputs(
  job: Batch.IJob,
  details: IJobDetails | null
): Batch.IOutput[] {
  const listed = details?.jobId === job.id ? details.outputs : null;
  if (!listed) {
    return job.outputNotebook && Batch.isFinal(job.state)
      ? [
          {
            path: job.outputNotebook.split('/').pop() ?? job.outputNotebook,
            jupyterPath: job.outputNotebook,
            size: -1,
            sha256: ''
          }
        ]
      : [];
  }
  const isNotebook = (o: Batch.IOutput) => o.jupyterPath === job.outputNotebook;
  return [...listed.filter(isNotebook), ...listed.filter(o => !isNotebook(o))];
}

export function ConnectionNotice(props: {
  status: ConnectionStatus;
  message: string | null;
  trans?: TranslationBundle;
}): JSX.Element | null {
  const trans = props.trans ?? loadTrans();
  if (props.status !== 'unreachable') {
    return null;
  }
  return (
    <div className="jp-Batch-Connection">
      {trans.__(
        '%1 Retrying…',
        props.message ?? trans.__('The User Batch service is not reachable.')
      )}
    </div>
  );
}
