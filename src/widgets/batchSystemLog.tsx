/**
 * The batch system's own log of a job (HTCondor's user log: submitted, executing, held,
 * terminated), folded away under the job's output log and read only while unfolded.
 */
import * as React from 'react';

import { Batch } from '../tokens';

/** Reads the batch system's log; the sidebar passes the model's. */
export interface IBatchSystemLogLoader {
  getBatchSystemLog(id: string, from: number): Promise<Batch.ILogChunk>;
}

/** How often an unfolded log of a running job is read again. */
const REFRESH_MS = 2000;

export function BatchSystemLog(props: {
  job: Batch.IJob;
  loader: IBatchSystemLogLoader;
  /** The section's title, e.g. "HTCondor events". */
  title: string;
}): JSX.Element {
  const { job, loader, title } = props;
  const [open, setOpen] = React.useState(false);
  const [text, setText] = React.useState('');
  const [error, setError] = React.useState<string | null>(null);
  const final = Batch.isFinal(job.state);

  React.useEffect(() => {
    if (!open) {
      return;
    }
    let current = true;
    let next = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async (): Promise<void> => {
      try {
        const chunk = await loader.getBatchSystemLog(job.id, next);
        if (!current) {
          return;
        }
        next = chunk.next;
        if (chunk.text) {
          setText(previous => previous + chunk.text);
        }
        setError(null);
        if (chunk.complete) {
          return;
        }
      } catch (reason) {
        if (current) {
          setError(reason instanceof Error ? reason.message : String(reason));
        }
      }
      if (current) {
        timer = setTimeout(() => void read(), REFRESH_MS);
      }
    };
    setText('');
    void read();
    return () => {
      current = false;
      if (timer !== undefined) {
        clearTimeout(timer);
      }
    };
  }, [open, job.id, final]);

  return (
    <details
      className="jp-Batch-BatchSystemLog"
      onToggle={e => setOpen((e.target as HTMLDetailsElement).open)}
    >
      <summary className="jp-Batch-SectionTitle">{title}</summary>
      {error ? (
        <div className="jp-Batch-Error">{error}</div>
      ) : (
        <pre className="jp-Batch-SystemLogText">
          {text || 'Nothing logged yet.'}
        </pre>
      )}
    </details>
  );
}
