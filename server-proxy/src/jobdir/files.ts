import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, posix, resolve, sep } from 'node:path';
import type { CatalogPlan } from '../catalog';
import {
  type CatalogFile,
  type CodeEntry,
  JOB_FILES,
  type JobSpec,
  type PipelineFile,
  type RunFile,
  unhandledKind,
} from '@user-batch/contract';

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
  const savedFile = (): CodeBlob[] =>
    savedNotebook === null
      ? []
      : [
          {
            entry: {
              sha256: sha256(savedNotebook),
              kind: 'notebook-file',
              cellId: null,
              role: null,
              bytes: Buffer.byteLength(savedNotebook),
            },
            content: savedNotebook,
          },
        ];
  switch (spec.kind) {
    case 'catalog': {
      const { function: fn, setupSource } = spec.source.catalog;
      const pieces: CodeBlob[] = [...(setupSource ? [[setupSource, 'setup'] as const] : []), [fn.source, 'main'] as const].map(
        ([content, role]) => ({
          entry: { sha256: sha256(content), kind: 'function', cellId: null, role, bytes: Buffer.byteLength(content) },
          content,
        }),
      );
      return [...pieces, ...savedFile()];
    }
    case 'script': {
      const content = spec.source.script.content;
      return [
        { entry: { sha256: sha256(content), kind: 'script', cellId: 'script', role: 'main', bytes: Buffer.byteLength(content) }, content },
      ];
    }
    case 'notebook': {
      const content = JSON.stringify(spec.source.notebook);
      const entry: CodeEntry = { sha256: sha256(content), kind: 'notebook', cellId: null, role: null, bytes: Buffer.byteLength(content) };
      return [{ entry, content }];
    }
    case 'cells': {
      const cells: CodeBlob[] = spec.source.cells.map(cell => ({
        entry: { sha256: sha256(cell.source), kind: 'cell', cellId: cell.id, role: cell.role, bytes: Buffer.byteLength(cell.source) },
        content: cell.source,
      }));
      return [...cells, ...savedFile()];
    }
    case 'pipeline':
      // the pipeline's files are read when its graph is built: the plan carries them
      return [];
    default:
      return unhandledKind(spec);
  }
}

/** Whether the job's code came from a notebook file whose saved text is kept with it (cells and catalog functions). */
export function keepsSavedNotebook(spec: JobSpec): boolean {
  switch (spec.kind) {
    case 'cells':
    case 'catalog':
      return true;
    case 'notebook':
    case 'script':
    case 'pipeline':
      return false;
    default:
      return unhandledKind(spec);
  }
}

/** The folder under the Jupyter root that holds every job's output folder. */
export const OUTPUTS_FOLDER = 'batch-jobs';
/** How many characters of a job's id name it in its output folder and executed notebook. */
const SHORT_ID_LENGTH = 8;
/** The longest job name part of an output folder. */
const FOLDER_NAME_LENGTH = 40;

/**
 * The first characters of a job id: the id's time part (ids are the submit time in milliseconds,
 * base 36, then random hex), so two jobs differ unless submitted in the same millisecond.
 */
export function shortJobId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}

/**
 * A job name as a folder name: lower-case ASCII letters, digits, "-" and "_"; accents dropped
 * ("Réduction" → "reduction"), any other run of characters (spaces, quotes, slashes, dots) one "-",
 * at most 40 characters; "job" when nothing is left.
 */
export function folderSafeName(name: string): string {
  const safe = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, FOLDER_NAME_LENGTH)
    .replace(/[-_]+$/, '');
  return safe || 'job';
}

/** A date as YYYY-MM-DD in the proxy's local time zone (the day the person submitted). */
function localDate(at: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

/**
 * A new job's output folder, relative to the Jupyter root: `batch-jobs/<date>-<name>-<short id>`,
 * e.g. `batch-jobs/2026-12-02-fit-residuals-mx2b9ips`. Decided once, at submit, and recorded as
 * the job's outputDir; everything else reads the recorded path (older jobs have `batch-jobs/<id>`).
 * `wholeId` names it by the whole id, for the rare job whose short name is taken already.
 */
export function newOutputDirRelative(id: string, name: string, submittedAt: Date, wholeId = false): string {
  return posix.join(OUTPUTS_FOLDER, `${localDate(submittedAt)}-${folderSafeName(name)}-${wholeId ? id : shortJobId(id)}`);
}

/**
 * The executed notebook's file name, marked as a batch result so it never looks like the notebook
 * it came from (two "analysis.ipynb" tabs side by side): `analysis.batch-<short id>.ipynb`, for a
 * script `fit.batch-<short id>.ipynb`; null for catalog and pipeline runs (no notebook).
 */
export function outputNotebookName(spec: JobSpec, id: string): string | null {
  const name = basename(spec.source.notebookPath);
  const batch = `batch-${shortJobId(id)}`;
  switch (spec.kind) {
    case 'script':
      return `${name.replace(/\.py$/, '')}.${batch}.ipynb`;
    case 'cells':
    case 'notebook':
      return `${name.replace(/\.ipynb$/, '')}.${batch}.ipynb`;
    case 'catalog':
    case 'pipeline':
      return null;
    default:
      return unhandledKind(spec);
  }
}

function scriptCells(file: string, script: { content: string; args?: string[] }): { id: string; role: 'setup' | 'main'; source: string }[] {
  const argv = JSON.stringify([file, ...(script.args ?? [])]);
  return [
    {
      id: 'script-argv',
      role: 'setup',
      // as `python script.py` runs it: no value of a bare expression is shown
      source:
        `import sys\n__file__ = ${JSON.stringify(file)}\nsys.argv = ${argv}\n` +
        "if 'get_ipython' in globals():\n    get_ipython().ast_node_interactivity = 'none'",
    },
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

  /**
   * A job's output folder on disk, from its recorded outputDir (relative to the Jupyter root:
   * `batch-jobs/<date>-<name>-<short id>`, or `batch-jobs/<id>` for jobs stored before).
   */
  outputDir(job: { outputDir: string }): string {
    return join(this.rootDir, ...job.outputDir.split('/'));
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
   * A pipeline run takes its plan's folder: the graph and plan move in (the graph that was
   * estimated is the one that runs), and pipeline.json is written with the job's id and resources.
   */
  write(
    job: { id: string; outputDir: string; outputNotebook: string | null },
    spec: JobSpec,
    blobs: CodeBlob[] = codeBlobs(spec),
    catalog?: { dir: string; plan: CatalogPlan },
    pipeline?: { dir: string; file: PipelineFile },
  ): void {
    const { id } = job;
    const outputDir = this.outputDir(job);
    const dir = this.jobDir(id);
    mkdirSync(dir, { recursive: true });
    for (const blob of blobs) this.storeObject(blob.entry.sha256, blob.content);
    writeFileAtomic(join(dir, JOB_FILES.spec), JSON.stringify(spec, null, 2));
    switch (spec.kind) {
      case 'notebook':
        writeFileAtomic(join(dir, JOB_FILES.inputNotebook), JSON.stringify(spec.source.notebook));
        break;
      case 'catalog': {
        if (!catalog) break; // no plan (a stored job rewritten after a restart): nothing to write them from, as before
        const source = spec.source.catalog;
        writeFileAtomic(join(dir, JOB_FILES.plan), JSON.stringify(catalog.plan));
        writeFileAtomic(
          join(dir, JOB_FILES.catalog),
          JSON.stringify(
            {
              jobId: id,
              catalog: catalog.dir,
              region: source.region ?? null,
              columns: source.columns ?? null,
              function: {
                name: source.function.name,
                source: source.function.source,
                ...(source.setupSource ? { setupSource: source.setupSource } : {}),
              },
              partitions: catalog.plan.partitions.map(p => ({ order: p.order, pixel: p.pixel })),
              output: join(outputDir, 'result'),
              outputName: 'result',
              previewRows: 20,
              walltimeSeconds: spec.resources.walltimeSeconds,
            } satisfies CatalogFile,
            null,
            2,
          ),
        );
        break;
      }
      case 'pipeline': {
        if (!pipeline) break; // a stored job rewritten after a restart: its plan was moved in before
        for (const name of [JOB_FILES.pipelineGraph, JOB_FILES.pipelinePlan]) renameSync(join(pipeline.dir, name), join(dir, name));
        const file: PipelineFile = {
          ...pipeline.file,
          jobId: id,
          cpus: spec.resources.cpus,
          walltimeSeconds: spec.resources.walltimeSeconds,
        };
        writeFileAtomic(join(dir, JOB_FILES.pipeline), JSON.stringify(file, null, 2));
        break;
      }
      case 'cells':
      case 'script':
        break;
      default:
        unhandledKind(spec);
    }
    const run: RunFile = {
      jobId: id,
      kernelName: spec.source.kernelName ?? 'python3',
      notebookPath: spec.source.notebookPath,
      notebookDir: dirname(join(this.rootDir, spec.source.notebookPath)),
      ...this.whatRuns(spec),
      parameters: spec.parameters,
      outputDir,
      // the recorded name (older jobs: the notebook's own); a catalog or pipeline run writes none
      outputNotebook: job.outputNotebook !== null ? posix.basename(job.outputNotebook) : basename(spec.source.notebookPath),
      walltimeSeconds: spec.resources.walltimeSeconds,
      cpus: spec.resources.cpus,
      memoryMiB: spec.resources.memoryMiB,
    };
    // the sweep before run.json: run.json is the sign that the directory is complete
    if (spec.sweep) writeFileAtomic(join(dir, JOB_FILES.sweep), JSON.stringify(spec.sweep));
    writeFileAtomic(join(dir, JOB_FILES.run), JSON.stringify(run, null, 2));
    mkdirSync(outputDir, { recursive: true });
  }

  /** run.json's kind and what it runs: a script runs as cells (argv set-up cell, then the file). */
  private whatRuns(spec: JobSpec): Pick<RunFile, 'kind' | 'cells' | 'inputNotebook' | 'script'> {
    switch (spec.kind) {
      case 'cells':
        return { kind: 'cells', cells: spec.source.cells };
      case 'notebook':
        return { kind: 'notebook', inputNotebook: JOB_FILES.inputNotebook };
      case 'script':
        // __file__ and sys.argv as `python script.py args` would set them, then the file
        return {
          kind: 'cells',
          cells: scriptCells(join(this.rootDir, spec.source.notebookPath), spec.source.script),
          script: spec.source.notebookPath,
        };
      case 'catalog':
        return { kind: 'catalog' };
      case 'pipeline':
        return { kind: 'pipeline' };
      default:
        return unhandledKind(spec);
    }
  }

  isWritten(id: string): boolean {
    return existsSync(join(this.jobDir(id), JOB_FILES.run));
  }
}
