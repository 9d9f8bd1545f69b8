/** The selectors the UI tests drive, as pinned in docs/contract.md. */
export const sel = {
  runCellsButton:
    '.jp-NotebookPanel-toolbar [data-jp-item-name="runCellsInBatch"]',
  runNotebookButton:
    '.jp-NotebookPanel-toolbar [data-jp-item-name="runNotebookInBatch"]',
  /** the file editor's toolbar item of "Run script in batch" (data-jp-item-name) */
  runScriptItem: 'runScriptInBatch',
  dialog: '.jp-Dialog:has(.jp-Batch-SubmitDialog)',
  dialogBody: '.jp-Batch-SubmitDialog',
  submitError: '.jp-Batch-SubmitError',
  quotaSummary: '.jp-Batch-QuotaSummary',
  sweepSummary: '.jp-Batch-SweepSummary',
  sidebar: '#user-batch-sidebar',
  gauge: (limit: string) => `.jp-Batch-QuotaGauge[data-limit="${limit}"]`,
  jobItem: '.jp-Batch-JobItem',
  jobName: '.jp-Batch-JobName',
  details: '.jp-Batch-JobDetails',
  log: '.jp-Batch-Log',
  logTitle: '.jp-Batch-LogTitle',
  sweepCounts: '.jp-Batch-SweepCounts',
  /** one square per sweep item, with data-item (0-based, as the API counts) and data-state (q r h d f c) */
  sweepItem: '.jp-Batch-SweepItem',
  cancel: 'button.jp-Batch-Cancel',
  outputLink: '.jp-Batch-Outputs .jp-Batch-OutputLink',
  error: '.jp-Batch-Error',
  provenance: '.jp-Batch-Provenance',
  toast: '.Toastify__toast',
  /** "Run over catalog": the plan panel (data-status loading|ok|error|incomplete, data-fits) */
  plan: '.jp-Batch-Plan',
  planLine: '.jp-Batch-PlanLine',
  /** the job details' progress line, e.g. "4 of 4 partitions done" */
  progress: '.jp-Batch-Progress',
  failedPartition: '.jp-Batch-FailedPartition',
  preview: '.jp-Batch-Preview',
  /** the file editor's toolbar item of "Run pipeline in batch" (data-jp-item-name) */
  runPipelineItem: 'runPipelineInBatch',
  /** "Run pipeline in batch": builds the quantum graph of the fields again */
  buildGraph: 'button.jp-Batch-BuildGraph',
  /** a pipeline run's table of quanta per task label: tr[data-label] with td[data-count=succeeded|failed|blocked|quanta] */
  pipelineProgress: '.jp-Batch-PipelineProgress',
  /** a failed quantum (data-label, data-data-id), its exception in the summary */
  failedQuantum: '.jp-Batch-FailedQuantum',
  /** the output run's datasets per dataset type */
  datasetCounts: '.jp-Batch-DatasetCounts'
};
