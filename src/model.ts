/**
 * The Batch model: owns the jobs, the quota and the live event stream.
 *
 * State arrives through one Server-Sent Events stream (`api/events`); the
 * full lists are read when subscribing and again once the stream is open
 * (after every reconnect too). The only repeated requests are the log tails
 * of the job open in the sidebar (its output log, and the batch system's while
 * unfolded), only while that job can still write to them and the sidebar is
 * shown: Lumino polls that back off on failure and stand by while hidden.
 */
import { Poll } from '@lumino/polling';
import { Signal } from '@lumino/signaling';

import { BatchClient } from './request';
import { BatchSystemLogFollower } from './services/batchSystemLog';
import { CatalogPlanner } from './services/catalogPlanner';
import { CatalogRunFollower } from './services/catalogRun';
import { newIdempotencyKey } from './spec';
import { PendingSubmissions, StorageLike } from './services/pendingSubmissions';
import { PipelinePlanner } from './services/pipelinePlanner';
import { PipelineRunFollower } from './services/pipelineRun';
import { LogTailFollower } from './services/logTail';
import { JobWatch } from './services/jobWatch';
import {
  Batch,
  BatchError,
  ConnectionStatus,
  IBatchModel,
  IBatchSystemLog,
  ICatalogPlanner,
  ICatalogRun,
  IPipelinePlanner,
  IPipelineRun,
  IJobDetails,
  IJobWatch,
  ILogTail,
  IPendingSubmission
} from './tokens';
import { loadTrans, TranslationBundle } from './translation';

/**
 * What the model needs of an `EventSource`; tests pass a fake.
 */
export interface IEventSourceLike {
  onopen: ((event: Event) => void) | null;
  onerror: ((event: Event) => void) | null;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

export type EventSourceFactory = (url: string) => IEventSourceLike;

export class BatchModel implements IBatchModel {
  constructor(options: BatchModel.IOptions) {
    this._client = options.client;
    this._eventSourceFactory =
      options.eventSourceFactory ?? (url => new EventSource(url));
    // Reconnects: at the first tick after a live stream dropped, backing off
    // while new ones fail; standing by while a stream is live.
    this._reconnect = new Poll({
      name: 'user-batch:events',
      auto: false,
      factory: () => this._connect(),
      frequency: {
        interval: options.minBackoffMs ?? 1000,
        backoff: true,
        max: options.maxBackoffMs ?? 30000
      },
      standby: () => this._source !== null || 'when-hidden'
    });
    const standby = () => !this._detailsVisible || 'when-hidden';
    const trans = options.trans ?? loadTrans();
    this._trans = trans;
    this._logIntervalMs = options.logIntervalMs ?? 1000;
    this._catalogRun = new CatalogRunFollower({
      getPartitions: id => this._client.getPartitions(id),
      getPreview: id => this._client.getPreview(id),
      trans
    });
    this._pipelineRun = new PipelineRunFollower({
      getStatus: id => this._client.getPipelineStatus(id)
    });
    this._logTail = new LogTailFollower({
      getLogs: (id, from, item) => this._client.getLogs(id, from, item),
      getJob: id => this.getJob(id),
      hasItemLogs: job => this._hasItemLogs(job),
      intervalMs: options.logIntervalMs ?? 1000,
      standby,
      trans
    });
    this._logTail.changed.connect((_, tail) => this._logChanged.emit(tail));
    this._pending = new PendingSubmissions({
      storage: options.storage ?? Private.browserStorage(),
      // one browser may hold several users' labs: each has its own base URL
      scope: this._client.serverSettings.baseUrl
    });
    this._pending.changed.connect(() => this._pendingChanged.emit(), this);
    if (typeof window !== 'undefined') {
      window.addEventListener('storage', this._onStorage);
    }
    this._batchSystemLog = new BatchSystemLogFollower({
      read: (id, from) => this._client.getBatchSystemLog(id, from),
      standby
    });
  }

  get jobs(): ReadonlyArray<Batch.IJob> {
    return this._jobs;
  }
  get quota(): Batch.IQuotaStatus | null {
    return this._quota;
  }
  get backends(): ReadonlyArray<Batch.IBackend> {
    return this._backends;
  }
  get connection(): ConnectionStatus {
    return this._connection;
  }
  get connectionError(): BatchError | null {
    return this._connectionError;
  }
  get serviceUrl(): string {
    return this._client.baseUrl;
  }
  get selectedJobId(): string | null {
    return this._selectedJobId;
  }
  get selectedItem(): number | null {
    return this._selectedItem;
  }
  get logTail(): ILogTail | null {
    return this._logTail.tail;
  }
  get details(): IJobDetails | null {
    return this._details;
  }
  get isDisposed(): boolean {
    return this._isDisposed;
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
  get pendingSubmissions(): ReadonlyArray<IPendingSubmission> {
    return this._pending.unconfirmed;
  }
  get pendingSubmissionsChanged(): Signal<this, void> {
    return this._pendingChanged;
  }

  get jobsChanged(): Signal<this, ReadonlyArray<Batch.IJob>> {
    return this._jobsChanged;
  }
  get quotaChanged(): Signal<this, Batch.IQuotaStatus | null> {
    return this._quotaChanged;
  }
  get backendsChanged(): Signal<this, ReadonlyArray<Batch.IBackend>> {
    return this._backendsChanged;
  }
  get jobEnded(): Signal<this, Batch.IJob> {
    return this._jobEnded;
  }
  get connectionChanged(): Signal<this, ConnectionStatus> {
    return this._connectionChanged;
  }
  get selectionChanged(): Signal<this, string | null> {
    return this._selectionChanged;
  }
  get logChanged(): Signal<this, ILogTail | null> {
    return this._logChanged;
  }
  get detailsChanged(): Signal<this, IJobDetails | null> {
    return this._detailsChanged;
  }

  /**
   * Subscribe to the event stream, then load the lists. Returns at once: the
   * network work runs in the background.
   */
  start(): void {
    if (this._isDisposed || this._started) {
      return;
    }
    this._started = true;
    void this._connect().catch(() => undefined);
    void this._reconnect.start();
  }

  /**
   * Drop the connection and start again, e.g. after the proxy URL changed.
   */
  restart(): void {
    if (!this._started || this._isDisposed) {
      return;
    }
    this._disconnect();
    this._setConnection('connecting', null);
    void this._reconnect.refresh();
  }

  getJob(id: string): Batch.IJob | undefined {
    return this._jobs.find(job => job.id === id);
  }

  selectJob(id: string | null): void {
    if (id === this._selectedJobId) {
      return;
    }
    this._selectedJobId = id;
    this._selectedItem = null;
    this._logGeneration++;
    this._details = null;
    this._selectionChanged.emit(id);
    this._logTail.follow(id, null, null);
    this._detailsChanged.emit(null);
    this._batchSystemLog.follow(null);
    const job = id !== null ? this.getJob(id) : undefined;
    this._catalogRun.follow(job ?? null);
    this._pipelineRun.follow(job ?? null);
    if (id !== null && job && Batch.isFinal(job.state)) {
      void this._loadDetails(id);
    }
  }

  selectItem(item: number | null): void {
    const id = this._selectedJobId;
    const job = id !== null ? this.getJob(id) : undefined;
    if (id === null || !job || item === this._selectedItem) {
      return;
    }
    // A backend that runs the items one after another writes one log for
    // all of them: there is no item's log to switch to.
    if (item !== null && !this._hasItemLogs(job)) {
      return;
    }
    this._selectedItem = item;
    this._logGeneration++;
    this._selectionChanged.emit(id);
    // An empty tail rather than null, so the sidebar keeps the item marked
    // while its log loads.
    this._logTail.follow(id, item, {
      jobId: id,
      text: '',
      next: 0,
      complete: false,
      item
    });
  }

  setDetailsVisible(visible: boolean): void {
    this._detailsVisible = visible;
  }

  watchJob(jobId: string, visible: () => boolean): IJobWatch {
    const client = this._client;
    return new JobWatch({
      jobId,
      visible,
      jobsChanged: this._jobsChanged,
      getJob: id => this.getJob(id),
      hasItemLogs: job => this._hasItemLogs(job),
      getLogs: (id, from, item) => client.getLogs(id, from, item),
      getBatchSystemLog: (id, from) => client.getBatchSystemLog(id, from),
      getPartitions: id => client.getPartitions(id),
      getPreview: id => client.getPreview(id),
      getPipelineStatus: id => client.getPipelineStatus(id),
      loadDetails: id => this._readDetails(id),
      logIntervalMs: this._logIntervalMs,
      trans: this._trans
    });
  }

  createCatalogPlanner(): ICatalogPlanner {
    return new CatalogPlanner({
      plan: request => this._client.planCatalog(request)
    });
  }

  createPipelinePlanner(): IPipelinePlanner {
    return new PipelinePlanner({
      plan: request => this._client.planPipeline(request)
    });
  }

  standardPipelines(): Promise<Batch.IStandardPipeline[]> {
    return this._client.getStandardPipelines();
  }

  async refreshBackends(): Promise<void> {
    const backends = await this._client.getBackends();
    this._backends = backends;
    this._backendsChanged.emit(backends);
  }

  async refreshQuota(): Promise<void> {
    this._setQuota(await this._client.getQuota());
  }

  /**
   * Send a spec. It is remembered (browser storage) until the proxy answers,
   * so a reload while it is on its way leaves a note, not nothing.
   */
  async submit(spec: Batch.IJobSpec): Promise<Batch.IJob> {
    const key = spec.idempotencyKey;
    this._pending.add(spec);
    let job: Batch.IJob;
    try {
      job = await this._client.submitJob(spec);
    } catch (reason) {
      if (key) {
        // The proxy's own refusal is an answer: nothing was made. A network
        // failure or a 5xx from the way there is not: the job may exist.
        if (
          reason instanceof BatchError &&
          reason.kind === 'response' &&
          (reason.status ?? 500) < 500
        ) {
          this._pending.answered(key);
        } else {
          this._pending.unanswered(key);
        }
      }
      throw reason;
    }
    if (key) {
      this._pending.answered(key);
    }
    this._upsert(job, false);
    // The reservation changed the quota; the stream says so too, but the
    // dialog that submitted should not wait for it.
    this.refreshQuota().catch(() => undefined);
    return job;
  }

  async resubmitPending(key: string): Promise<Batch.IJob> {
    const entry = this._pending.unconfirmed.find(e => e.key === key);
    if (!entry?.spec) {
      throw new Error(
        this._trans.__(
          'This submission cannot be sent again: the browser kept no copy of it. Discard it and submit from the notebook.'
        )
      );
    }
    // The same key: if the first one did arrive, the proxy answers its job.
    return this.submit({ ...entry.spec, idempotencyKey: key });
  }

  discardPending(key: string): void {
    this._pending.discard(key);
  }

  async cancel(id: string): Promise<Batch.IJob> {
    const job = await this._client.cancelJob(id);
    this._upsert(job, false);
    return job;
  }

  async rerun(id: string): Promise<Batch.IJob> {
    const job = await this._client.rerunJob(id, newIdempotencyKey());
    this._upsert(job, false);
    return job;
  }

  async recordedSpec(id: string): Promise<Batch.IJobSpec> {
    const recorded = (await this._client.getProvenance(id)).spec as
      Batch.IJobSpec | undefined;
    if (!recorded || typeof recorded !== 'object' || !recorded.kind) {
      throw new Error(
        this._trans.__(
          'The batch service keeps no spec for this job, so it cannot be edited; use Run again or submit it from the notebook.'
        )
      );
    }
    const { idempotencyKey: _used, ...spec } = recorded;
    if (spec.source.pipeline?.planId !== undefined) {
      // that graph's output run exists: the dialog plans anew
      const { planId: _planned, ...pipeline } = spec.source.pipeline;
      return { ...spec, source: { ...spec.source, pipeline } };
    }
    return spec;
  }

  async release(id: string): Promise<Batch.IJob> {
    const job = await this._client.releaseJob(id);
    this._upsert(job, false);
    return job;
  }

  async delete(
    id: string,
    keepProvenance: boolean
  ): Promise<Batch.IDeleteJobResult> {
    const result = await this._client.deleteJob(id, keepProvenance);
    // The stream says so too (to every open lab); this one need not wait.
    this._remove(id);
    return result;
  }

  provenanceDownloadUrl(id: string): string {
    return this._client.browserUrl(
      `api/jobs/${encodeURIComponent(id)}/provenance`,
      { download: '1' }
    );
  }

  /**
   * Load the job list and the quota. Failures mark the service unreachable.
   */
  async refresh(): Promise<void> {
    try {
      const [jobs, quota] = await Promise.all([
        this._client.listJobs(),
        this._client.getQuota()
      ]);
      if (this._isDisposed) {
        return;
      }
      this._mergeList(jobs);
      this._setQuota(quota);
      this._setConnection('connected', null);
    } catch (reason) {
      if (this._isDisposed) {
        return;
      }
      this._setConnection('unreachable', Private.asBatchError(reason));
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._logGeneration++;
    this._logTail.dispose();
    this._reconnect.dispose();
    this._catalogRun.dispose();
    this._pipelineRun.dispose();
    this._batchSystemLog.dispose();
    if (typeof window !== 'undefined') {
      window.removeEventListener('storage', this._onStorage);
    }
    this._disconnect();
    Signal.clearData(this);
  }

  /**
   * Open the event stream; resolves once it is open, rejects if it fails
   * first (the reconnect poll backs off).
   */
  private _connect(): Promise<void> {
    if (this._isDisposed) {
      return Promise.resolve();
    }
    this._disconnect();
    const source = this._eventSourceFactory(
      this._client.browserUrl('api/events')
    );
    this._source = source;
    let opened: () => void = () => undefined;
    let failed: (reason: Error) => void = () => undefined;
    const settled = new Promise<void>((resolve, reject) => {
      opened = resolve;
      failed = reject;
    });
    source.onopen = () => {
      if (this._source !== source) {
        return;
      }
      opened();
      // Read the lists again now that the stream is live, so no change can
      // fall between the first read and the subscription.
      void this.refresh();
    };
    source.onerror = () => {
      if (this._source !== source) {
        return;
      }
      // Reconnect ourselves, through the poll, rather than trusting the
      // browser's fixed retry (it gives up for good on a non-200 answer).
      source.close();
      this._source = null;
      failed(new Error('the event stream failed'));
    };
    source.addEventListener('job', event => {
      if (this._source === source) {
        this._onJobEvent(event.data);
      }
    });
    source.addEventListener('job-deleted', event => {
      if (this._source === source) {
        const deleted = Private.parse<{ id?: unknown }>(event.data);
        if (deleted && typeof deleted.id === 'string') {
          this._remove(deleted.id);
        }
      }
    });
    source.addEventListener('quota', event => {
      if (this._source === source) {
        this._onQuotaEvent(event.data);
      }
    });
    // Read at once too: the list shows without waiting for the stream, and
    // an unreachable service is known without waiting for it to fail.
    void this.refresh();
    return settled;
  }

  private _disconnect(): void {
    if (this._source) {
      this._source.close();
      this._source = null;
    }
  }

  private _onJobEvent(data: string): void {
    const job = Private.parse<Batch.IJob>(data);
    if (job && typeof job.id === 'string') {
      this._upsert(job, true);
    }
  }

  /** A deleted job leaves the list (and the details, if it was open); it never comes back. */
  private _remove(id: string): void {
    this._deleted.add(id);
    if (this._selectedJobId === id) {
      this.selectJob(null);
    }
    if (this._jobs.some(job => job.id === id)) {
      this._setJobs(this._jobs.filter(job => job.id !== id));
    }
  }

  private _onQuotaEvent(data: string): void {
    const quota = Private.parse<Batch.IQuotaStatus>(data);
    if (quota && quota.limits) {
      this._setQuota(quota);
    }
  }

  /**
   * Put one job in the list. `live` says it came from the event stream, so a
   * final state is a transition we saw happen.
   */
  private _upsert(job: Batch.IJob, live: boolean): void {
    if (this._deleted.has(job.id)) {
      return; // a late copy of a job deleted since
    }
    const index = this._jobs.findIndex(j => j.id === job.id);
    const previous = index >= 0 ? this._jobs[index] : undefined;
    if (
      previous &&
      Batch.isFinal(previous.state) &&
      !Batch.isFinal(job.state)
    ) {
      return; // a stale copy: final states never change
    }
    const jobs = this._jobs.slice();
    if (index >= 0 && previous?.createdAt === job.createdAt) {
      jobs[index] = job; // its place in the order cannot have changed
      this._setJobs(jobs, true);
    } else {
      if (index >= 0) {
        jobs[index] = job;
      } else {
        jobs.push(job);
      }
      this._setJobs(jobs);
    }
    const ended =
      Batch.isFinal(job.state) && (!previous || !Batch.isFinal(previous.state));
    if (ended && (live || previous)) {
      this._onJobEnded(job);
    }
  }

  /**
   * Merge a full list from the API into what the stream already told us.
   */
  private _mergeList(list: Batch.IJob[]): void {
    const known = new Map(this._jobs.map(job => [job.id, job]));
    const endedNow: Batch.IJob[] = [];
    const jobs = list
      .filter(job => !this._deleted.has(job.id))
      .map(job => {
        const previous = known.get(job.id);
        if (!previous) {
          return job;
        }
        if (Batch.isFinal(previous.state) && !Batch.isFinal(job.state)) {
          return previous; // the stream was ahead of the list
        }
        if (Batch.isFinal(job.state) && !Batch.isFinal(previous.state)) {
          endedNow.push(job); // ended while we were reconnecting
        }
        return job;
      });
    // Jobs only the stream knows yet (created after the list was read). A
    // finished one the list lacks was deleted while the stream was down.
    const listed = new Set(list.map(job => job.id));
    for (const job of this._jobs) {
      if (!listed.has(job.id) && !Batch.isFinal(job.state)) {
        jobs.push(job);
      }
    }
    this._setJobs(jobs);
    endedNow.forEach(job => this._onJobEnded(job));
  }

  private _setJobs(jobs: Batch.IJob[], sorted = false): void {
    // Newest first, as the API lists them. ISO times of one format compare
    // as plain strings, much faster than localeCompare over 10,000 jobs.
    if (!sorted) {
      jobs.sort((a, b) =>
        a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0
      );
    }
    this._jobs = jobs;
    this._jobsChanged.emit(jobs);
    if (this._selectedJobId !== null) {
      const selected = this.getJob(this._selectedJobId) ?? null;
      this._catalogRun.follow(selected);
      this._pipelineRun.follow(selected);
    }
  }

  private _onJobEnded(job: Batch.IJob): void {
    this._jobEnded.emit(job);
    if (job.id === this._selectedJobId) {
      void this._loadDetails(job.id);
    }
  }

  private _setQuota(quota: Batch.IQuotaStatus): void {
    this._quota = quota;
    this._quotaChanged.emit(quota);
  }

  private _setConnection(
    status: ConnectionStatus,
    error: BatchError | null
  ): void {
    const changed = status !== this._connection;
    this._connection = status;
    this._connectionError = error;
    if (changed) {
      this._connectionChanged.emit(status);
    }
  }

  /**
   * Whether a job's sweep items have a log each: a sweep on a backend that
   * runs items side by side. Unknown backends are given the benefit.
   */
  private _hasItemLogs(job: Batch.IJob): boolean {
    if (job.progress?.items === undefined) {
      return false;
    }
    const backend = this._backends.find(b => b.name === job.backend);
    return backend?.sweepsInParallel ?? true;
  }

  private async _loadDetails(id: string): Promise<void> {
    const generation = this._logGeneration;
    const details = await this._readDetails(id);
    if (this._isDisposed || generation !== this._logGeneration) {
      return;
    }
    this._details = details;
    this._detailsChanged.emit(this._details);
  }

  private async _readDetails(id: string): Promise<IJobDetails> {
    const [outputs, provenance] = await Promise.all([
      this._client.getOutputs(id).catch(() => null),
      this._client.getProvenance(id).catch(() => null)
    ]);
    return { jobId: id, outputs, provenance };
  }

  private _onStorage = (event: StorageEvent): void => {
    this._pending.storageChanged(event.key);
  };

  private _client: BatchClient;
  private _pending: PendingSubmissions;
  private _trans: TranslationBundle;
  private _pendingChanged = new Signal<this, void>(this);
  private _logIntervalMs: number;
  private _eventSourceFactory: EventSourceFactory;
  private _reconnect: Poll;
  private _logTail: LogTailFollower;
  private _detailsVisible = true;
  private _catalogRun: CatalogRunFollower;
  private _pipelineRun: PipelineRunFollower;
  private _batchSystemLog: BatchSystemLogFollower;
  private _source: IEventSourceLike | null = null;
  private _started = false;
  private _isDisposed = false;

  private _jobs: Batch.IJob[] = [];
  /** Jobs deleted while this model watched: a late event or list must not bring them back. */
  private _deleted = new Set<string>();
  private _quota: Batch.IQuotaStatus | null = null;
  private _backends: Batch.IBackend[] = [];
  private _connection: ConnectionStatus = 'connecting';
  private _connectionError: BatchError | null = null;
  private _selectedJobId: string | null = null;
  private _selectedItem: number | null = null;
  private _details: IJobDetails | null = null;
  private _logGeneration = 0;

  private _jobsChanged = new Signal<this, ReadonlyArray<Batch.IJob>>(this);
  private _quotaChanged = new Signal<this, Batch.IQuotaStatus | null>(this);
  private _backendsChanged = new Signal<this, ReadonlyArray<Batch.IBackend>>(
    this
  );
  private _jobEnded = new Signal<this, Batch.IJob>(this);
  private _connectionChanged = new Signal<this, ConnectionStatus>(this);
  private _selectionChanged = new Signal<this, string | null>(this);
  private _logChanged = new Signal<this, ILogTail | null>(this);
  private _detailsChanged = new Signal<this, IJobDetails | null>(this);
}

export namespace BatchModel {
  export interface IOptions {
    client: BatchClient;
    /** Defaults to the browser's `EventSource`. */
    eventSourceFactory?: EventSourceFactory;
    /** How often the open job's log is read while it runs; default 1000 ms. */
    logIntervalMs?: number;
    /** Reconnect backoff bounds; default 1 s growing to 30 s (Lumino's floor for the cap). */
    minBackoffMs?: number;
    maxBackoffMs?: number;
    /** The extension's strings (the log and preview notes); default: as written. */
    trans?: TranslationBundle;
    /** Where unanswered submissions are kept; default: the browser's localStorage. */
    storage?: StorageLike;
  }
}

namespace Private {
  /** The browser's localStorage, or a memory stand-in where there is none (it refuses). */
  export function browserStorage(): StorageLike {
    try {
      if (typeof window !== 'undefined' && window.localStorage) {
        return window.localStorage;
      }
    } catch {
      // access denied (e.g. storage blocked for the site)
    }
    const memory = new Map<string, string>();
    return {
      getItem: key => memory.get(key) ?? null,
      setItem: (key, value) => void memory.set(key, value),
      removeItem: key => void memory.delete(key)
    };
  }

  export function parse<T>(data: string): T | null {
    try {
      return JSON.parse(data) as T;
    } catch {
      return null;
    }
  }

  export function asBatchError(reason: unknown): BatchError {
    if (reason instanceof BatchError) {
      return reason;
    }
    return new BatchError({
      kind: 'network',
      message: reason instanceof Error ? reason.message : String(reason)
    });
  }
}
