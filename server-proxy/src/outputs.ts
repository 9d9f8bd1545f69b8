import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, posix, sep } from 'node:path';
import { HttpError } from './errors';
import type { OutputFile } from '@user-batch/contract';

function hashFile(file: string): string {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let n: number;
    while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** `**` any depth, `*` and `?` within one path segment. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Regular files under the output folder; symbolic links are never followed. */
export function listOutputs(outputDir: string, outputDirRelative: string, globs?: readonly string[]): OutputFile[] {
  const patterns = globs && globs.length > 0 ? globs.map(globToRegExp) : null;
  const found: OutputFile[] = [];
  const walk = (dir: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const abs = join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const st = lstatSync(abs);
      if (st.isDirectory()) walk(abs, relPath);
      else if (st.isFile() && (!patterns || patterns.some(p => p.test(relPath)))) {
        found.push({ path: relPath, size: st.size, sha256: hashFile(abs), jupyterPath: posix.join(outputDirRelative, relPath) });
      }
    }
  };
  walk(outputDir, '');
  return found;
}

const traversal = (): HttpError =>
  new HttpError(400, 'invalid_path', "That output path leaves the job's output folder; use a path from the job's output list.");

/** The real path of an output file, refusing anything that escapes the output folder. */
export function resolveOutputFile(outputDir: string, relPath: string): string {
  const parts = relPath.split('/');
  if (relPath === '' || isAbsolute(relPath) || relPath.includes('\\') || relPath.includes('\0') || parts.includes('..')) {
    throw traversal();
  }
  let root: string;
  let real: string;
  try {
    root = realpathSync(outputDir);
  } catch {
    throw new HttpError(404, 'not_found', 'This job has no output folder yet.');
  }
  try {
    real = realpathSync(join(outputDir, ...parts));
  } catch {
    throw new HttpError(404, 'not_found', `No output file "${relPath}" in this job's output folder.`);
  }
  if (!real.startsWith(root + sep)) throw traversal();
  if (!statSync(real).isFile()) throw new HttpError(404, 'not_found', `"${relPath}" is not a file.`);
  return real;
}
