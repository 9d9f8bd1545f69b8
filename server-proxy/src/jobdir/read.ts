import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { z } from 'zod';
import type { LogChunk } from '../backends/types';
import { readJsonFile } from './files';

/** Reading what a job left in its folder: every backend reads the same files the same way. */

export function parseFile<T>(schema: z.ZodType<T>, file: string): T | null {
  const result = schema.safeParse(readJsonFile(file));
  return result.success ? result.data : null;
}

/** Length of the buffer without a trailing, incomplete UTF-8 character. */
function completeUtf8Length(buf: Buffer): number {
  let i = buf.length - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 3 && (buf[i] & 0xc0) === 0x80) {
    i--;
    continuation++;
  }
  if (i < 0) return buf.length;
  const lead = buf[i];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - i >= need ? buf.length : i;
}

/** Bytes of a log file from an offset, never ending inside a UTF-8 character. */
export function readLogChunk(file: string, from: number, maxBytes: number): LogChunk {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { text: '', from: 0, next: 0, size: 0 };
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.min(Math.max(0, from), size);
    const buf = Buffer.alloc(Math.min(maxBytes, size - start));
    const read = readSync(fd, buf, 0, buf.length, start);
    const usable = completeUtf8Length(buf.subarray(0, read));
    return { text: buf.subarray(0, usable).toString('utf8'), from: start, next: start + usable, size };
  } finally {
    closeSync(fd);
  }
}
