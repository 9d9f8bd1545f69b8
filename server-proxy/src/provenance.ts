import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, sha256, type JobFiles } from './jobdir';
import type { OutputFile, Provenance } from './schemas';
import { toJob, type JobRecord, type JobStore } from './store/jobs';

/** The record that answers "what exactly produced this file?". */
export function buildProvenance(
  job: JobRecord,
  store: JobStore,
  files: JobFiles,
  outputs: OutputFile[],
  proxyVersion: string,
): Provenance {
  const dir = files.jobDir(job.id);
  const notebookEntry = job.code.find((c) => c.kind === 'notebook' || c.kind === 'notebook-file' || c.kind === 'script');
  return {
    schemaVersion: 1,
    job: toJob(job),
    spec: job.spec,
    specSha256: job.specSha256,
    code: job.code,
    notebook: { path: job.notebookPath, sha256: notebookEntry?.sha256 ?? null },
    parameters: job.spec.parameters,
    environment: readJsonFile(join(dir, 'env.json')),
    backend: { name: job.backend, ref: job.backendRef },
    launch: readJsonFile(join(dir, 'launch.json')),
    exit: readJsonFile(join(dir, 'exit.json')),
    events: store.events(job.id),
    outputs,
    logs: logRecords(dir),
    catalog: job.kind === 'catalog' ? { plan: readJsonFile(join(dir, 'plan.json')), run: readJsonFile(join(dir, 'catalog-provenance.json')) } : null,
    proxyVersion,
  };
}

function logRecords(dir: string): Provenance['logs'] {
  const file = join(dir, 'output.log');
  try {
    return [{ name: 'output.log', size: statSync(file).size, sha256: sha256(readFileSync(file)) }];
  } catch {
    return [];
  }
}
