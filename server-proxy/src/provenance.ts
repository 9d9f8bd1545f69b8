import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, sha256, type JobFiles } from './jobdir';
import { JOB_FILES, type OutputFile, type Provenance, runsOverPartitions } from '@user-batch/contract';
import { toJob, type JobRecord, type JobStore } from './store/jobs';

/** The record that answers "what exactly produced this file?". */
export function buildProvenance(job: JobRecord, store: JobStore, files: JobFiles, outputs: OutputFile[], proxyVersion: string): Provenance {
  const dir = files.jobDir(job.id);
  const notebookEntry = job.code.find(c => c.kind === 'notebook' || c.kind === 'notebook-file' || c.kind === 'script');
  return {
    schemaVersion: 1,
    job: toJob(job),
    spec: job.spec,
    specSha256: job.specSha256,
    code: job.code,
    notebook: { path: job.notebookPath, sha256: notebookEntry?.sha256 ?? null },
    parameters: job.spec.parameters,
    environment: readJsonFile(join(dir, JOB_FILES.env)),
    backend: { name: job.backend, ref: job.backendRef },
    launch: readJsonFile(join(dir, JOB_FILES.launch)),
    exit: readJsonFile(join(dir, JOB_FILES.exit)),
    events: store.events(job.id),
    outputs,
    logs: logRecords(dir),
    catalog: runsOverPartitions(job.kind)
      ? { plan: readJsonFile(join(dir, JOB_FILES.plan)), run: readJsonFile(join(dir, JOB_FILES.catalogProvenance)) }
      : null,
    pipeline:
      job.kind === 'pipeline'
        ? { plan: readJsonFile(join(dir, JOB_FILES.pipelinePlan)), run: readJsonFile(join(dir, JOB_FILES.pipelineProvenance)) }
        : null,
    proxyVersion,
  };
}

function logRecords(dir: string): Provenance['logs'] {
  const file = join(dir, JOB_FILES.outputLog);
  try {
    return [{ name: JOB_FILES.outputLog, size: statSync(file).size, sha256: sha256(readFileSync(file)) }];
  } catch {
    return [];
  }
}
