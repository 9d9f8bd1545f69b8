/**
 * A catalog run's preview: the first rows of its result, read from Arrow IPC
 * into text cells ready to render.
 */
import { DataType, tableFromIPC } from 'apache-arrow';

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
