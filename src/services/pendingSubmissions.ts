/**
 * Submissions sent but not yet answered, kept in the browser's storage so a
 * page reload cannot lose one without a trace.
 *
 * A spec is written here (with its idempotency key) before it is sent, and
 * removed once the proxy answers: with the job (it is then in the job list) or
 * with a refusal (the dialog showed why). A reload, a closed tab or a network
 * failure leaves it here; the sidebar then says the submission was not
 * confirmed and offers to send it again: with the same key, so the proxy
 * answers the job it made if the first one did arrive, and never makes two.
 */
import { Signal } from '@lumino/signaling';

import { Batch, IPendingSubmission } from '../tokens';

/** What the store needs of `window.localStorage`; tests pass a real `Storage` too. */
export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export class PendingSubmissions {
  constructor(options: PendingSubmissions.IOptions) {
    this._storage = options.storage;
    this._key = `user-batch:pending-submissions:${options.scope}`;
  }

  /** Told whenever the list changes (here, or in another tab of the same lab). */
  get changed(): Signal<this, void> {
    return this._changed;
  }

  /** Every unconfirmed submission, oldest first, but those this page is still sending. */
  get unconfirmed(): IPendingSubmission[] {
    return this._read().filter(entry => !this._sending.has(entry.key));
  }

  /** Remember a spec about to be sent; it must carry an idempotency key. */
  add(spec: Batch.IJobSpec, at: Date = new Date()): void {
    const key = spec.idempotencyKey;
    if (!key) {
      return;
    }
    this._sending.add(key);
    const entries = this._read().filter(entry => entry.key !== key);
    const entry: IPendingSubmission = {
      key,
      name: spec.name,
      at: at.toISOString(),
      spec
    };
    if (!this._write([...entries, entry])) {
      // No room for the spec (a large notebook): still say it was sent.
      this._write([...entries, { ...entry, spec: null }]);
    }
    this._changed.emit();
  }

  /**
   * The send ended without an answer (the network failed): it stays
   * remembered and is now shown as unconfirmed.
   */
  unanswered(key: string): void {
    this._sending.delete(key);
    this._changed.emit();
  }

  /** The proxy answered (with the job or a refusal): forget the submission. */
  answered(key: string): void {
    this._sending.delete(key);
    const entries = this._read();
    if (entries.some(entry => entry.key === key)) {
      this._write(entries.filter(entry => entry.key !== key));
    }
    this._changed.emit();
  }

  /** Forget a submission without sending it again. */
  discard(key: string): void {
    this.answered(key);
  }

  /** Another tab changed the list (the browser's `storage` event). */
  storageChanged(storageKey: string | null): void {
    if (storageKey === null || storageKey === this._key) {
      this._cache = null;
      this._changed.emit();
    }
  }

  /** The stored list; read once and kept until it changes (the sidebar asks every second). */
  private _read(): IPendingSubmission[] {
    if (this._cache === null) {
      this._cache = this._readStorage();
    }
    return this._cache;
  }

  private _readStorage(): IPendingSubmission[] {
    let text: string | null = null;
    try {
      text = this._storage.getItem(this._key);
    } catch {
      return [];
    }
    if (!text) {
      return [];
    }
    try {
      const parsed: unknown = JSON.parse(text);
      return Array.isArray(parsed) ? parsed.filter(isPending) : [];
    } catch {
      return [];
    }
  }

  private _write(entries: IPendingSubmission[]): boolean {
    this._cache = null;
    try {
      if (entries.length) {
        this._storage.setItem(this._key, JSON.stringify(entries));
      } else {
        this._storage.removeItem(this._key);
      }
      return true;
    } catch {
      return false; // full, or storage refused (private browsing)
    }
  }

  private _storage: StorageLike;
  private _key: string;
  /** Keys this page is sending now: not "unconfirmed" yet. */
  private _sending = new Set<string>();
  private _cache: IPendingSubmission[] | null = null;
  private _changed = new Signal<this, void>(this);
}

export namespace PendingSubmissions {
  export interface IOptions {
    storage: StorageLike;
    /** Whose submissions: the proxy's URL (one browser may hold several users' labs). */
    scope: string;
  }
}

function isPending(value: unknown): value is IPendingSubmission {
  const entry = value as IPendingSubmission;
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof entry.key === 'string' &&
    typeof entry.name === 'string' &&
    typeof entry.at === 'string' &&
    (entry.spec === null || typeof entry.spec === 'object')
  );
}
