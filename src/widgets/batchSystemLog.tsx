/**
 * The batch system's own log of a job (HTCondor's user log: submitted, executing, held,
 * terminated), folded away under the job's output log and read only while unfolded.
 */
import * as React from 'react';

import { Batch, IBatchSystemLog } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import { useSignalValue } from './useSignal';

export function BatchSystemLog(props: {
  job: Batch.IJob;
  /** The model's follower: unfolding asks it to read this job's log. */
  log: IBatchSystemLog;
  /** The section's title, e.g. "HTCondor events". */
  title: string;
  trans?: TranslationBundle;
}): JSX.Element {
  const { job, log, title } = props;
  const trans = props.trans ?? loadTrans();
  const [open, setOpen] = React.useState(false);
  const state = useSignalValue(log.changed, () => log.state);
  React.useEffect(() => {
    if (!open) {
      return;
    }
    log.follow(job.id);
    return () => log.follow(null);
  }, [open, job.id, log]);
  const mine = state?.jobId === job.id ? state : null;

  return (
    <details
      className="jp-Batch-BatchSystemLog"
      onToggle={e => setOpen((e.target as HTMLDetailsElement).open)}
    >
      <summary className="jp-Batch-SectionTitle">{title}</summary>
      {mine?.error ? (
        <div className="jp-Batch-Error">{mine.error}</div>
      ) : (
        <pre className="jp-Batch-SystemLogText">
          {mine?.text || trans.__('Nothing logged yet.')}
        </pre>
      )}
    </details>
  );
}
