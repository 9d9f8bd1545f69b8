/**
 * The "Batch jobs" panel in the main area: every job of the user in a table
 * that sorts by a column, filters by state, kind, backend and account,
 * searches names, ids and notebook paths, and unfolds a sweep's items under
 * their run. It renders the model's jobs as the event stream changes them
 * (it fetches nothing) and puts only the rows in view in the DOM.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { Poll } from '@lumino/polling';
import * as React from 'react';

import { formatCoreHours } from '../catalog';
import {
  ColumnId,
  COLUMNS,
  DEFAULT_SORT,
  FILTER_FIELDS,
  FilterField,
  filterJobs,
  filterOptions,
  IFilters,
  ISort,
  jobCost,
  NO_FILTERS,
  progressFraction,
  sortJobs,
  TableRow,
  tableRows,
  toggleSort
} from '../jobTable';
import { Batch, IBatchModel } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import { elapsed, stateLabel, sweepItemState } from './format';
import { StateBadge } from './jobs';
import { VirtualRows } from './virtualRows';

/** Every row's height in pixels (the windowing counts on it; see the CSS). */
export const ROW_HEIGHT = 28;

export class JobsPanel extends ReactWidget {
  constructor(options: JobsPanel.IOptions) {
    super();
    this._model = options.model;
    this._onOpenJob = options.onOpenJob;
    this._trans = options.trans ?? loadTrans();
    this.addClass('jp-Batch-JobsPanel');
    this._model.jobsChanged.connect(this._onChange, this);
    this._model.connectionChanged.connect(this._onChange, this);
    // Elapsed times tick once a second while something runs and the panel
    // is shown; the jobs themselves come from the model's event stream.
    this._ticker = new Poll({
      name: 'user-batch:jobs-panel-clock',
      factory: async () => this.update(),
      frequency: { interval: 1000, backoff: false },
      standby: () =>
        !this.isVisible ||
        this._model.jobs.every(job => Batch.isFinal(job.state)) ||
        'when-hidden'
    });
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._ticker.dispose();
    this._model.jobsChanged.disconnect(this._onChange, this);
    this._model.connectionChanged.disconnect(this._onChange, this);
    super.dispose();
  }

  protected render(): JSX.Element {
    return (
      <JobsTable
        jobs={this._model.jobs}
        now={Date.now()}
        loading={
          this._model.connection === 'connecting' &&
          this._model.jobs.length === 0
        }
        onOpenJob={this._onOpenJob}
        trans={this._trans}
      />
    );
  }

  private _onChange(): void {
    this.update();
  }

  private _model: IBatchModel;
  private _onOpenJob: (jobId: string, item?: number) => void;
  private _ticker: Poll;
  private _trans: TranslationBundle;
}

export namespace JobsPanel {
  export interface IOptions {
    model: IBatchModel;
    /** Open a job's details tab (a sweep item's log, when given). */
    onOpenJob: (jobId: string, item?: number) => void;
    trans?: TranslationBundle;
  }
}

/** The table with its filters, for a list of jobs; state is its own. */
export function JobsTable(props: {
  jobs: ReadonlyArray<Batch.IJob>;
  now: number;
  loading?: boolean;
  onOpenJob: (jobId: string, item?: number) => void;
  trans?: TranslationBundle;
}): JSX.Element {
  const { jobs, now, onOpenJob } = props;
  const trans = props.trans ?? loadTrans();
  const [sort, setSort] = React.useState<ISort>(DEFAULT_SORT);
  const [filters, setFilters] = React.useState<IFilters>(NO_FILTERS);
  const [expanded, setExpanded] = React.useState<ReadonlySet<string>>(
    () => new Set()
  );
  // Sorted when the jobs, the filters or the order change, not at every
  // tick of the clock: a running job's elapsed time moves, its row stays.
  const sortNow = React.useMemo(() => Date.now(), [jobs, sort]);
  const shownJobs = React.useMemo(
    () => sortJobs(filterJobs(jobs, filters), sort, sortNow),
    [jobs, filters, sort, sortNow]
  );
  const rows = React.useMemo(
    () => tableRows(shownJobs, expanded),
    [shownJobs, expanded]
  );
  const options = React.useMemo(() => filterOptions(jobs), [jobs]);
  const toggle = (jobId: string) =>
    setExpanded(previous => {
      const next = new Set(previous);
      if (!next.delete(jobId)) {
        next.add(jobId);
      }
      return next;
    });
  const labels = columnLabels(trans);
  const header = (
    <div className="jp-Batch-TableHeader jp-Batch-TableGrid" role="row">
      {COLUMNS.map(column => (
        <div
          key={column}
          role="columnheader"
          className="jp-Batch-TableHeading"
          data-column={column}
          aria-sort={
            sort.column === column
              ? sort.direction === 'asc'
                ? 'ascending'
                : 'descending'
              : 'none'
          }
        >
          <button
            className="jp-Batch-SortButton"
            title={trans.__('Sort by %1', labels[column])}
            onClick={() => setSort(toggleSort(sort, column))}
          >
            {labels[column]}
            {sort.column === column && (
              <span className="jp-Batch-SortMark">
                {sort.direction === 'asc' ? ' ▲' : ' ▼'}
              </span>
            )}
          </button>
        </div>
      ))}
    </div>
  );
  return (
    <div className="jp-Batch-JobsTable">
      <div className="jp-Batch-TableToolbar">
        <input
          className="jp-mod-styled jp-Batch-TableSearch"
          type="search"
          name="search"
          placeholder={trans.__('Search name, id or notebook')}
          aria-label={trans.__('Search name, id or notebook')}
          value={filters.search}
          onChange={event =>
            setFilters({ ...filters, search: event.currentTarget.value })
          }
        />
        {FILTER_FIELDS.map(field => (
          <label key={field} className="jp-Batch-TableFilter">
            {filterLabel(field, trans)}{' '}
            <select
              className="jp-mod-styled"
              name={field}
              value={filters[field]}
              onChange={event =>
                setFilters({ ...filters, [field]: event.currentTarget.value })
              }
            >
              <option value="">{trans.__('All')}</option>
              {options[field].map(value => (
                <option key={value} value={value}>
                  {field === 'state'
                    ? stateLabel(value as Batch.JobState, trans)
                    : value}
                </option>
              ))}
            </select>
          </label>
        ))}
        <span className="jp-Batch-TableCount">
          {shownJobs.length === jobs.length
            ? trans._n('%1 job', '%1 jobs', jobs.length)
            : trans._n(
                '%2 of %1 job',
                '%2 of %1 jobs',
                jobs.length,
                shownJobs.length
              )}
        </span>
      </div>
      <VirtualRows
        className="jp-Batch-TableViewport"
        rows={rows}
        rowHeight={ROW_HEIGHT}
        header={header}
        empty={
          <div className="jp-Batch-Empty">
            {props.loading
              ? trans.__('Loading…')
              : jobs.length === 0
                ? trans.__(
                    'No batch jobs yet. Use “Run in batch” in a notebook’s toolbar or cell menu.'
                  )
                : trans.__('No job matches the filters.')}
          </div>
        }
        renderRow={row =>
          row.type === 'job' ? (
            <JobRow
              key={row.job.id}
              row={row}
              now={now}
              onOpen={() => onOpenJob(row.job.id)}
              onToggle={() => toggle(row.job.id)}
              trans={trans}
            />
          ) : (
            <ItemRow
              key={`${row.job.id}/${row.item}`}
              row={row}
              onOpen={() => onOpenJob(row.job.id, row.item)}
              trans={trans}
            />
          )
        }
      />
    </div>
  );
}

function JobRow(props: {
  row: Extract<TableRow, { type: 'job' }>;
  now: number;
  onOpen: () => void;
  onToggle: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { row, now, onOpen, onToggle, trans } = props;
  const job = row.job;
  const fraction = progressFraction(job);
  return (
    <div
      className="jp-Batch-TableRow jp-Batch-TableGrid"
      role="row"
      tabIndex={0}
      data-job-id={job.id}
      data-state={job.state}
      title={job.stateReason ?? job.id}
      onClick={onOpen}
      onKeyDown={event => {
        if (event.key === 'Enter') {
          onOpen();
        }
      }}
    >
      <div role="gridcell" className="jp-Batch-Cell" data-column="name">
        {row.items > 0 ? (
          <button
            className="jp-Batch-SweepToggle"
            aria-expanded={row.expanded}
            title={
              row.expanded
                ? trans.__('Hide the %1 items', row.items)
                : trans.__('Show the %1 items', row.items)
            }
            onClick={event => {
              event.stopPropagation();
              onToggle();
            }}
          >
            {row.expanded ? '▾' : '▸'}
          </button>
        ) : (
          <span className="jp-Batch-SweepToggleSpace" />
        )}
        <span className="jp-Batch-CellText">{job.name}</span>
      </div>
      <div role="gridcell" className="jp-Batch-Cell" data-column="kind">
        {job.kind}
      </div>
      <div role="gridcell" className="jp-Batch-Cell" data-column="state">
        <StateBadge state={job.state} trans={trans} />
      </div>
      <div role="gridcell" className="jp-Batch-Cell" data-column="backend">
        {job.backend}
      </div>
      <div role="gridcell" className="jp-Batch-Cell" data-column="account">
        {job.account}
      </div>
      <div
        role="gridcell"
        className="jp-Batch-Cell"
        data-column="submitted"
        title={job.createdAt}
      >
        {formatSubmitted(job.createdAt)}
      </div>
      <div role="gridcell" className="jp-Batch-Cell" data-column="elapsed">
        {elapsed(job, now, trans)}
      </div>
      <div
        role="gridcell"
        className="jp-Batch-Cell"
        data-column="cost"
        title={
          job.cost.usedCoreHours === null
            ? trans.__('core-hours reserved')
            : trans.__('core-hours used')
        }
      >
        {job.cost.usedCoreHours === null
          ? trans.__('%1 reserved', formatCoreHours(jobCost(job)))
          : formatCoreHours(jobCost(job))}
      </div>
      <div role="gridcell" className="jp-Batch-Cell" data-column="progress">
        {fraction !== null && job.progress && (
          <>
            <span className="jp-Batch-ProgressBar">
              <span
                className="jp-Batch-ProgressBarDone"
                style={{ width: `${Math.round(fraction * 100)}%` }}
              />
            </span>
            <span className="jp-Batch-ProgressText">
              {job.progress.failed
                ? trans.__(
                    '%1/%2, %3 failed',
                    job.progress.done,
                    job.progress.total,
                    job.progress.failed
                  )
                : trans.__('%1/%2', job.progress.done, job.progress.total)}
            </span>
          </>
        )}
      </div>
    </div>
  );
}

function ItemRow(props: {
  row: Extract<TableRow, { type: 'item' }>;
  onOpen: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { row, onOpen, trans } = props;
  return (
    <div
      className="jp-Batch-TableRow jp-Batch-TableItemRow jp-Batch-TableGrid"
      role="row"
      tabIndex={0}
      data-job-id={row.job.id}
      data-item={row.item}
      data-item-state={row.state}
      title={trans.__('Open the log of item %1', row.item)}
      onClick={onOpen}
      onKeyDown={event => {
        if (event.key === 'Enter') {
          onOpen();
        }
      }}
    >
      <div role="gridcell" className="jp-Batch-Cell" data-column="name">
        <span className="jp-Batch-SweepToggleSpace" />
        <span className="jp-Batch-CellText">
          {trans.__('item %1', row.item)}
        </span>
      </div>
      <div role="gridcell" className="jp-Batch-Cell" data-column="kind" />
      <div role="gridcell" className="jp-Batch-Cell" data-column="state">
        <span className="jp-Batch-SweepItemState" data-state={row.state}>
          {sweepItemState(row.state, trans)}
        </span>
      </div>
    </div>
  );
}

/** A submission time as `YYYY-MM-DD HH:MM` in the reader's time zone. */
export function formatSubmitted(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}`
  );
}

function columnLabels(trans: TranslationBundle): Record<ColumnId, string> {
  return {
    name: trans.__('Name'),
    kind: trans.__('Kind'),
    state: trans.__('State'),
    backend: trans.__('Backend'),
    account: trans.__('Account'),
    submitted: trans.__('Submitted'),
    elapsed: trans.__('Elapsed'),
    cost: trans.__('Core-hours'),
    progress: trans.__('Progress')
  };
}

function filterLabel(field: FilterField, trans: TranslationBundle): string {
  switch (field) {
    case 'state':
      return trans.__('State');
    case 'kind':
      return trans.__('Kind');
    case 'backend':
      return trans.__('Backend');
    case 'account':
      return trans.__('Account');
  }
}
