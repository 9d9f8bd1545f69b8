/**
 * The parts of the job details only a catalog run has: its failed
 * partitions with their tracebacks and a preview of the result's first rows.
 */
import * as React from 'react';

import type { IPreview } from '../preview';
import { Batch, ICatalogRun } from '../tokens';
import { loadTrans, TranslationBundle } from '../translation';
import { useSignalValue } from './useSignal';

export { formatCell, IPreview, PREVIEW_ROWS, readPreview } from '../preview';

export function PreviewTable(props: {
  preview: IPreview;
  trans?: TranslationBundle;
}): JSX.Element {
  const { columns, rows, numeric } = props.preview;
  const trans = props.trans ?? loadTrans();
  if (rows.length === 0) {
    return (
      <div className="jp-Batch-Muted">
        {trans.__('The result has no rows.')}
      </div>
    );
  }
  return (
    <div className="jp-Batch-PreviewScroll">
      <table className="jp-Batch-Preview">
        <thead>
          <tr>
            {columns.map((name, index) => (
              <th key={index}>{name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, r) => (
            <tr key={r}>
              {row.map((cell, c) => (
                <td key={c} className={numeric[c] ? '-mod-number' : ''}>
                  {cell}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** How a partition is named in messages, as the proxy names it. */
export function partitionName(p: Pick<Batch.IPartition, 'order' | 'pixel'>) {
  return `Norder=${p.order} Npix=${p.pixel}`;
}

export function FailedPartitions(props: {
  partitions: ReadonlyArray<Batch.IPartition>;
  trans?: TranslationBundle;
}): JSX.Element | null {
  const trans = props.trans ?? loadTrans();
  const failed = props.partitions.filter(p => p.state === 'failed');
  if (!failed.length) {
    return null;
  }
  return (
    <div className="jp-Batch-FailedPartitions">
      <div className="jp-Batch-SectionTitle">
        {trans.__('Failed partitions')}
      </div>
      {failed.map(p => (
        <details
          key={`${p.order}/${p.pixel}`}
          className="jp-Batch-Error jp-Batch-FailedPartition"
          data-partition={partitionName(p)}
        >
          <summary className="jp-Batch-ErrorTitle">
            {partitionName(p)}
            {p.error && (
              <>
                : <strong>{p.error.ename}</strong>: {p.error.evalue}
              </>
            )}
          </summary>
          {p.error && (
            <pre className="jp-Batch-Traceback">{p.error.traceback}</pre>
          )}
        </details>
      ))}
    </div>
  );
}

/**
 * Failed partitions and, once the run ended, the preview of its result, as
 * the model's catalog run follower last read them.
 */
export function CatalogRun(props: {
  job: Batch.IJob;
  run: ICatalogRun;
  trans?: TranslationBundle;
}): JSX.Element {
  const { job, run } = props;
  const trans = props.trans ?? loadTrans();
  const final = Batch.isFinal(job.state);
  const state = useSignalValue(run.changed, () => run.state);
  const mine = state?.jobId === job.id ? state : null;
  const preview = mine?.preview ?? null;
  return (
    <div className="jp-Batch-CatalogRun">
      <FailedPartitions partitions={mine?.partitions ?? []} trans={trans} />
      {final && (
        <div className="jp-Batch-PreviewSection">
          <div className="jp-Batch-SectionTitle">{trans.__('Preview')}</div>
          {preview === null ? (
            <div className="jp-Batch-Muted">{trans.__('Loading…')}</div>
          ) : 'error' in preview ? (
            <div className="jp-Batch-Muted">{preview.error}</div>
          ) : (
            <PreviewTable preview={preview} trans={trans} />
          )}
        </div>
      )}
    </div>
  );
}
