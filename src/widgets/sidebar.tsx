/**
 * The Batch sidebar: quota gauges, the job list and the open job's details.
 * It renders the model's state and never fetches.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { Poll } from '@lumino/polling';
import * as React from 'react';

import { batchIcon } from '../icons';
import { recentJobs } from '../jobTable';
import { Batch, IBatchModel } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import { ConnectionNotice, JobDetails, JobList, QuotaGauges } from './jobs';
import { PendingNotice } from './pendingNotice';

export class BatchSidebar extends ReactWidget {
  constructor(options: BatchSidebar.IOptions) {
    super();
    this._model = options.model;
    this._onCancel = options.onCancel;
    this._onRelease = options.onRelease;
    this._onRerun = options.onRerun;
    this._onEditRerun = options.onEditRerun;
    this._onDelete = options.onDelete;
    this._onResubmit =
      options.onResubmit ??
      (async key =>
        this._model.selectJob((await this._model.resubmitPending(key)).id));
    this._onOpenPath = options.onOpenPath;
    this._onOpenPanel = options.onOpenPanel;
    this._onOpenTab = options.onOpenTab;
    this._trans = options.trans ?? loadTrans();
    this.id = 'user-batch-sidebar';
    this.addClass('jp-Batch-Sidebar');
    this.title.icon = batchIcon;
    this.title.caption = this._trans.__('Batch jobs');

    const model = this._model;
    model.jobsChanged.connect(this._onChange, this);
    model.quotaChanged.connect(this._onChange, this);
    model.selectionChanged.connect(this._onChange, this);
    model.logChanged.connect(this._onChange, this);
    model.detailsChanged.connect(this._onChange, this);
    model.connectionChanged.connect(this._onChange, this);
    model.pendingSubmissionsChanged.connect(this._onChange, this);
    // Elapsed times tick once a second, only while something runs and the
    // sidebar is shown; nothing is fetched here.
    this._ticker = new Poll({
      name: 'user-batch:sidebar-clock',
      factory: async () => this.update(),
      frequency: { interval: 1000, backoff: false },
      standby: () =>
        !this.isVisible ||
        this._model.jobs.every(job => Batch.isFinal(job.state)) ||
        'when-hidden'
    });
  }

  dispose(): void {
    this._ticker.dispose();
    super.dispose();
  }

  protected render(): JSX.Element {
    const model = this._model;
    const trans = this._trans;
    const now = Date.now();
    const selected =
      model.selectedJobId !== null ? model.getJob(model.selectedJobId) : null;
    // The running jobs and the latest ones; the panel lists them all.
    const shown = recentJobs(model.jobs);
    return (
      <div className="jp-Batch-SidebarContent">
        <div className="jp-Batch-Header">{trans.__('Batch jobs')}</div>
        <ConnectionNotice
          status={model.connection}
          message={model.connectionError?.message ?? null}
          trans={trans}
        />
        <PendingNotice
          pending={model.pendingSubmissions}
          sending={this._resending}
          onResubmit={key => void this._resubmit(key)}
          onDiscard={key => model.discardPending(key)}
          trans={trans}
        />
        <QuotaGauges quota={model.quota} jobs={model.jobs} trans={trans} />
        {this._onOpenPanel && (
          <div className="jp-Batch-PanelLink">
            <button
              className="jp-Button jp-mod-styled jp-Batch-OpenPanel"
              title={trans.__(
                'Every job in a table: sort, filter, search, sweeps by item'
              )}
              onClick={() => this._onOpenPanel?.()}
            >
              {trans._n(
                'All %1 job in the Batch jobs panel',
                'All %1 jobs in the Batch jobs panel',
                model.jobs.length
              )}
            </button>
          </div>
        )}
        <JobList
          jobs={shown}
          selectedId={model.selectedJobId}
          now={now}
          onSelect={id => model.selectJob(id)}
          trans={trans}
        />
        {selected && (
          <JobDetails
            job={selected}
            log={model.logTail?.jobId === selected.id ? model.logTail : null}
            details={
              model.details?.jobId === selected.id ? model.details : null
            }
            now={now}
            provenanceUrl={model.provenanceDownloadUrl(selected.id)}
            cancelling={this._cancelling.has(selected.id)}
            onCancel={job => void this._cancel(job)}
            onRelease={job => void this._onRelease(job)}
            onRerun={
              this._onRerun ? job => void this._onRerun?.(job) : undefined
            }
            onEditRerun={
              this._onEditRerun
                ? job => void this._onEditRerun?.(job)
                : undefined
            }
            onDelete={
              this._onDelete ? job => void this._onDelete?.(job) : undefined
            }
            onOpenPath={path => this._onOpenPath(path)}
            onOpenTab={
              this._onOpenTab ? job => this._onOpenTab?.(job.id) : undefined
            }
            onClose={() => model.selectJob(null)}
            onSelectItem={item => model.selectItem(item)}
            catalogRun={model.catalogRun}
            pipelineRun={model.pipelineRun}
            batchSystemLog={
              model.backends.find(b => b.name === selected.backend)?.type ===
              'htcondor'
                ? {
                    log: model.batchSystemLog,
                    title: trans.__('HTCondor events')
                  }
                : undefined
            }
            trans={trans}
          />
        )}
      </div>
    );
  }

  protected onAfterShow(): void {
    this._model.setDetailsVisible(true);
    this._onChange();
  }

  protected onAfterHide(): void {
    // The open job's logs are not read while nobody can see them.
    this._model.setDetailsVisible(false);
  }

  private _onChange(): void {
    this.update();
  }

  private async _cancel(job: Batch.IJob): Promise<void> {
    this._cancelling.add(job.id);
    this.update();
    try {
      // Stays marked until the job is final: the backend confirms later.
      if (!(await this._onCancel(job))) {
        this._cancelling.delete(job.id);
      }
    } catch {
      this._cancelling.delete(job.id);
    }
    this.update();
  }

  private async _resubmit(key: string): Promise<void> {
    this._resending.add(key);
    this.update();
    try {
      await this._onResubmit(key);
    } finally {
      this._resending.delete(key);
      this.update();
    }
  }

  private _model: IBatchModel;
  private _onResubmit: (key: string) => Promise<void>;
  private _resending = new Set<string>();
  private _onCancel: (job: Batch.IJob) => Promise<boolean>;
  private _onRelease: (job: Batch.IJob) => Promise<void>;
  private _onRerun?: (job: Batch.IJob) => Promise<void>;
  private _onDelete?: (job: Batch.IJob) => Promise<void>;
  private _onEditRerun?: (job: Batch.IJob) => Promise<void>;
  private _cancelling = new Set<string>();
  private _onOpenPath: (path: string) => void;
  private _onOpenPanel?: () => void;
  private _onOpenTab?: (jobId: string) => void;
  private _ticker: Poll;
  private _trans: TranslationBundle;
}

export namespace BatchSidebar {
  export interface IOptions {
    model: IBatchModel;
    /** Ask, then cancel the job; resolves whether a cancel was sent. */
    onCancel: (job: Batch.IJob) => Promise<boolean>;
    /** Release a held job; failures are the caller's to report. */
    onRelease: (job: Batch.IJob) => Promise<void>;
    /** Submit an ended job again from its record. */
    onRerun?: (job: Batch.IJob) => Promise<void>;
    /** Open the submit dialog filled in from an ended job's record. */
    onEditRerun?: (job: Batch.IJob) => Promise<void>;
    /** Ask, then delete an ended job; it leaves the list once deleted. */
    onDelete?: (job: Batch.IJob) => Promise<void>;
    /**
     * Send an unconfirmed submission again (same idempotency key) and show
     * its job; failures are the caller's to report. Default: send and select.
     */
    onResubmit?: (key: string) => Promise<void>;
    /** Open a file relative to the Jupyter root in JupyterLab. */
    onOpenPath: (path: string) => void;
    /** Open the main-area "Batch jobs" panel; without it there is no link. */
    onOpenPanel?: () => void;
    /** Open a job's details in a main-area tab. */
    onOpenTab?: (jobId: string) => void;
    /** The extension's strings; default: as written. */
    trans?: TranslationBundle;
  }
}
