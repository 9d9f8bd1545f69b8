/**
 * Row counts and column chunk sizes from a Parquet footer, fast.
 *
 * Why not hyparquet's parquetMetadata here: it turns every field of every column chunk
 * (statistics, encodings, BigInts, ...) into objects. A HATS dataset/_metadata for 12,288
 * partitions x 20 columns is ~35 MB of footer and took 3-6 s that way, mostly in the garbage
 * collector. The planner needs three things per column chunk (file path, top-level column name,
 * compressed size) and the row count per row group, so this walks the Thrift compact encoding
 * once, keeps those and skips everything else without allocating. hyparquet still reads the
 * schema (small) and the per-file footers of the fallback.
 *
 * Format facts used (Apache Parquet's parquet.thrift, Thrift compact protocol):
 *   FileMetaData: 4 = row_groups: list<RowGroup>
 *   RowGroup:     1 = columns: list<ColumnChunk>, 3 = num_rows: i64
 *   ColumnChunk:  1 = file_path: string, 3 = meta_data: ColumnMetaData
 *   ColumnMetaData: 3 = path_in_schema: list<string>, 7 = total_compressed_size: i64
 *   Field header byte: high nibble = field id delta (0: an i16 id follows), low nibble = type;
 *   integers are zigzag varints; list header: high nibble = size (15: varint size follows),
 *   low nibble = element type.
 */

const T_STOP = 0;
const T_TRUE = 1;
const T_FALSE = 2;
const T_BYTE = 3;
const T_I16 = 4;
const T_I32 = 5;
const T_I64 = 6;
const T_DOUBLE = 7;
const T_BINARY = 8;
const T_LIST = 9;
const T_SET = 10;
const T_MAP = 11;
const T_STRUCT = 12;

export interface RowGroupSizes {
  /** file_path of the row group's first column chunk ('' when absent, as in a single file's footer). */
  filePath: string;
  rows: number;
  /** Compressed bytes per top-level column, in the order of the `columns` given (or learnt). */
  columnBytes: Float64Array;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  /**
   * No bounds check per byte (this is the hot loop): a typed array read past the end gives
   * undefined, which decodes as 0 (STOP, or a final varint byte), so every loop still ends;
   * lists are checked against the bytes left, and each row group against the buffer's end.
   */
  byte(): number {
    return this.buf[this.pos++];
  }

  /** Unsigned varint as a double: exact up to 2^53, enough for sizes and counts. */
  varint(): number {
    const buf = this.buf;
    let b = buf[this.pos++];
    if (b < 0x80) return b; // most values here fit in one byte
    let result = b & 0x7f;
    let mult = 128;
    for (;;) {
      b = buf[this.pos++];
      if (b === undefined) return result;
      result += (b & 0x7f) * mult;
      if (b < 0x80) return result;
      mult *= 128;
    }
  }

  /** Throw if the walk ran past the end of the footer. */
  checkEnd(): void {
    if (this.pos > this.buf.length) throw new Error('Parquet footer ends early (truncated or not a Parquet footer)');
  }

  zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  /** Where the last binary value starts; bytes() returns its length. (No tuples: no garbage.) */
  start = 0;
  /** The field just read by field(), and the element type of the list just opened. */
  fieldId = 0;
  fieldType = 0;
  elemType = 0;

  bytes(): number {
    const len = this.varint();
    this.start = this.pos;
    this.pos += len;
    if (this.pos > this.buf.length) throw new Error('Parquet footer ends early (truncated or not a Parquet footer)');
    return len;
  }

  string(): string {
    const len = this.bytes();
    return decoder.decode(this.buf.subarray(this.start, this.start + len));
  }

  /** Read the next field header of a struct into fieldId/fieldType; false at STOP. */
  field(lastId: number): boolean {
    const header = this.byte();
    this.fieldType = header & 0x0f;
    if (this.fieldType === T_STOP) return false;
    const delta = header >> 4;
    this.fieldId = delta === 0 ? this.zigzag() : lastId + delta;
    return true;
  }

  /** Open a list: returns its size, sets elemType. Every element takes at least one byte. */
  listHeader(): number {
    const header = this.byte();
    this.elemType = header & 0x0f;
    const size = header >> 4 === 15 ? this.varint() : header >> 4;
    if (size > this.buf.length - this.pos) throw new Error('Parquet footer has a list longer than the footer (corrupt)');
    return size;
  }

  skip(type: number): void {
    switch (type) {
      case T_TRUE:
      case T_FALSE:
        return; // a struct field's bool lives in its header
      case T_BYTE:
        this.pos += 1;
        return;
      case T_I16:
      case T_I32:
      case T_I64:
        this.varint();
        return;
      case T_DOUBLE:
        this.pos += 8;
        return;
      case T_BINARY:
        this.bytes();
        return;
      case T_LIST:
      case T_SET:
        return this.skipList();
      case T_MAP:
        return this.skipMap();
      case T_STRUCT:
        return this.skipStruct();
      default:
        throw new Error(`unknown Thrift type ${type} in Parquet footer`);
    }
  }

  private skipList(): void {
    const size = this.listHeader();
    const elem = this.elemType;
    // bools inside a list take one byte each
    if (elem === T_TRUE || elem === T_FALSE) this.pos += size;
    else for (let i = 0; i < size; i++) this.skip(elem);
  }

  private skipMap(): void {
    const size = this.varint();
    if (size === 0) return;
    const kinds = this.byte();
    for (let i = 0; i < size; i++) {
      this.skip(kinds >> 4);
      this.skip(kinds & 0x0f);
    }
  }

  skipStruct(): void {
    let id = 0;
    while (this.field(id)) {
      id = this.fieldId;
      this.skip(this.fieldType);
    }
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Matches a column chunk's top-level name to a column index by comparing raw bytes, so the
 * hundreds of thousands of chunk names in a big _metadata are never decoded into strings.
 */
class ColumnMatcher {
  private encoded: Uint8Array[];
  /** Which column the chunk at each position matched last time: row groups repeat the order. */
  private lastAt: number[] = [];

  constructor(readonly names: string[]) {
    this.encoded = names.map(n => encoder.encode(n));
  }

  /** Column index of the name in buf[start, start+len), -1 if it is not a known column. */
  match(buf: Uint8Array, start: number, len: number, position: number): number {
    const guess = this.lastAt[position];
    if (guess !== undefined && this.equals(guess, buf, start, len)) return guess;
    for (let i = 0; i < this.encoded.length; i++) {
      if (this.equals(i, buf, start, len)) return (this.lastAt[position] = i);
    }
    return -1;
  }

  /** Used when no schema was available: learn names from the first row group. */
  add(name: string): number {
    this.names.push(name);
    this.encoded.push(encoder.encode(name));
    return this.names.length - 1;
  }

  private equals(i: number, buf: Uint8Array, start: number, len: number): boolean {
    const e = this.encoded[i];
    if (e.length !== len) return false;
    for (let k = 0; k < len; k++) if (e[k] !== buf[start + k]) return false;
    return true;
  }
}

/**
 * Parse the footer bytes (without the trailing length and PAR1 magic). `columns` are the
 * top-level column names to total bytes for; when null they are learnt from the first row group
 * (and returned in `columns`).
 */
export function readRowGroupSizes(footer: Uint8Array, columns: string[] | null): { columns: string[]; groups: RowGroupSizes[] } {
  const r = new Reader(footer);
  const matcher = new ColumnMatcher(columns ? [...columns] : []);
  const learn = columns === null;
  const groups: RowGroupSizes[] = [];
  let id = 0;
  while (r.field(id)) {
    id = r.fieldId;
    if (id === 4 && r.fieldType === T_LIST) {
      const size = r.listHeader();
      for (let i = 0; i < size; i++) {
        groups.push(readRowGroup(r, matcher, learn && i === 0));
        r.checkEnd();
      }
    } else {
      r.skip(r.fieldType);
    }
  }
  r.checkEnd();
  return { columns: matcher.names, groups };
}

/** The chunk just read: reused, so the walk allocates nothing per column chunk. */
const hit = { at: -1, bytes: 0 };

function readRowGroup(r: Reader, matcher: ColumnMatcher, learn: boolean): RowGroupSizes {
  const group: RowGroupSizes = { filePath: '', rows: 0, columnBytes: new Float64Array(matcher.names.length) };
  let id = 0;
  while (r.field(id)) {
    id = r.fieldId;
    if (id === 1 && r.fieldType === T_LIST) {
      const size = r.listHeader();
      for (let i = 0; i < size; i++) {
        readColumnChunk(r, group, i, matcher, learn);
        if (hit.at < 0) continue;
        // learning adds names as it goes: grow the array (first row group only)
        if (hit.at >= group.columnBytes.length) {
          const grown = new Float64Array(matcher.names.length);
          grown.set(group.columnBytes);
          group.columnBytes = grown;
        }
        group.columnBytes[hit.at] += hit.bytes;
      }
    } else if (id === 3 && r.fieldType === T_I64) {
      group.rows = r.zigzag();
    } else {
      r.skip(r.fieldType);
    }
  }
  return group;
}

function readColumnChunk(r: Reader, group: RowGroupSizes, position: number, matcher: ColumnMatcher, learn: boolean): void {
  hit.at = -1;
  hit.bytes = 0;
  let id = 0;
  while (r.field(id)) {
    id = r.fieldId;
    if (id === 1 && r.fieldType === T_BINARY && position === 0) group.filePath = r.string();
    else if (id === 3 && r.fieldType === T_STRUCT) readColumnMeta(r, position, matcher, learn);
    else r.skip(r.fieldType);
  }
}

function readColumnMeta(r: Reader, position: number, matcher: ColumnMatcher, learn: boolean): void {
  let id = 0;
  while (r.field(id)) {
    id = r.fieldId;
    if (id === 3 && r.fieldType === T_LIST) {
      const size = r.listHeader();
      for (let i = 0; i < size; i++) {
        const len = r.bytes();
        if (i > 0) continue; // nested columns: only the top-level name counts
        hit.at = matcher.match(r.buf, r.start, len, position);
        if (hit.at < 0 && learn) hit.at = matcher.add(decoder.decode(r.buf.subarray(r.start, r.start + len)));
      }
    } else if (id === 7 && r.fieldType === T_I64) {
      hit.bytes = r.zigzag();
    } else {
      r.skip(r.fieldType);
    }
  }
}
