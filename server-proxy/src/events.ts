import type { Job, JobDeletedEvent, QuotaStatus } from '@user-batch/contract';

export interface EventSink {
  write(chunk: string): void;
  close(): void;
}

/** Per-user Server-Sent Events fan-out: a user only ever receives their own jobs. */
export class EventHub {
  private readonly sinks = new Map<string, Set<EventSink>>();

  subscribe(user: string, sink: EventSink): () => void {
    let set = this.sinks.get(user);
    if (!set) {
      set = new Set();
      this.sinks.set(user, set);
    }
    set.add(sink);
    return () => {
      set.delete(sink);
      if (set.size === 0) this.sinks.delete(user);
    };
  }

  publishJob(job: Job): void {
    this.send(job.user, 'job', job);
  }

  /** The job left the store (deleted): open lists drop it. */
  publishJobDeleted(user: string, id: string): void {
    const event: JobDeletedEvent = { id };
    this.send(user, 'job-deleted', event);
  }

  publishQuota(status: QuotaStatus): void {
    this.send(status.user, 'quota', status);
  }

  /** End every stream (at shutdown). */
  closeAll(): void {
    for (const set of this.sinks.values()) for (const sink of set) sink.close();
    this.sinks.clear();
  }

  get connections(): number {
    let n = 0;
    for (const set of this.sinks.values()) n += set.size;
    return n;
  }

  private send(user: string, event: string, data: unknown): void {
    const set = this.sinks.get(user);
    if (!set) return;
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const sink of set) sink.write(frame);
  }
}
