/**
 * The parts of the job details only a catalog run has: its failed
 * partitions with their tracebacks and a preview of the result's first rows.
 */
import { DataType, tableFromIPC } from 'apache-arrow';
import * as React from 'react';

import { Batch } from '../tokens';

/** The preview shows at most this many rows (the proxy sends up to 20). */
export const PREVIEW_ROWS = 20;

/** A preview as text cells, ready to render. */
export interface IPreview {
  columns: string[];
  rows: string[][];
  /** Which columns hold numbers, to align them right. */
  numeric: boolean[];
}

/**
 * A number in few characters: integers as they are, others to 6
 * significant digits, very large or small ones in exponent form.
 */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'bigint') {
    return value.toString();
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value) || !Number.isFinite(value)) {
      return String(value);
    }
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-4 || abs >= 1e9)) {
      return value.toExponential(3);
    }
    return String(Number(value.toPrecision(6)));
  }
  if (value instanceof Date) {
    return value.toISOString();
  }
  if (typeof value === 'object') {
    return JSON.stringify(value, (_, v) =>
      typeof v === 'bigint' ? v.toString() : v
    );
  }
  return String(value);
}

/**
 * Read an Arrow IPC buffer (file or stream format) into text cells.
 */
export function readPreview(
  buffer: ArrayBuffer | Uint8Array,
  maxRows = PREVIEW_ROWS
): IPreview {
  const table = tableFromIPC(
    buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer)
  );
  const fields = table.schema.fields;
  const rows: string[][] = [];
  const count = Math.min(table.numRows, maxRows);
  const vectors = fields.map((_, index) => table.getChildAt(index));
  for (let row = 0; row < count; row++) {
    rows.push(vectors.map(vector => formatCell(vector?.get(row))));
  }
  return {
    columns: fields.map(field => field.name),
    rows,
    numeric: fields.map(
      field =>
        DataType.isInt(field.type) ||
        DataType.isFloat(field.type) ||
        DataType.isDecimal(field.type)
    )
  };
}

export function PreviewTable(props: { preview: IPreview }): JSX.Element {
  const { columns, rows, numeric } = props.preview;
  if (rows.length === 0) {
    return <div className="jp-Batch-Muted">The result has no rows.</div>;
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
}): JSX.Element | null {
  const failed = props.partitions.filter(p => p.state === 'failed');
  if (!failed.length) {
    return null;
  }
  return (
    <div className="jp-Batch-FailedPartitions">
      <div className="jp-Batch-SectionTitle">Failed partitions</div>
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

/** What the catalog run section reads; the sidebar passes the model's. */
export interface ICatalogRunLoaders {
  getPartitions(id: string): Promise<Batch.IPartition[]>;
  getPreview(id: string): Promise<ArrayBuffer | null>;
}

/**
 * Failed partitions (read again as the failed count grows) and, once the run
 * ended, the preview of its result.
 */
export function CatalogRun(props: {
  job: Batch.IJob;
  loaders: ICatalogRunLoaders;
}): JSX.Element {
  const { job, loaders } = props;
  const final = Batch.isFinal(job.state);
  const failed = job.progress?.failed ?? 0;
  const [partitions, setPartitions] = React.useState<Batch.IPartition[]>([]);
  const [preview, setPreview] = React.useState<
    IPreview | { error: string } | null
  >(null);

  React.useEffect(() => {
    if (!failed) {
      setPartitions([]);
      return;
    }
    let current = true;
    loaders
      .getPartitions(job.id)
      .then(list => current && setPartitions(list))
      .catch(() => undefined); // shown again on the next change
    return () => {
      current = false;
    };
  }, [job.id, failed, final]);

  React.useEffect(() => {
    setPreview(null);
    if (!final) {
      return;
    }
    let current = true;
    loaders
      .getPreview(job.id)
      .then(buffer => {
        if (current) {
          setPreview(
            buffer
              ? readPreview(buffer)
              : { error: 'This run left no result to preview.' }
          );
        }
      })
      .catch(reason => {
        if (current) {
          setPreview({
            error: `The preview cannot be shown: ${
              reason instanceof Error ? reason.message : String(reason)
            }. The result is in the job's output folder under result/.`
          });
        }
      });
    return () => {
      current = false;
    };
  }, [job.id, final]);

  return (
    <div className="jp-Batch-CatalogRun">
      <FailedPartitions partitions={partitions} />
      {final && (
        <div className="jp-Batch-PreviewSection">
          <div className="jp-Batch-SectionTitle">Preview</div>
          {preview === null ? (
            <div className="jp-Batch-Muted">Loading…</div>
          ) : 'error' in preview ? (
            <div className="jp-Batch-Muted">{preview.error}</div>
          ) : (
            <PreviewTable preview={preview} />
          )}
        </div>
      )}
    </div>
  );
}
