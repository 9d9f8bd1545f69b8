import { open, readFile } from 'node:fs/promises';
import type { FileMetaData } from 'hyparquet' with { 'resolution-mode': 'import' };
import { loadHyparquet } from './hyparquet-loader';

export type { FileMetaData };

/** Parse a whole file that is nothing but a Parquet footer (dataset/_common_metadata). */
export async function readMetadataFile(path: string): Promise<FileMetaData> {
  const buf = await readFile(path);
  const { parquetMetadata } = await loadHyparquet();
  return parquetMetadata(toArrayBuffer(buf));
}

/**
 * The raw Thrift footer of a Parquet file read whole (dataset/_metadata):
 * layout is ... footer, footer length (4 bytes LE), "PAR1".
 */
export async function readFooterBytes(path: string): Promise<Uint8Array> {
  const buf = await readFile(path);
  const size = buf.length;
  if (size < 12 || buf.toString('latin1', size - 4) !== 'PAR1') throw new Error(`${path} is not a Parquet file`);
  const footerLength = buf.readUInt32LE(size - 8);
  if (footerLength > size - 12) throw new Error(`${path} has a corrupt Parquet footer length`);
  return buf.subarray(size - 8 - footerLength, size - 8);
}

/** Read only the footer of a Parquet data file: its last 8 bytes give the footer length. */
export async function readFooter(path: string): Promise<FileMetaData> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const tail = Buffer.alloc(8);
    await fh.read(tail, 0, 8, size - 8);
    if (size < 12 || tail.toString('latin1', 4) !== 'PAR1') throw new Error(`${path} is not a Parquet file`);
    const footerLength = tail.readUInt32LE(0);
    const footer = Buffer.alloc(footerLength + 8);
    await fh.read(footer, 0, footerLength + 8, size - footerLength - 8);
    const { parquetMetadata } = await loadHyparquet();
    return parquetMetadata(toArrayBuffer(footer));
  } finally {
    await fh.close();
  }
}

/** A Buffer may be a view into a larger pooled ArrayBuffer: hand hyparquet exactly its bytes. */
function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}
