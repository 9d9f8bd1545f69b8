/**
 * The batch system's own log of one job (HTCondor's user log), read while a
 * view has it unfolded: at once, then every few seconds until it is complete.
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { Batch, IBatchSystemLog, IBatchSystemLogState } from '../tokens';

/** How often an unfolded log of a running job is read again. */
export const BATCH_SYSTEM_LOG_INTERVAL_MS = 2000;

export class BatchSystemLogFollower implements IBatchSystemLog {
  constructor(options: BatchSystemLogFollower.IOptions) {
    this._read = options.read;
    this._intervalMs = options.intervalMs ?? BATCH_SYSTEM_LOG_INTERVAL_MS;
    this._standby = options.standby ?? (() => 'when-hidden');
  }

  get state(): IBatchSystemLogState | null {
    return this._state;
  }

  get changed(): ISignal<this, IBatchSystemLogState | null> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._poll === undefined;
  }

  follow(jobId: string | null): void {
    if (this.isDisposed || jobId === (this._state?.jobId ?? null)) {
      return;
    }
    this._poll?.dispose();
    this._poll = null;
    this._next = 0;
    this._set(jobId === null ? null : { jobId, text: '', error: null });
    if (jobId === null) {
      return;
    }
    const poll: Poll = new Poll({
      name: 'user-batch:batch-system-log',
      auto: false,
      factory: () => this._readOnce(poll, jobId),
      frequency: { interval: this._intervalMs, backoff: true },
      standby: this._standby
    });
    this._poll = poll;
    void poll.start();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._poll?.dispose();
    this._poll = undefined;
    Signal.clearData(this);
  }

  private async _readOnce(poll: Poll, jobId: string): Promise<void> {
    let chunk: Batch.ILogChunk;
    try {
      chunk = await this._read(jobId, this._next);
    } catch (reason) {
      if (this._poll === poll) {
        const error = reason instanceof Error ? reason.message : String(reason);
        this._set({ jobId, text: this._state?.text ?? '', error });
      }
      throw reason; // the poll backs off
    }
    if (this._poll !== poll) {
      return;
    }
    this._next = chunk.next;
    this._set({
      jobId,
      text: (this._state?.text ?? '') + chunk.text,
      error: null
    });
    if (chunk.complete) {
      void poll.stop(); // the job ended and its log is all here
    }
  }

  private _set(state: IBatchSystemLogState | null): void {
    this._state = state;
    this._changed.emit(state);
  }

  private _read: BatchSystemLogFollower.Reader;
  private _intervalMs: number;
  private _standby: () => boolean | Poll.Standby;
  /** The poll of the followed job; undefined once disposed. */
  private _poll: Poll | null | undefined = null;
  private _next = 0;
  private _state: IBatchSystemLogState | null = null;
  private _changed = new Signal<this, IBatchSystemLogState | null>(this);
}

export namespace BatchSystemLogFollower {
  export type Reader = (id: string, from: number) => Promise<Batch.ILogChunk>;

  export interface IOptions {
    read: Reader;
    /** Default 2 s; failures back off from there. */
    intervalMs?: number;
    /** When to stand by; default while the page is hidden. */
    standby?: () => boolean | Poll.Standby;
  }
}
