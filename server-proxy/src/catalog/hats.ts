import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { CatalogError } from './errors';
import { type RowGroupSizes, readRowGroupSizes } from './footer-sizes';
import { type FileMetaData, readFooter, readFooterBytes, readMetadataFile } from './parquet';

/**
 * Reads what a plan needs from a HATS catalog folder, without touching its data:
 *   partition_info.csv   the partitions (Norder,Npix)
 *   hats.properties      name, ra/dec column names, row count
 *   dataset/_metadata    one Parquet footer holding every partition file's row groups
 * If dataset/_metadata is missing, each partition file's own footer is read instead (slower:
 * one open per partition).
 */

export interface Column {
  name: string;
  /** Parquet logical type if any (STRING, INTEGER, ...), else the physical type (DOUBLE, INT64...). */
  type: string;
}

export interface Partition {
  order: number;
  pixel: number;
  /** Absolute path of the partition's Parquet file. */
  path: string;
  rows: number;
  /** On-disk (compressed) bytes of all its column chunks. */
  bytes: number;
  /** On-disk bytes per column, in the order of CatalogInfo.columns. */
  columnBytes: Float64Array;
}

export interface CatalogInfo {
  dir: string;
  name: string;
  raColumn: string;
  decColumn: string;
  totalRows: number;
  columns: Column[];
  partitions: Partition[];
  /** Where the partition sizes came from. */
  footers: '_metadata' | 'partition files';
}

const notHats = (dir: string, what: string) =>
  new CatalogError(
    'not_hats',
    `${dir} is not a HATS catalog: ${what}. A HATS catalog folder holds partition_info.csv, hats.properties ` +
      'and dataset/; choose the catalog folder itself, or write one with lsdb (catalog.to_hats(path)) or hats-import.',
  );

/**
 * Parsed catalogs, keyed by folder and checked against the index files' size and mtime on every
 * use, so re-planning (the dialog re-plans as the region changes) does not re-read a big
 * _metadata, and a rewritten catalog is never served stale.
 */
const cache = new Map<string, { stamp: string; info: CatalogInfo }>();
const CACHE_ENTRIES = 8;

async function stamp(dir: string): Promise<string> {
  const files = ['partition_info.csv', 'hats.properties', 'dataset/_metadata', 'dataset/_common_metadata'];
  const stats = await Promise.all(files.map(f => stat(`${dir}/${f}`).catch(() => undefined)));
  return stats.map(s => (s ? `${s.size}:${s.mtimeMs}` : '-')).join('|');
}

export interface ReadOptions {
  /** Reuse a parse of the same, unchanged catalog (default true). */
  cache?: boolean;
}

export async function readCatalogInfo(catalogDir: string, options: ReadOptions = {}): Promise<CatalogInfo> {
  const dir = resolve(catalogDir).replace(/\/+$/, '');
  await checkFolder(dir);
  if (options.cache === false) return readUncached(dir);
  const now = await stamp(dir);
  const hit = cache.get(dir);
  if (hit && hit.stamp === now) return hit.info;
  const info = await readUncached(dir);
  cache.delete(dir);
  cache.set(dir, { stamp: now, info });
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  return info;
}

async function readUncached(dir: string): Promise<CatalogInfo> {
  const [pixels, properties] = await Promise.all([readPartitionInfo(dir), readProperties(dir)]);
  const metadataPath = join(dir, 'dataset', '_metadata');
  const haveMetadata = await isFile(metadataPath);
  const { columns, sizes } = haveMetadata ? await summarizeMetadata(dir, pixels, metadataPath) : await summarizePartitionFiles(dir, pixels);
  const partitions = pixels.map(({ order, pixel }) => {
    const size = sizes.get(partitionKey(order, pixel));
    if (!size) {
      throw notHats(
        dir,
        `dataset/_metadata does not describe partition Norder=${order} Npix=${pixel} listed in partition_info.csv (regenerate _metadata, e.g. with hats' write_parquet_metadata)`,
      );
    }
    let bytes = 0;
    for (const b of size.columnBytes) bytes += b;
    return { order, pixel, path: `${dir}/${partitionFile(order, pixel)}`, rows: size.rows, bytes, columnBytes: size.columnBytes };
  });
  const rowsFromFooters = partitions.reduce((a, p) => a + p.rows, 0);
  return {
    dir,
    name: properties.get('obs_collection') ?? properties.get('catalog_name') ?? basename(dir),
    raColumn: properties.get('hats_col_ra') ?? 'ra',
    decColumn: properties.get('hats_col_dec') ?? 'dec',
    totalRows: Number(properties.get('hats_nrows') ?? rowsFromFooters),
    columns,
    partitions,
    footers: haveMetadata ? '_metadata' : 'partition files',
  };
}

/** dataset/Norder=K/Dir=D/Npix=N.parquet, D = (N // 10000) * 10000 */
export function partitionFile(order: number, pixel: number): string {
  // plain concatenation, not path.join: it runs once per partition (12,288 and more)
  return `dataset/Norder=${order}/Dir=${Math.floor(pixel / 10000) * 10000}/Npix=${pixel}.parquet`;
}

const partitionKey = (order: number, pixel: number) => order * 2 ** 32 + pixel;

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

async function checkFolder(dir: string): Promise<void> {
  const s = await stat(dir).catch(() => undefined);
  if (!s) throw new CatalogError('not_hats', `${dir} does not exist; give the path of a HATS catalog folder.`);
  if (!s.isDirectory()) throw notHats(dir, 'it is a file, not a folder');
  if (await isFile(join(dir, 'partition_info.csv'))) return;
  const names = await readdir(dir);
  if (names.includes('collection.properties')) {
    throw notHats(dir, 'it is a HATS collection (collection.properties), not a catalog; choose the catalog folder inside it');
  }
  if (names.some(n => n.endsWith('.parquet'))) {
    throw notHats(dir, 'partition_info.csv is missing (the folder holds plain Parquet files, which have no HEALPix partition index)');
  }
  throw notHats(dir, 'partition_info.csv is missing');
}

interface Pixel {
  order: number;
  pixel: number;
}

async function readPartitionInfo(dir: string): Promise<Pixel[]> {
  const text = await readFile(join(dir, 'partition_info.csv'), 'utf8');
  const lines = text.split(/\r?\n/).filter(l => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map(h => h.trim());
  const orderAt = header.indexOf('Norder');
  const pixelAt = header.indexOf('Npix');
  if (orderAt < 0 || pixelAt < 0) throw notHats(dir, `partition_info.csv has no Norder,Npix header (got "${lines[0] ?? ''}")`);
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    const order = Number(cells[orderAt]);
    const pixel = Number(cells[pixelAt]);
    if (!Number.isInteger(order) || !Number.isInteger(pixel) || order < 0 || order > 29 || pixel < 0 || pixel >= 12 * 4 ** order) {
      throw notHats(dir, `partition_info.csv line ${i + 2} is not a valid Norder,Npix pair ("${line}")`);
    }
    return { order, pixel };
  });
}

/** key=value lines; '#' starts a comment. */
async function readProperties(dir: string): Promise<Map<string, string>> {
  const text = await readFile(join(dir, 'hats.properties'), 'utf8').catch(() => {
    throw notHats(dir, 'hats.properties is missing');
  });
  const props = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf('=');
    if (line.trimStart().startsWith('#') || at < 0) continue;
    props.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return props;
}

interface Size {
  rows: number;
  columnBytes: Float64Array;
}

/** Add row groups' rows and column bytes up per partition file. */
function addSizes(sizes: Map<number, Size>, width: number, groups: RowGroupSizes[], onlyFile?: string): void {
  for (const group of groups) {
    const key = fileKey(onlyFile ?? group.filePath);
    if (key === undefined) continue;
    const size = sizes.get(key);
    if (!size) {
      // most partitions are one row group: keep its array rather than copy it
      const columnBytes = group.columnBytes.length === width ? group.columnBytes : new Float64Array(width);
      if (columnBytes !== group.columnBytes) columnBytes.set(group.columnBytes.subarray(0, width));
      sizes.set(key, { rows: group.rows, columnBytes });
      continue;
    }
    size.rows += group.rows;
    for (let i = 0; i < width && i < group.columnBytes.length; i++) size.columnBytes[i] += group.columnBytes[i];
  }
}

const FILE_PATH = /Norder=(\d+)\/Dir=\d+\/Npix=(\d+)\.parquet$/;
function fileKey(path: string): number | undefined {
  const m = FILE_PATH.exec(path.replaceAll('\\', '/'));
  return m ? partitionKey(Number(m[1]), Number(m[2])) : undefined;
}

/** The schema is flattened depth-first; walk it to keep only the root's direct children. */
function topLevelColumns(meta: FileMetaData): Column[] {
  const schema = meta.schema;
  const columns: Column[] = [];
  let i = 1;
  const skip = (at: number): number => {
    let next = at + 1;
    for (let c = 0; c < (schema[at].num_children ?? 0); c++) next = skip(next);
    return next;
  };
  for (let c = 0; c < (schema[0]?.num_children ?? 0); c++) {
    const el = schema[i];
    const physical = el.num_children ? 'STRUCT' : (el.type ?? 'UNKNOWN');
    columns.push({ name: el.name, type: String(el.logical_type?.type ?? el.converted_type ?? physical) });
    i = skip(i);
  }
  return columns;
}

/** hyparquet's footer as the row-group sizes the summary adds up. */
function groupSizes(meta: FileMetaData, columns: Column[]): RowGroupSizes[] {
  const index = new Map(columns.map((c, i) => [c.name, i]));
  return meta.row_groups.map(g => {
    const columnBytes = new Float64Array(columns.length);
    for (const c of g.columns) {
      const at = index.get(c.meta_data?.path_in_schema[0] ?? '');
      if (at !== undefined) columnBytes[at] += Number(c.meta_data?.total_compressed_size ?? 0);
    }
    return { filePath: g.columns[0]?.file_path ?? '', rows: Number(g.num_rows), columnBytes };
  });
}

/** Columns from dataset/_common_metadata (schema only, small), else from the first partition file. */
async function readSchemaColumns(dir: string, pixels: Pixel[]): Promise<Column[] | null> {
  const common = `${dir}/dataset/_common_metadata`;
  if (await isFile(common)) return topLevelColumns(await readMetadataFile(common));
  const first = pixels[0] && `${dir}/${partitionFile(pixels[0].order, pixels[0].pixel)}`;
  if (first && (await isFile(first))) return topLevelColumns(await readFooter(first));
  return null;
}

async function summarizeMetadata(dir: string, pixels: Pixel[], metadataPath: string) {
  const schema = await readSchemaColumns(dir, pixels);
  let read: ReturnType<typeof readRowGroupSizes>;
  try {
    read = readRowGroupSizes(await readFooterBytes(metadataPath), schema ? schema.map(c => c.name) : null);
  } catch (e) {
    throw notHats(
      dir,
      `dataset/_metadata cannot be read (${(e as Error).message}); regenerate it, or delete it to fall back to the partition files`,
    );
  }
  // no schema anywhere: the names found in _metadata, type unknown
  const columns = schema ?? read.columns.map(name => ({ name, type: 'UNKNOWN' }));
  const sizes = new Map<number, Size>();
  addSizes(sizes, columns.length, read.groups);
  return { columns, sizes };
}

async function summarizePartitionFiles(dir: string, pixels: Pixel[]) {
  let columns: Column[] | undefined;
  const sizes = new Map<number, Size>();
  // a few at a time: many small reads, but without exhausting file descriptors
  const queue = [...pixels];
  const worker = async () => {
    for (let p = queue.shift(); p; p = queue.shift()) {
      const rel = partitionFile(p.order, p.pixel);
      const path = `${dir}/${rel}`;
      if (!(await isFile(path))) {
        throw notHats(dir, `dataset/_metadata is missing and partition file ${rel}, listed in partition_info.csv, is missing too`);
      }
      const meta = await readFooter(path);
      columns ??= topLevelColumns(meta);
      addSizes(sizes, columns.length, groupSizes(meta, columns), rel);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { columns: columns ?? [], sizes };
}
