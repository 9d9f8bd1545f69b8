/**
 * What the open pipeline run shows besides its job: quanta per task label,
 * the failed quanta and, once it ended, the output datasets. Read again when
 * the job's progress or state changes; the model tells it which job is open.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { Batch, IPipelineRun, IPipelineRunState } from '../tokens';

export class PipelineRunFollower implements IPipelineRun {
  constructor(options: PipelineRunFollower.IOptions) {
    this._getStatus = options.getStatus;
  }

  get state(): IPipelineRunState | null {
    return this._state;
  }

  get changed(): ISignal<this, IPipelineRunState | null> {
    return this._changed;
  }

  /** The job now open (or its latest copy); null or another kind clears. */
  follow(job: Batch.IJob | null): void {
    if (!job || job.kind !== 'pipeline') {
      if (this._state !== null) {
        this._jobId = null;
        this._key = '';
        this._set(null);
      }
      return;
    }
    if (job.id !== this._jobId) {
      this._jobId = job.id;
      this._key = '';
      this._set({ jobId: job.id, status: null, error: null });
    }
    const progress = job.progress;
    const key = `${job.state}/${progress?.done ?? 0}/${progress?.failed ?? 0}/${progress?.total ?? 0}`;
    if (key === this._key) {
      return;
    }
    this._key = key;
    const id = job.id;
    this._getStatus(id).then(
      status => {
        if (this._jobId === id) {
          this._set({ jobId: id, status, error: null });
        }
      },
      reason => {
        if (this._jobId === id && this._state) {
          this._key = ''; // read again on the next change
          this._set({
            ...this._state,
            error: reason instanceof Error ? reason.message : String(reason)
          });
        }
      }
    );
  }

  dispose(): void {
    this._jobId = null;
    Signal.clearData(this);
  }

  private _set(state: IPipelineRunState | null): void {
    this._state = state;
    this._changed.emit(state);
  }

  private _getStatus: (id: string) => Promise<Batch.IPipelineStatus>;
  private _jobId: string | null = null;
  private _key = '';
  private _state: IPipelineRunState | null = null;
  private _changed = new Signal<this, IPipelineRunState | null>(this);
}

export namespace PipelineRunFollower {
  export interface IOptions {
    getStatus(id: string): Promise<Batch.IPipelineStatus>;
  }
}
