import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, posix, resolve, sep } from 'node:path';
import type { CatalogPlan } from './catalog';
import type { CodeEntry, JobSpec } from './schemas';

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** JSON with sorted keys, so equal specs hash equally whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function specHash(spec: JobSpec): string {
  const { idempotencyKey: _ignored, ...rest } = spec;
  return sha256(canonicalJson(rest));
}

/** Write to a temp name and rename, so a reader (or a crash) never sees half a file. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

export interface CodeBlob {
  entry: CodeEntry;
  content: string;
}

/**
 * The code a spec runs, each piece named by its sha256. For a cells job, `savedNotebook` is the
 * notebook file the cells came from as it was on disk at submit (null if it was never saved).
 */
export function codeBlobs(spec: JobSpec, savedNotebook: string | null = null): CodeBlob[] {
  if (spec.kind === 'catalog' && spec.source.catalog) {
    const { function: fn, setupSource } = spec.source.catalog;
    const pieces: CodeBlob[] = [...(setupSource ? [[setupSource, 'setup'] as const] : []), [fn.source, 'main'] as const].map(([content, role]) => ({
      entry: { sha256: sha256(content), kind: 'function', cellId: null, role, bytes: Buffer.byteLength(content) },
      content,
    }));
    if (savedNotebook === null) return pieces;
    return [...pieces, { entry: { sha256: sha256(savedNotebook), kind: 'notebook-file', cellId: null, role: null, bytes: Buffer.byteLength(savedNotebook) }, content: savedNotebook }];
  }
  if (spec.kind === 'script' && spec.source.script) {
    const content = spec.source.script.content;
    return [{ entry: { sha256: sha256(content), kind: 'script', cellId: 'script', role: 'main', bytes: Buffer.byteLength(content) }, content }];
  }
  if (spec.kind === 'notebook') {
    const content = JSON.stringify(spec.source.notebook);
    const entry: CodeEntry = { sha256: sha256(content), kind: 'notebook', cellId: null, role: null, bytes: Buffer.byteLength(content) };
    return [{ entry, content }];
  }
  const cells: CodeBlob[] = (spec.source.cells ?? []).map((cell) => ({
    entry: { sha256: sha256(cell.source), kind: 'cell', cellId: cell.id, role: cell.role, bytes: Buffer.byteLength(cell.source) },
    content: cell.source,
  }));
  if (savedNotebook === null) return cells;
  const file: CodeEntry = { sha256: sha256(savedNotebook), kind: 'notebook-file', cellId: null, role: null, bytes: Buffer.byteLength(savedNotebook) };
  return [...cells, { entry: file, content: savedNotebook }];
}

/** The executed notebook's file name: the notebook's own, or the script's with .ipynb. */
export function outputNotebookName(spec: JobSpec): string {
  const name = basename(spec.source.notebookPath);
  return spec.kind === 'script' ? `${name.replace(/\.py$/, '')}.ipynb` : name;
}

function scriptCells(file: string, script: { content: string; args?: string[] }): { id: string; role: 'setup' | 'main'; source: string }[] {
  const argv = JSON.stringify([file, ...(script.args ?? [])]);
  return [
    { id: 'script-argv', role: 'setup', source: `import sys\n__file__ = ${JSON.stringify(file)}\nsys.argv = ${argv}` },
    { id: 'script', role: 'main', source: script.content },
  ];
}

export class JobFiles {
  constructor(
    readonly dataDir: string,
    readonly rootDir: string,
  ) {}

  jobDir(id: string): string {
    return join(this.dataDir, 'jobs', id);
  }

  /** Relative to the Jupyter root, as the lab extension opens it. */
  outputDirRelative(id: string): string {
    return posix.join('batch-jobs', id);
  }

  outputDir(id: string): string {
    return join(this.rootDir, 'batch-jobs', id);
  }

  objectPath(hash: string): string {
    return join(this.dataDir, 'objects', 'sha256', hash.slice(0, 2), hash);
  }

  storeObject(hash: string, content: string): void {
    const file = this.objectPath(hash);
    if (!existsSync(file)) writeFileAtomic(file, content);
  }

  /** The notebook file as saved under the Jupyter root, or null (unsaved, or not a file). */
  savedNotebook(notebookPath: string): string | null {
    const file = resolve(this.rootDir, notebookPath);
    if (!file.startsWith(resolve(this.rootDir) + sep)) return null;
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  }

  /**
   * Everything the runner needs, written before anything starts. A catalog run also gets its
   * plan (plan.json) and the driver's input (catalog.json: the contract of user_batch.catalog_run).
   */
  write(id: string, spec: JobSpec, blobs: CodeBlob[] = codeBlobs(spec), catalog?: { dir: string; plan: CatalogPlan }): void {
    const dir = this.jobDir(id);
    mkdirSync(dir, { recursive: true });
    for (const blob of blobs) this.storeObject(blob.entry.sha256, blob.content);
    writeFileAtomic(join(dir, 'spec.json'), JSON.stringify(spec, null, 2));
    if (spec.kind === 'notebook') writeFileAtomic(join(dir, 'input.ipynb'), JSON.stringify(spec.source.notebook));
    if (spec.kind === 'catalog' && spec.source.catalog && catalog) {
      const source = spec.source.catalog;
      writeFileAtomic(join(dir, 'plan.json'), JSON.stringify(catalog.plan));
      writeFileAtomic(join(dir, 'catalog.json'), JSON.stringify({
        jobId: id,
        catalog: catalog.dir,
        region: source.region ?? null,
        columns: source.columns ?? null,
        function: { name: source.function.name, source: source.function.source, ...(source.setupSource ? { setupSource: source.setupSource } : {}) },
        partitions: catalog.plan.partitions.map((p) => ({ order: p.order, pixel: p.pixel })),
        output: join(this.outputDir(id), 'result'),
        outputName: 'result',
        previewRows: 20,
        walltimeSeconds: spec.resources.walltimeSeconds,
      }, null, 2));
    }
    const run = {
      jobId: id,
      kind: spec.kind,
      kernelName: spec.source.kernelName ?? 'python3',
      notebookPath: spec.source.notebookPath,
      notebookDir: dirname(join(this.rootDir, spec.source.notebookPath)),
      ...(spec.kind === 'cells' ? { cells: spec.source.cells ?? [] } : spec.kind === 'notebook' ? { inputNotebook: 'input.ipynb' } : {}),
      // a script runs as cells: __file__ and sys.argv as `python script.py args` would set them, then the file
      ...(spec.kind === 'script' && spec.source.script ? { kind: 'cells', cells: scriptCells(join(this.rootDir, spec.source.notebookPath), spec.source.script) } : {}),
      parameters: spec.parameters,
      outputDir: this.outputDir(id),
      outputNotebook: outputNotebookName(spec),
      walltimeSeconds: spec.resources.walltimeSeconds,
      cpus: spec.resources.cpus,
      memoryMiB: spec.resources.memoryMiB,
    };
    // the sweep before run.json: run.json is the sign that the directory is complete
    if (spec.sweep) writeFileAtomic(join(dir, 'sweep.json'), JSON.stringify(spec.sweep));
    writeFileAtomic(join(dir, 'run.json'), JSON.stringify(run, null, 2));
    mkdirSync(this.outputDir(id), { recursive: true });
  }

  isWritten(id: string): boolean {
    return existsSync(join(this.jobDir(id), 'run.json'));
  }
}
