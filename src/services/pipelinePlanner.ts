/**
 * The plan of a "Run pipeline in batch" dialog: the proxy builds the quantum
 * graph (seconds, a Python process on the server), so a plan is made when the
 * dialog opens and when the person asks, not on every keystroke; an answer to
 * an older request is dropped.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { Batch, IPipelinePlanner, PipelinePlanState } from '../tokens';

/** The key a plan is remembered by: the request it answered. */
export function pipelinePlanKey(request: Batch.IPipelinePlanRequest): string {
  return JSON.stringify(request);
}

export class PipelinePlanner implements IPipelinePlanner {
  constructor(options: PipelinePlanner.IOptions) {
    this._plan = options.plan;
  }

  get state(): PipelinePlanState {
    return this._state;
  }

  get changed(): ISignal<this, PipelinePlanState> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  plan(request: Batch.IPipelinePlanRequest | null, problems: string[]): void {
    if (this._disposed) {
      return;
    }
    const generation = ++this._generation;
    if (!request) {
      this._set({ status: 'incomplete', message: problems.join('\n') });
      return;
    }
    const key = pipelinePlanKey(request);
    this._set({ status: 'loading' });
    this._plan(request)
      .then(
        (plan): PipelinePlanState => ({ status: 'ok', plan, key }),
        (reason): PipelinePlanState => ({
          status: 'error',
          message: reason instanceof Error ? reason.message : String(reason)
        })
      )
      .then(next => {
        if (generation === this._generation && !this._disposed) {
          this._set(next);
        }
      });
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    Signal.clearData(this);
  }

  private _set(state: PipelinePlanState): void {
    this._state = state;
    this._changed.emit(state);
  }

  private _plan: (
    request: Batch.IPipelinePlanRequest
  ) => Promise<Batch.IPipelinePlan>;
  private _generation = 0;
  private _disposed = false;
  private _state: PipelinePlanState = { status: 'loading' };
  private _changed = new Signal<this, PipelinePlanState>(this);
}

export namespace PipelinePlanner {
  export interface IOptions {
    plan: (request: Batch.IPipelinePlanRequest) => Promise<Batch.IPipelinePlan>;
  }
}
