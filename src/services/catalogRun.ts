/**
 * What the open catalog run shows besides its job: the failed partitions
 * (read again as the failed count grows) and, once it ended, a preview of
 * its result. The model tells it which job is open; views render its state.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { hasCatalogRun } from '../kinds';
import { readPreview } from '../preview';
import { Batch, ICatalogRun, ICatalogRunState } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';

export class CatalogRunFollower implements ICatalogRun {
  constructor(options: CatalogRunFollower.IOptions) {
    this._getPartitions = options.getPartitions;
    this._getPreview = options.getPreview;
    this._trans = options.trans ?? loadTrans();
  }

  get state(): ICatalogRunState | null {
    return this._state;
  }

  get changed(): ISignal<this, ICatalogRunState | null> {
    return this._changed;
  }

  /**
   * The job now open (or its latest copy); null or another kind clears.
   */
  follow(job: Batch.IJob | null): void {
    if (!job || !hasCatalogRun(job.kind)) {
      if (this._state !== null) {
        this._jobId = null;
        this._partitionsKey = this._previewKey = '';
        this._set(null);
      }
      return;
    }
    const final = Batch.isFinal(job.state);
    const failed = job.progress?.failed ?? 0;
    if (job.id !== this._jobId) {
      this._jobId = job.id;
      this._partitionsKey = this._previewKey = '';
      this._set({ jobId: job.id, partitions: [], preview: null });
    }
    const partitionsKey = `${failed}/${final}`;
    if (failed && partitionsKey !== this._partitionsKey) {
      this._partitionsKey = partitionsKey;
      this._getPartitions(job.id)
        .then(partitions => {
          if (this._jobId === job.id && this._state) {
            this._set({ ...this._state, partitions });
          }
        })
        .catch(() => undefined); // read again on the next change
    }
    if (final && !this._previewKey) {
      this._previewKey = 'asked';
      const trans = this._trans;
      this._getPreview(job.id)
        .then(buffer =>
          buffer
            ? readPreview(buffer)
            : { error: trans.__('This run left no result to preview.') }
        )
        .catch(reason => ({
          error: trans.__(
            "The preview cannot be shown: %1. The result is in the job's output folder under result/.",
            reason instanceof Error ? reason.message : String(reason)
          )
        }))
        .then(preview => {
          if (this._jobId === job.id && this._state) {
            this._set({ ...this._state, preview });
          }
        });
    }
  }

  dispose(): void {
    this._jobId = null;
    Signal.clearData(this);
  }

  private _set(state: ICatalogRunState | null): void {
    this._state = state;
    this._changed.emit(state);
  }

  private _getPartitions: (id: string) => Promise<Batch.IPartition[]>;
  private _getPreview: (id: string) => Promise<ArrayBuffer | null>;
  private _trans: TranslationBundle;
  private _jobId: string | null = null;
  private _partitionsKey = '';
  private _previewKey = '';
  private _state: ICatalogRunState | null = null;
  private _changed = new Signal<this, ICatalogRunState | null>(this);
}

export namespace CatalogRunFollower {
  export interface IOptions {
    getPartitions(id: string): Promise<Batch.IPartition[]>;
    getPreview(id: string): Promise<ArrayBuffer | null>;
    /** The extension's strings; default: as written. */
    trans?: TranslationBundle;
  }
}
