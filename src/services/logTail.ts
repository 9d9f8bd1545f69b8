/**
 * The live tail of the open job's output log: read about once a second while
 * the job can still write to it, until the log is complete after it ended.
 * A sweep's item logs are read by item; a failed read backs off.
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { Batch, BatchError, ILogTail } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';

/** Keep at most this many characters of a log in memory. */
const MAX_LOG_CHARS = 512 * 1024;

export class LogTailFollower {
  constructor(options: LogTailFollower.IOptions) {
    this._options = options;
    this._trans = options.trans ?? loadTrans();
  }

  /** The tail as last read; null before the first read. */
  get tail(): ILogTail | null {
    return this._tail;
  }

  get changed(): ISignal<this, ILogTail | null> {
    return this._changed;
  }

  /**
   * Follow a job's log (null: stop), starting from `initial`; `item` picks a
   * sweep item's log (null: the one the server would show).
   */
  follow(id: string | null, item: number | null, initial: ILogTail | null) {
    this._poll?.dispose();
    this._poll = null;
    this._set(initial);
    if (id === null || this._disposed) {
      return;
    }
    const read = { next: 0, text: '', shown: item };
    const poll: Poll = new Poll({
      name: 'user-batch:log',
      auto: false,
      factory: () => this._readOnce(poll, id, item, read),
      frequency: { interval: this._options.intervalMs, backoff: true },
      standby: this._options.standby
    });
    this._poll = poll;
    void poll.start();
  }

  dispose(): void {
    this._disposed = true;
    this._poll?.dispose();
    this._poll = null;
    Signal.clearData(this);
  }

  private async _readOnce(
    poll: Poll,
    id: string,
    item: number | null,
    read: { next: number; text: string; shown: number | null }
  ): Promise<void> {
    const current = () => !this._disposed && this._poll === poll;
    const job = this._options.getJob(id);
    const finalBeforeFetch = job ? Batch.isFinal(job.state) : true;
    // Without a chosen item, ask for the one the server would pick, by
    // name: its pick moves as items end, and an offset into one item's
    // log read from another's would garble the text.
    const want =
      item ??
      (job && this._options.hasItemLogs(job) ? Private.defaultItem(job) : null);
    if (want !== read.shown) {
      read.shown = want;
      read.next = 0;
      read.text = '';
    }
    let complete = false;
    try {
      const chunk = await this._options.getLogs(id, read.next, read.shown);
      if (!current()) {
        return;
      }
      if (chunk.text) {
        read.text = Private.trimLog(read.text + chunk.text, this._trans);
      }
      read.next = chunk.next;
      complete = chunk.complete;
      this._set({
        jobId: id,
        text: read.text,
        next: read.next,
        complete,
        item: read.shown
      });
    } catch (reason) {
      if (!current()) {
        return;
      }
      if (reason instanceof BatchError && reason.status === 404) {
        void poll.stop(); // the job is gone, or not ours
        return;
      }
      throw reason; // the poll backs off
    }
    // Stop once a job that had ended has handed over all of its log.
    if (finalBeforeFetch && (complete || !job)) {
      void poll.stop();
    }
  }

  private _set(tail: ILogTail | null): void {
    this._tail = tail;
    this._changed.emit(tail);
  }

  private _options: LogTailFollower.IOptions;
  private _trans: TranslationBundle;
  private _poll: Poll | null = null;
  private _disposed = false;
  private _tail: ILogTail | null = null;
  private _changed = new Signal<this, ILogTail | null>(this);
}

export namespace LogTailFollower {
  export interface IOptions {
    getLogs(
      id: string,
      from: number,
      item: number | null
    ): Promise<Batch.ILogChunk>;
    /** The job as the model knows it now. */
    getJob(id: string): Batch.IJob | undefined;
    /** Whether a job's sweep items have a log each. */
    hasItemLogs(job: Batch.IJob): boolean;
    intervalMs: number;
    standby: () => boolean | Poll.Standby;
    /** The extension's strings; default: as written. */
    trans?: TranslationBundle;
  }
}

namespace Private {
  export function trimLog(text: string, trans: TranslationBundle): string {
    if (text.length <= MAX_LOG_CHARS) {
      return text;
    }
    const cut = text.length - MAX_LOG_CHARS;
    const lineStart = text.indexOf('\n', cut);
    return (
      trans.__('[… earlier output not shown …]') +
      '\n' +
      text.slice(lineStart >= 0 ? lineStart + 1 : cut)
    );
  }

  /**
   * The sweep item whose log the server shows by default: the first failed,
   * else the first running, else the first.
   */
  export function defaultItem(job: Batch.IJob): number {
    const letters = job.progress?.items ?? '';
    return [letters.indexOf('f'), letters.indexOf('r'), 0].find(n => n >= 0)!;
  }
}
