/**
 * The plan of a "Run over catalog" dialog: asked of the proxy after a pause
 * in typing, an answer to an older request dropped.
 */
import { Debouncer } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { Batch, CatalogPlanState, ICatalogPlanner } from '../tokens';

/** Wait this long after the last keystroke before asking for a plan. */
export const PLAN_DEBOUNCE_MS = 400;

export class CatalogPlanner implements ICatalogPlanner {
  constructor(options: CatalogPlanner.IOptions) {
    this._plan = options.plan;
    this._debouncer = new Debouncer(
      () => this._ask(),
      options.delayMs ?? PLAN_DEBOUNCE_MS
    );
  }

  get state(): CatalogPlanState {
    return this._state;
  }

  get changed(): ISignal<this, CatalogPlanState> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._debouncer.isDisposed;
  }

  request(request: Batch.IPlanRequest | null, problems: string[]): void {
    const key = request ? JSON.stringify(request) : problems.join('\n');
    if (this.isDisposed || key === this._key) {
      return;
    }
    this._key = key;
    this._pending = request;
    this._generation++;
    if (!request) {
      void this._debouncer.stop();
      this._set({ status: 'incomplete', message: problems.join('\n') });
      return;
    }
    this._set({ status: 'loading' });
    void this._debouncer.invoke();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._debouncer.dispose();
    Signal.clearData(this);
  }

  private async _ask(): Promise<void> {
    const request = this._pending;
    const generation = this._generation;
    if (!request) {
      return;
    }
    let next: CatalogPlanState;
    try {
      next = { status: 'ok', plan: await this._plan(request) };
    } catch (reason) {
      next = {
        status: 'error',
        message: reason instanceof Error ? reason.message : String(reason)
      };
    }
    if (generation === this._generation && !this.isDisposed) {
      this._set(next);
    }
  }

  private _set(state: CatalogPlanState): void {
    this._state = state;
    this._changed.emit(state);
  }

  private _plan: (request: Batch.IPlanRequest) => Promise<Batch.ICatalogPlan>;
  private _debouncer: Debouncer;
  private _key: string | null = null;
  private _pending: Batch.IPlanRequest | null = null;
  private _generation = 0;
  private _state: CatalogPlanState = { status: 'loading' };
  private _changed = new Signal<this, CatalogPlanState>(this);
}

export namespace CatalogPlanner {
  export interface IOptions {
    plan: (request: Batch.IPlanRequest) => Promise<Batch.ICatalogPlan>;
    delayMs?: number;
  }
}
