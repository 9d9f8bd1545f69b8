/**
 * One job watched on its own, for a job's details tab: its log tail (read
 * while the job can write to it and the tab is shown), its outputs and
 * provenance once it ended, and a catalog or pipeline run's extras. The
 * sidebar's open job is the model's; each tab has one of these, so several
 * jobs can be open side by side.
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  Batch,
  IBatchSystemLog,
  ICatalogRun,
  IJobDetails,
  IJobWatch,
  ILogTail,
  IPipelineRun
} from '../tokens';
import { TranslationBundle } from '../translation';
import { BatchSystemLogFollower } from './batchSystemLog';
import { CatalogRunFollower } from './catalogRun';
import { LogTailFollower } from './logTail';
import { PipelineRunFollower } from './pipelineRun';

export class JobWatch implements IJobWatch {
  constructor(options: JobWatch.IOptions) {
    this._options = options;
    this.jobId = options.jobId;
    const standby = () => !options.visible() || 'when-hidden';
    this._log = new LogTailFollower({
      getLogs: options.getLogs,
      getJob: options.getJob,
      hasItemLogs: options.hasItemLogs,
      intervalMs: options.logIntervalMs ?? 1000,
      standby,
      trans: options.trans
    });
    this._log.changed.connect(this._emit, this);
    this._catalogRun = new CatalogRunFollower({
      getPartitions: options.getPartitions,
      getPreview: options.getPreview,
      trans: options.trans
    });
    this._pipelineRun = new PipelineRunFollower({
      getStatus: options.getPipelineStatus
    });
    this._batchSystemLog = new BatchSystemLogFollower({
      read: options.getBatchSystemLog,
      standby
    });
    options.jobsChanged.connect(this._onJobs, this);
    this._log.follow(this.jobId, null, null);
    this._onJobs();
  }

  readonly jobId: string;

  get job(): Batch.IJob | undefined {
    return this._options.getJob(this.jobId);
  }
  get log(): ILogTail | null {
    return this._log.tail;
  }
  get item(): number | null {
    return this._item;
  }
  get details(): IJobDetails | null {
    return this._details;
  }
  get catalogRun(): ICatalogRun {
    return this._catalogRun;
  }
  get pipelineRun(): IPipelineRun {
    return this._pipelineRun;
  }
  get batchSystemLog(): IBatchSystemLog {
    return this._batchSystemLog;
  }
  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  selectItem(item: number | null): void {
    const job = this.job;
    if (item === this._item || !job) {
      return;
    }
    if (item !== null && !this._options.hasItemLogs(job)) {
      return; // one log for every item: nothing to switch to
    }
    this._item = item;
    this._log.follow(this.jobId, item, {
      jobId: this.jobId,
      text: '',
      next: 0,
      complete: false,
      item
    });
    this._emit();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._options.jobsChanged.disconnect(this._onJobs, this);
    this._log.dispose();
    this._catalogRun.dispose();
    this._pipelineRun.dispose();
    this._batchSystemLog.dispose();
    Signal.clearData(this);
  }

  private _onJobs(): void {
    const job = this.job ?? null;
    this._catalogRun.follow(job);
    this._pipelineRun.follow(job);
    if (job && Batch.isFinal(job.state) && !this._detailsAsked) {
      this._detailsAsked = true;
      void this._loadDetails();
    }
    this._emit();
  }

  private async _loadDetails(): Promise<void> {
    const details = await this._options.loadDetails(this.jobId);
    if (!this._isDisposed) {
      this._details = details;
      this._emit();
    }
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _options: JobWatch.IOptions;
  private _log: LogTailFollower;
  private _catalogRun: CatalogRunFollower;
  private _pipelineRun: PipelineRunFollower;
  private _batchSystemLog: BatchSystemLogFollower;
  private _item: number | null = null;
  private _details: IJobDetails | null = null;
  private _detailsAsked = false;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace JobWatch {
  export interface IOptions {
    jobId: string;
    /** Whether the view is shown: logs are read only while it is. */
    visible: () => boolean;
    /** The job list's changes (the model's `jobsChanged`). */
    jobsChanged: ISignal<unknown, unknown>;
    getJob(id: string): Batch.IJob | undefined;
    hasItemLogs(job: Batch.IJob): boolean;
    getLogs(
      id: string,
      from: number,
      item: number | null
    ): Promise<Batch.ILogChunk>;
    getBatchSystemLog(id: string, from: number): Promise<Batch.ILogChunk>;
    getPartitions(id: string): Promise<Batch.IPartition[]>;
    getPreview(id: string): Promise<ArrayBuffer | null>;
    getPipelineStatus(id: string): Promise<Batch.IPipelineStatus>;
    /** Outputs and provenance of an ended job (null parts when unreadable). */
    loadDetails(id: string): Promise<IJobDetails>;
    logIntervalMs?: number;
    trans?: TranslationBundle;
  }
}
